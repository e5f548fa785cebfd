"""Delivery of alerts in real time: Server-Sent Events to screens and Web Push to phones.

Both only reach who is inside the area. A screen or phone says where it is when it connects (a
district, or a point that is resolved to its district); an alert for districts goes to screens in
those districts, one for a polygon or a circle to screens whose point lies inside it (or, without a
point, whose district it touches). A screen that names no place is a city-wide screen and gets all.

The hub formats each alert once and hands the same text to every matching screen's bounded queue:
the fan-out to 10,000 screens is a loop of ``put_nowait``, not 10,000 serialisations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from smartseoul.city.service import CityIndex
from smartseoul.core import push
from smartseoul.core.bus import EventBus, Subscription
from smartseoul.core.events import Event
from smartseoul.core.idempotency import apply_once
from smartseoul.core.models import ProcessedEvent
from smartseoul.safety.alerts.areas import area_from_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.safety.alerts.models import Alert

log = logging.getLogger("smartseoul.alerts")
DELIVERED = ("safety.alert.issued.v1", "safety.alert.updated.v1", "safety.alert.cancelled.v1")
HEARTBEAT_SECONDS = 15.0
HEARTBEAT = b": heartbeat\n\n"
PUSH_CONSUMER = "alerts-push"
SEVERITY_KO = {"Extreme": "위급", "Severe": "긴급", "Moderate": "주의", "Minor": "안내", "Unknown": "알림"}


@dataclass(eq=False)
class Listener:
    """One open screen or phone: where it is, and its queue of SSE text."""

    district: str | None
    lat: float | None
    lon: float | None
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(100))

    @property
    def everywhere(self) -> bool:
        return self.district is None and self.lat is None


def alert_message(data: dict[str, Any], event_type: str, event_id: str) -> bytes:
    """The SSE text of one alert event (the same for every screen)."""
    alert: dict[str, Any] = {
        key: data.get(key)
        for key in (
            "alert_id",
            "identifier",
            "msg_type",
            "event",
            "severity",
            "urgency",
            "certainty",
            "headline_ko",
            "headline_en",
            "expires",
        )
    }
    alert["district_codes"] = data.get("area", {}).get("district_codes", [])
    alert["cap_url"] = f"/api/v1/alerts/{data.get('alert_id')}.cap"
    body = {"type": event_type, "id": event_id, "alert": alert}
    return f"id: {event_id}\ndata: {json.dumps(body, ensure_ascii=False, default=str)}\n\n".encode()


def current_message(alert: Alert) -> bytes:
    """An alert that was already out when the screen connected, in the live events' shape."""
    data = {
        "alert_id": alert.id,
        "identifier": alert.identifier,
        "msg_type": "Alert",
        "event": alert.event,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "certainty": alert.certainty,
        "headline_ko": alert.headline_ko,
        "headline_en": alert.headline_en,
        "expires": alert.expires_at.isoformat(),
        "area": alert.area,
    }
    return alert_message(data, "safety.alert.current", f"current-{alert.id}")


