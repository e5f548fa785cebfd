"""Emergency bells on MQTT: ``smartseoul/bells/{id}/press``, ``.../heartbeat`` and ``.../tamper``.

The payload is a JSON object (``{}`` will do) with an optional ``at`` (ISO 8601 with offset; the
bell's own clock, used when it is within a minute of ours) and, for tamper, ``detail``. A malformed
payload, an unknown topic or an unknown bell is logged with the reason and ignored: one broken bell
never stops the others. The subscriber reconnects on its own with a growing pause.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from smartseoul.core import mqtt
from smartseoul.core.auth import InvalidInput
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.safety.incidents import bells
from smartseoul.safety.incidents.runtime import run_and_publish

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

log = logging.getLogger("smartseoul.incidents.mqtt")
TOPIC = "smartseoul/bells/+/+"
ACTIONS = ("press", "heartbeat", "tamper")
CLOCK_SKEW = timedelta(seconds=60)


class BadMessage(ValueError):
    """A bell message that cannot be used; the text is the reason logged."""


def parse(topic: str, payload: bytes) -> tuple[str, str, datetime, dict[str, Any]]:
    """(bell id, action, time, payload object) of a bell message, or BadMessage saying why not."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[:2] != ["smartseoul", "bells"] or parts[3] not in ACTIONS:
        raise BadMessage(f"unexpected topic {topic!r}")
    try:
        bell_id = bells.validate_bell_id(parts[2])
    except InvalidInput as error:
        raise BadMessage(str(error)) from None
    try:
        body = json.loads(payload or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadMessage(f"payload is not JSON ({error})") from None
    if not isinstance(body, dict):
        raise BadMessage("payload must be a JSON object")
    return bell_id, parts[3], _time(body.get("at")), body


def _time(value: Any) -> datetime:
    """The bell's timestamp when it is plausible, else the time of arrival."""
    now = utcnow()
    if value is None:
        return now
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        raise BadMessage(f"at: {value!r} is not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        raise BadMessage("at: the time needs an offset (e.g. +09:00 or Z)")
    return stamp if abs(stamp - now) <= CLOCK_SKEW else now


async def handle(platform: Platform, topic: str, payload: bytes) -> list[Event]:
    """Act on one bell message; an empty list when it was ignored (and logged)."""
    try:
        bell_id, action, at, body = parse(topic, payload)
    except BadMessage as error:
        log.warning("bell message ignored (%s): %s", topic, error)
        return []
    settings = platform.settings

    def work(session: Session) -> list[Event]:
        if action == "press":
            return bells.press(session, settings, bell_id, at)
        if action == "tamper":
            return bells.tamper(session, settings, bell_id, str(body.get("detail", ""))[:200], at)
        return bells.heartbeat(session, bell_id, at)

    try:
        return await run_and_publish(platform, work)
    except bells.UnknownBell:
        log.warning("bell message ignored (%s): unknown bell %s", topic, bell_id)
        return []


async def subscribe_forever(platform: Platform, url: str, ready: asyncio.Event | None = None) -> None:
    """Run until cancelled: take bell messages from the broker (QoS 1) and act on them."""

    async def on_message(topic: str, payload: bytes) -> None:
        await handle(platform, topic, payload)

    await mqtt.subscribe_forever(url, TOPIC, f"smartseoul-bells-{id(platform):x}", on_message, ready)
