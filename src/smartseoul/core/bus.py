"""The event bus: one interface, an in-process implementation and a NATS JetStream one.

Both give the same guarantees, checked by one contract suite: typed events, at-least-once
delivery to durable consumers (acknowledged only after the handler returns), redelivery after a
handler failure up to ``max_deliver`` then a dead letter that is logged (never a silent drop),
de-duplication of a re-published event id, and durable consumers that resume where they stopped.
Ephemeral subscriptions (screens, SSE) see only what is published while they listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from smartseoul.core.events import Event, MalformedEvent, decode_event, subject_matches

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]


class BusUnavailable(RuntimeError):
    """The configured bus cannot be reached."""


@dataclass
class DeadLetter:
    """An event a consumer failed to handle ``max_deliver`` times."""

    consumer: str
    event: Event
    error: str


class Subscription(Protocol):
    async def stop(self) -> None: ...


class EventBus(Protocol):
    """What every domain may rely on."""

    dead_letters: list[DeadLetter]

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_deliver: int = 5
    ) -> Subscription: ...

    async def health(self) -> None:
        """Raise BusUnavailable if the bus cannot deliver now."""


def _retry_delay(attempt: int) -> float:
    return min(0.05 * 2 ** (attempt - 1), 2.0)


def _record_dead_letter(bus: EventBus, consumer: str, event: Event, error: BaseException) -> None:
    log.error("dead letter: consumer %s gave up on event %s (%s): %s", consumer, event.id, event.type, error)
    bus.dead_letters.append(DeadLetter(consumer, event, repr(error)))
    del bus.dead_letters[:-1000]


# ---------------------------------------------------------------- in-process


@dataclass
class _Consumer:
    pattern: str
    position: int  # sequence of the last acknowledged event
    active: bool = False


@dataclass
class _InProcessSubscription:
    bus: InProcessBus
    task: asyncio.Task[None]
    durable: str | None
    stopped: bool = field(default=False)

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.durable and self.durable in self.bus.consumers:
            self.bus.consumers[self.durable].active = False
        self.bus.subscriptions.discard(self)

    def __hash__(self) -> int:
        return id(self)


class InProcessBus:
    """An in-memory log with consumer positions, the JetStream model in one process."""

    def __init__(self, max_events: int = 100_000, duplicate_window: int = 10_000) -> None:
        self.log: deque[tuple[int, Event]] = deque(maxlen=max_events)
        self.sequence = 0
        self.consumers: dict[str, _Consumer] = {}
        self.subscriptions: set[_InProcessSubscription] = set()
        self.dead_letters: list[DeadLetter] = []
        self._recent_ids: deque[str] = deque(maxlen=duplicate_window)
        self._recent_set: set[str] = set()
        self._changed = asyncio.Event()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for subscription in list(self.subscriptions):
            await subscription.stop()

    async def health(self) -> None:
        return None

    async def publish(self, event: Event) -> None:
        key = str(event.id)
        if key in self._recent_set:
            return
        if len(self._recent_ids) == self._recent_ids.maxlen:
            self._recent_set.discard(self._recent_ids[0])
        self._recent_ids.append(key)
        self._recent_set.add(key)
        self.sequence += 1
        self.log.append((self.sequence, event))
        self._changed.set()

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_deliver: int = 5
    ) -> Subscription:
        if durable:
            consumer = self.consumers.get(durable)
            if consumer is None or consumer.pattern != pattern:
                consumer = _Consumer(pattern, position=self._first_sequence() - 1)
                self.consumers[durable] = consumer
            if consumer.active:
                raise RuntimeError(f"durable consumer {durable!r} is already active")
            consumer.active = True
        else:
            consumer = _Consumer(pattern, position=self.sequence)
        name = durable or f"ephemeral:{pattern}"
        task = asyncio.create_task(self._deliver(consumer, handler, name, max_deliver))
        subscription = _InProcessSubscription(self, task, durable)
        self.subscriptions.add(subscription)
        return subscription

    def _first_sequence(self) -> int:
        return self.log[0][0] if self.log else self.sequence + 1

    def _pending(self, consumer: _Consumer) -> list[tuple[int, Event]]:
        first = self._first_sequence()
        start = max(consumer.position + 1 - first, 0)
        return [self.log[i] for i in range(start, len(self.log))]

    async def _deliver(self, consumer: _Consumer, handler: Handler, name: str, max_deliver: int) -> None:
        while True:
            pending = self._pending(consumer)
            if not pending:
                self._changed.clear()
                await self._changed.wait()
                continue
            for sequence, event in pending:
                if subject_matches(consumer.pattern, event.type):
                    await self._handle(handler, name, event, max_deliver)
                consumer.position = sequence

    async def _handle(self, handler: Handler, name: str, event: Event, max_deliver: int) -> None:
        for attempt in range(1, max_deliver + 1):
            try:
                await handler(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if attempt == max_deliver:
                    _record_dead_letter(self, name, event, error)
                    return
                log.warning("consumer %s failed on %s (attempt %d): %s", name, event.id, attempt, error)
                await asyncio.sleep(_retry_delay(attempt))


# ---------------------------------------------------------------- NATS JetStream


@dataclass
class _NatsSubscription:
    inner: object

    async def stop(self) -> None:
        # Unsubscribing a durable push consumer keeps its state on the server (it is not deleted).
        with contextlib.suppress(Exception):
            await self.inner.unsubscribe()  # type: ignore[attr-defined]


class NatsBus:
    """JetStream: one stream holding ``<prefix>.<event type>`` subjects, durable push consumers."""

    def __init__(self, url: str, stream: str = "SMARTSEOUL", connect_timeout: float = 3.0) -> None:
        self.url = url
        self.stream = stream
        self.prefix = stream.lower()
        self.connect_timeout = connect_timeout
        self.dead_letters: list[DeadLetter] = []
        self._nc: object | None = None
        self._js: object | None = None

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.{event_type}"

    async def start(self) -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        try:
            self._nc = await nats.connect(
                self.url,
                connect_timeout=self.connect_timeout,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                reconnect_time_wait=0.5,
            )
        except Exception as error:
            raise BusUnavailable(f"NATS at {self.url} unreachable: {error or type(error).__name__}") from None
        self._js = self._nc.jetstream()  # type: ignore[attr-defined]
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=120.0,
            max_age=7 * 86400.0,
        )
        try:
            await self._js.add_stream(config)  # type: ignore[attr-defined]
        except Exception as error:
            raise BusUnavailable(f"NATS at {self.url}: JetStream stream {self.stream}: {error}") from None

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()  # type: ignore[attr-defined]
            self._nc = None

    async def delete_stream(self) -> None:
        """Remove the stream (tests and `bench`)."""
        await self._js.delete_stream(self.stream)  # type: ignore[union-attr]

    async def health(self) -> None:
        if self._nc is None or not self._nc.is_connected:  # type: ignore[attr-defined]
            raise BusUnavailable(f"NATS at {self.url} not connected")
        try:
            await self._js.stream_info(self.stream)  # type: ignore[union-attr]
        except Exception as error:
            raise BusUnavailable(f"NATS at {self.url}: {error or type(error).__name__}") from None

    async def publish(self, event: Event) -> None:
        await self._js.publish(  # type: ignore[union-attr]
            self.subject(event.type), event.to_bytes(), headers={"Nats-Msg-Id": str(event.id)}
        )

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_deliver: int = 5
    ) -> Subscription:
        subject = self.subject(pattern)
        if durable is None:
            # Ephemeral listeners (screens) need no history: a core subscription sees every
            # message the stream accepts, without a server-side consumer to clean up.
            async def on_core(msg: object) -> None:
                event = self._decode(msg, "ephemeral")
                if event is not None:
                    with contextlib.suppress(Exception):
                        await handler(event)

            return _NatsSubscription(await self._nc.subscribe(subject, cb=on_core))  # type: ignore[attr-defined]
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        async def on_message(msg: object) -> None:
            await self._on_durable(msg, handler, durable, max_deliver)

        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=max_deliver,
            ack_wait=30.0,
            filter_subject=subject,
        )
        inner = await self._js.subscribe(  # type: ignore[union-attr]
            subject, durable=durable, cb=on_message, manual_ack=True, config=config, stream=self.stream
        )
        return _NatsSubscription(inner)

    def _decode(self, msg: object, consumer: str) -> Event | None:
        try:
            return decode_event(msg.data)  # type: ignore[attr-defined]
        except MalformedEvent as error:
            log.error("consumer %s: malformed message on %s: %s", consumer, msg.subject, error)  # type: ignore[attr-defined]
            return None

    async def _on_durable(self, msg: object, handler: Handler, name: str, max_deliver: int) -> None:
        event = self._decode(msg, name)
        if event is None:
            await msg.term()  # type: ignore[attr-defined]
            return
        try:
            await handler(event)
        except Exception as error:
            delivered = msg.metadata.num_delivered  # type: ignore[attr-defined]
            if delivered >= max_deliver:
                _record_dead_letter(self, name, event, error)
                await msg.term()  # type: ignore[attr-defined]
            else:
                log.warning("consumer %s failed on %s (attempt %d): %s", name, event.id, delivered, error)
                await msg.nak(delay=_retry_delay(delivered))  # type: ignore[attr-defined]
            return
        await msg.ack()  # type: ignore[attr-defined]


def make_bus(url: str, stream: str = "SMARTSEOUL") -> EventBus:
    """The bus named by ``SMARTSEOUL_BUS_URL``."""
    if url.startswith("memory://"):
        return InProcessBus()
    return NatsBus(url, stream=stream)