class AlertHub:
    """One bus subscription per process, fanned out to the screens inside each alert's area."""

    def __init__(self, bus: EventBus, index: CityIndex) -> None:
        self.bus = bus
        self.index = index
        self.listeners: set[Listener] = set()
        self._subscription: Subscription | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._subscription = await self.bus.subscribe("safety.alert.>", self._on_event)
        self._heartbeat = asyncio.create_task(self._beat())

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    async def _beat(self) -> None:
        """One timer for every screen (a timeout per screen would cost a task per message)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self._deliver(HEARTBEAT, list(self.listeners))

    @staticmethod
    def _deliver(text: bytes, listeners: Sequence[Listener]) -> None:
        for listener in listeners:
            if listener.queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    listener.queue.get_nowait()
            listener.queue.put_nowait(text)

    def listener(self, district: str | None, lat: float | None, lon: float | None) -> Listener:
        """A listener for a place; a point is also resolved to its district."""
        if lat is not None and lon is not None and district is None:
            district = self.index.district_at(lat, lon)
        return Listener(district, lat, lon)

    def matching(self, area_json: dict[str, Any], listeners: Sequence[Listener]) -> list[Listener]:
        """The listeners an area concerns (vectorised over the ones with a point)."""
        codes = set(area_json.get("district_codes", []))
        by_point = [x for x in listeners if x.lat is not None and x.lon is not None]
        if area_json.get("kind") == "districts" or not by_point:
            return [x for x in listeners if x.everywhere or x.district in codes]
        area = area_from_json(area_json, self.index)
        inside = area.contains_many(
            np.array([x.lat for x in by_point], dtype=float), np.array([x.lon for x in by_point], dtype=float)
        )
        found = [x for x, hit in zip(by_point, inside, strict=True) if hit]
        found += [x for x in listeners if x.lat is None and (x.everywhere or x.district in codes)]
        return found

    async def _on_event(self, event: Event) -> None:
        if event.type not in DELIVERED:
            return
        data = event.data()
        try:
            text = alert_message(data, event.type, str(event.id))
            targets = self.matching(data.get("area", {}), list(self.listeners))
        except (KeyError, TypeError, ValueError) as error:  # a malformed event from another process
            log.error("alert event %s not shown on screens: %s", event.id, error)
            return
        self._deliver(text, targets)

    async def listen(self, listener: Listener, backlog: Sequence[bytes]) -> AsyncIterator[bytes]:
        """The SSE bytes of one screen: the current alerts for its place, then live ones and the
        heartbeats (already encoded: the same bytes go to every screen)."""
        self.listeners.add(listener)
        try:
            yield b"retry: 3000\n: alerts\n\n"
            for text in backlog:
                yield text
            while True:
                yield await listener.queue.get()
        finally:
            self.listeners.discard(listener)


# ---------------------------------------------------------------- Web Push


def push_payload(data: dict[str, Any], event_type: str, lang: str) -> dict[str, Any]:
    """The notification a phone shows: title, body, the page to open, and a tag per alert (a
    redelivered or updated alert replaces its notification instead of adding one)."""
    alert_id = data["alert_id"]
    headline = data["headline_ko"] if lang == "ko" else data["headline_en"]
    severity = SEVERITY_KO.get(data["severity"], data["severity"]) if lang == "ko" else data["severity"]
    cancelled = "[해제]" if lang == "ko" else "[Cancelled]"
    prefix = cancelled if event_type.endswith(".cancelled.v1") else f"[{severity}]"
    return {
        "title": f"{prefix} {headline}",
        "body": data["event"],
        "url": f"/lang/{lang}?next=%2Falerts%3Falert%3D{alert_id}",  # opens in the subscriber's language
        "tag": f"alert-{alert_id}",
        "alert_id": alert_id,
        "kind": "alert",
    }


def _targets(session: Session, index: CityIndex, data: dict[str, Any]) -> dict[str, list[push.PushTarget]]:
    area = area_from_json(data["area"], index)
    groups: dict[str, list[push.PushTarget]] = {}
    # Every scope: a guardian-app subscription that gave a district or a location gets them too.
    for subscription in push.subscriptions_in_area(session, area.district_codes, area.contains, scope=None):
        groups.setdefault(subscription.language, []).append(push.target_of(subscription))
    return groups


async def push_alert(platform: Platform, event: Event) -> int:
    """Push one alert event to the subscriptions inside its area; returns how many were delivered.

    Idempotent: an event already handled is skipped; a redelivery in the short window between
    sending and recording sends again, which the phone folds into one notification (same tag).
    """
    if event.type not in DELIVERED:
        return 0
    from smartseoul.safety.alerts.service import city_index

    data = event.data()

    def find() -> dict[str, list[push.PushTarget]] | None:
        with platform.db.session() as session:
            if session.get(ProcessedEvent, (PUSH_CONSUMER, str(event.id))) is not None:
                return None
            return _targets(session, city_index(session), data)

    groups = await asyncio.to_thread(find)
    if groups is None:
        return 0
    keys = push.platform_vapid(platform)
    results: list[push.DeliveryResult] = []
    for lang, targets in groups.items():
        payload = push_payload(data, event.type, lang)
        results += await push.deliver(keys, targets, payload, ttl=platform.settings.alerts_push_ttl_seconds)
    await apply_once(
        platform.db, PUSH_CONSUMER, event, lambda session, _e: push.record_results(session, results)
    )
    delivered = sum(1 for r in results if r.outcome == "delivered")
    log.info("alert %s pushed: %d delivered of %d", data["alert_id"], delivered, len(results))
    return delivered
