"""Live alarms for guardians' phones (Server-Sent Events, the fallback where Web Push is off).

Each guardian's stream carries only the alarms of the persons linked to them, and no
coordinates: the app fetches the position through the API with its reason, so that read is
recorded like any other provision.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from smartseoul.core.bus import EventBus, Subscription
from smartseoul.core.events import Event
from smartseoul.web.stream import HEARTBEAT_SECONDS, event_summary, format_sse

PATTERN = "tracking.alarm.>"


def guardian_payload(event: Event) -> dict[str, Any]:
    """What a guardian's phone is told: which alarm, of whom, in words; never where."""
    return {
        "id": str(event.id),
        "type": event.type,
        "time": event.time.isoformat(),
        "person_id": getattr(event, "person_id", None),
        "alarm_id": getattr(event, "alarm_id", None),
        "kind": getattr(event, "kind", None),
        "emergency": bool(getattr(event, "emergency", False)),
        "role": getattr(event, "role", None),
        "summary": {"ko": event_summary(event, "ko"), "en": event_summary(event, "en")},
    }


class GuardianFanout:
    """One bus subscription per process, fanned out to the open streams by person."""

    def __init__(self, bus: EventBus, queue_size: int = 100) -> None:
        self.bus = bus
        self.queue_size = queue_size
        self.clients: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._subscription: Subscription | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        async with self._starting:
            if self._subscription is None:
                self._subscription = await self.bus.subscribe(PATTERN, self._on_event)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    async def _on_event(self, event: Event) -> None:
        person_id = getattr(event, "person_id", None)
        queues = self.clients.get(person_id) if isinstance(person_id, int) else None
        if not queues:
            return
        payload = guardian_payload(event)
        for queue in list(queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(payload)

    async def listen(self, person_ids: list[int]) -> AsyncIterator[str]:
        await self.start()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.queue_size)
        for person_id in person_ids:
            self.clients[person_id].add(queue)
        try:
            yield f"retry: 3000\n: connected, {len(person_ids)} persons\n\n"
            while True:
                try:
                    payload = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                yield format_sse(payload["id"], payload)
        finally:
            for person_id in person_ids:
                self.clients[person_id].discard(queue)
                if not self.clients[person_id]:
                    del self.clients[person_id]
