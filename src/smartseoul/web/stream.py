"""Server-Sent Events: one bus subscription per process fanned out to every open screen.

A slow screen never slows the bus: each client has a bounded queue and loses its oldest
undelivered events first. The last events are kept so a new or reconnecting screen
(``Last-Event-ID``) starts with what it missed instead of an empty ticker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from smartseoul.core.bus import EventBus, Subscription
from smartseoul.core.events import Event

HEARTBEAT_SECONDS = 15.0


def event_summary(event: Event, lang: str) -> str:
    summary = getattr(event, "summary", None)
    if callable(summary):
        return str(summary(lang))
    return event.type


def sse_payload(event: Event) -> dict[str, Any]:
    body = event.envelope()
    body["summary"] = {"ko": event_summary(event, "ko"), "en": event_summary(event, "en")}
    return body


def format_sse(event_id: str, data: dict[str, Any]) -> str:
    """One SSE message; the event type travels inside the data so one ``onmessage`` sees every type."""
    return f"id: {event_id}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class StreamHub:
    """Fan-out of bus events to Server-Sent-Event clients."""

    def __init__(self, bus: EventBus, pattern: str = ">", backlog: int = 50, queue_size: int = 500) -> None:
        self.bus = bus
        self.pattern = pattern
        self.recent: deque[dict[str, Any]] = deque(maxlen=backlog)
        self.queue_size = queue_size
        self.clients: set[asyncio.Queue[dict[str, Any]]] = set()
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self.bus.subscribe(self.pattern, self._on_event)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    async def _on_event(self, event: Event) -> None:
        if not getattr(event, "on_screens", True):
            return
        payload = sse_payload(event)
        self.recent.append(payload)
        for queue in list(self.clients):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(payload)

    def _backlog_after(self, last_event_id: str | None) -> list[dict[str, Any]]:
        items = list(self.recent)
        if last_event_id:
            ids = [item["id"] for item in items]
            if last_event_id in ids:
                return items[ids.index(last_event_id) + 1 :]
        return items

    async def listen(self, last_event_id: str | None = None) -> AsyncIterator[str]:
        """The SSE text of one client: the backlog, then live events, with heartbeats."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.queue_size)
        self.clients.add(queue)
        try:
            yield f"retry: 3000\n: connected, {len(self.recent)} recent events\n\n"
            for payload in self._backlog_after(last_event_id):
                yield format_sse(payload["id"], payload)
            while True:
                try:
                    payload = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                yield format_sse(payload["id"], payload)
        finally:
            self.clients.discard(queue)
