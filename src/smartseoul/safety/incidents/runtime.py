"""The desk's moving parts in a running process: bus consumers, the timer task and the outbox worker.

Consumers are durable and idempotent (``apply_once``): a redelivered alarm never opens a second
incident. The timer task and the outbox worker read their deadlines from the database, so a restart
(or a second process on PostgreSQL, thanks to ``SKIP LOCKED``) picks up where the last one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from sqlalchemy.orm import Session

from smartseoul.core.events import Event
from smartseoul.core.idempotency import apply_once
from smartseoul.safety.incidents import bells, handovers, service
from smartseoul.safety.incidents.events import HandoverChanged
from smartseoul.safety.incidents.intake import MAPPERS
from smartseoul.safety.incidents.models import Incident

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.bus import Subscription

log = logging.getLogger("smartseoul.incidents")
T = TypeVar("T")
WAKE_KEY = "incidents.outbox_wake"


async def publish_all(platform: Platform, events: list[Event]) -> None:
    for event in events:
        await platform.bus.publish(event)
    if any(isinstance(e, HandoverChanged) and e.status in ("queued", "realert") for e in events):
        wake_outbox(platform)


async def in_transaction(platform: Platform, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one committed transaction, off the event loop."""

    def run() -> T:
        with platform.db.session() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def run_and_publish(platform: Platform, work: Callable[[Session], list[Event]]) -> list[Event]:
    events = await in_transaction(platform, work)
    await publish_all(platform, events)
    return events


# ---------------------------------------------------------------- consumers


def _payload(event: Event) -> dict[str, Any]:
    return event.data()


async def on_intake_event(platform: Platform, event: Event) -> None:
    """Any mapped source event: correlate it into the desk."""
    mapper = MAPPERS.get(event.type)
    if mapper is None:
        return
    item = mapper(_payload(event), event.time)
    if item is None:
        return
    produced: list[Event] = []

    def work(session: Session, _event: Event) -> None:
        produced.extend(service.intake(session, platform.settings, item).events)

    if await apply_once(platform.db, "incidents.intake", event, work):
        await publish_all(platform, produced)


async def on_cameras_aimed(platform: Platform, event: Event) -> None:
    """The cctv domain turned cameras to an incident: show them on its page."""
    data = _payload(event)
    produced: list[Event] = []

    def work(session: Session, _event: Event) -> None:
        incident = session.get(Incident, int(data.get("incident_id", 0)))
        if incident is None:
            return
        produced.extend(
            service.attach_cameras(
                session,
                incident,
                [int(c) for c in data.get("camera_ids", [])],
                [int(c) for c in data.get("ptz_camera_ids", [])],
            )
        )

    if await apply_once(platform.db, "incidents.cameras", event, work):
        await publish_all(platform, produced)


async def on_alarm_acknowledged(platform: Platform, event: Event) -> None:
    """A guardian (or an operator elsewhere) acknowledged the SOS: that acknowledges the incident."""
    data = _payload(event)
    produced: list[Event] = []

    def work(session: Session, _event: Event) -> None:
        who = f"{data.get('role', 'guardian')}:{data.get('user_id')}"
        for incident in service.incidents_of_alarm(session, f"tracking.alarm:{data.get('alarm_id')}"):
            service.add_timeline(session, incident.id, "ack_guardian", who, "alarm acknowledged in the app")
            produced.extend(service.acknowledge(session, incident, who, "acknowledged in the guardian app"))

    if await apply_once(platform.db, "incidents.alarm_ack", event, work):
        await publish_all(platform, produced)


async def subscribe_all(platform: Platform) -> list[Subscription]:
    async def intake_handler(event: Event) -> None:
        await on_intake_event(platform, event)

    async def aimed_handler(event: Event) -> None:
        await on_cameras_aimed(platform, event)

    async def ack_handler(event: Event) -> None:
        await on_alarm_acknowledged(platform, event)

    subscriptions = []
    for event_type in MAPPERS:
        name = "incidents-intake-" + event_type.replace(".", "-")
        subscriptions.append(await platform.bus.subscribe(event_type, intake_handler, durable=name))
    subscriptions.append(
        await platform.bus.subscribe("safety.cameras.aimed.v1", aimed_handler, durable="incidents-cameras")
    )
    subscriptions.append(
        await platform.bus.subscribe(
            "tracking.alarm.acknowledged.v1", ack_handler, durable="incidents-alarm-ack"
        )
    )
    return subscriptions


# ---------------------------------------------------------------- timers


async def tick(platform: Platform, now: datetime | None = None) -> list[Event]:
    """One pass of every deadline: escalations, bell heartbeats, unacknowledged hand-overs."""
    settings = platform.settings
    events: list[Event] = []
    for check in (service.check_escalations, bells.check_heartbeats, handovers.check_realerts):
        events += await run_and_publish(platform, lambda session, c=check: c(session, settings, now))  # type: ignore[misc]
    return events


async def timers_forever(platform: Platform) -> None:
    while True:
        try:
            await tick(platform)
        except Exception:
            log.exception("incident timers: a pass failed; trying again")
        await asyncio.sleep(platform.settings.incidents_timer_interval_s)


# ---------------------------------------------------------------- outbox


def wake_outbox(platform: Platform) -> None:
    wake = platform.cache.get(WAKE_KEY)
    if isinstance(wake, asyncio.Event):
        wake.set()


async def deliver_once(platform: Platform, client: httpx.AsyncClient, now: datetime | None = None) -> int:
    """Claim the due hand-overs, post them at once, record each attempt; how many were tried."""
    deliveries = await in_transaction(platform, lambda session: handovers.claim_due(session, now))
    if not deliveries:
        return 0
    results = await handovers.gather_posts(client, deliveries, platform.settings.incidents_handover_timeout_s)

    def record(session: Session) -> list[Event]:
        events: list[Event] = []
        for delivery, result in zip(deliveries, results, strict=True):
            events += handovers.record_attempt(session, platform.settings, delivery, result, now)
        return events

    await run_and_publish(platform, record)
    return len(deliveries)


async def outbox_forever(platform: Platform) -> None:
    wake = asyncio.Event()
    platform.cache[WAKE_KEY] = wake
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await deliver_once(platform, client)
            except Exception:
                log.exception("hand-over outbox: a pass failed; trying again")
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), platform.settings.incidents_timer_interval_s)
