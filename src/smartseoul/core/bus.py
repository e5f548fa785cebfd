"""The event bus: one interface, an in-process implementation and a NATS JetStream one.

Both give the same guarantees, checked by one contract suite (``core/tests/test_bus_contract.py``):

* typed events: a subscriber gets the event's class back, or a GenericEvent for a type it does not
  know; patterns are NATS subjects over event types (``city.*.loaded.v1``, ``tracking.>``);
* at-least-once delivery: an event is acknowledged only after its handler returns; a handler that
  raises gets the event again, up to ``max_deliver`` attempts, then the event becomes a dead letter
  in ``dead_letters`` and in the log (never a silent drop), and later events keep flowing;
* de-duplication: publishing an event id again within the window delivers it once;
* durable consumers (``durable="name"``) get the history and resume where they stopped, across a
  restart: what they had acknowledged does not come again, nothing after it is lost, and an event
  cut short by ``stop()`` comes again at once. One subscription per durable name in a process; a
  durable subscribed again with another pattern starts over from the oldest event kept;
* ephemeral subscriptions (``durable=None``: screens, SSE) get only what is published after they
  subscribe, with the same retries;
* transient events (``Event.transient``: heartbeats, live boxes) are never stored: they go to the
  ephemeral subscriptions listening when they are published, once, without de-duplication or
  retries (a handler that fails on one is logged), and never to a durable consumer. A durable
  exists to miss nothing, which an event kept nowhere cannot promise; and several processes share
  a durable, one event to one of them, where a transient event is for every listener. A consumer
  that needs them subscribes ephemerally. On NATS they go by core NATS outside the stream, so
  they may overtake, or be overtaken by, stored events on a subscription matching both;
  in-process they keep the publishing order.

At-least-once means a consumer with side effects must be idempotent: see
:mod:`smartseoul.core.idempotency`. The in-process bus retries a failed event in place, so the
events behind it wait their turn; NATS redelivers it after a short delay while the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from smartseoul.core.events import Event, MalformedEvent, decode_event, event_types, subject_matches

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription as NatsSubscription
    from nats.js import JetStreamContext

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
    async def stop(self) -> None:
        """Stop delivering; a durable consumer keeps its place for the next subscription."""


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
    delay: float = min(0.05 * 2 ** (attempt - 1), 2.0)
    return delay


def _check_max_deliver(max_deliver: int) -> None:
    if max_deliver < 1:
        raise ValueError(f"max_deliver must be at least 1, not {max_deliver}")


DURABLE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_durable(durable: str | None) -> None:
    """Durable names NATS accepts, checked by both buses so the in-process one cannot hide a name
    that would stop the server on NATS (no dots, wildcards or spaces)."""
    if durable is not None and not DURABLE_NAME.match(durable):
        raise ValueError(f"durable consumer name {durable!r}: use letters, digits, '-' and '_' (1-64)")


def _consumer_name(pattern: str, durable: str | None) -> str:
    """The name a consumer has in logs and dead letters."""
    return durable or f"ephemeral:{pattern}"


def _record_dead_letter(bus: EventBus, consumer: str, event: Event, error: BaseException) -> None:
    log.error("dead letter: consumer %s gave up on event %s (%s): %s", consumer, event.id, event.type, error)
    bus.dead_letters.append(DeadLetter(consumer, event, repr(error)))
    del bus.dead_letters[:-1000]


async def _handle_transient(handler: Handler, name: str, event: Event) -> None:
    """One attempt: a transient event that failed is stale by the time a retry would come."""
    try:
        await handler(event)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        log.warning(
            "consumer %s failed on transient %s (%s), not retried: %s", name, event.id, event.type, error
        )


# ---------------------------------------------------------------- in-process


LIVE_BACKLOG = 10_000  # transient events waiting for one slow subscriber before the oldest go


@dataclass
class _Consumer:
    pattern: str
    position: int  # sequence of the last acknowledged event
    active: bool = False
    # Transient events for an ephemeral subscription, each with the sequence of the last stored
    # event published before it, so it is handled in publishing order among the stored ones.
    live: deque[tuple[int, Event]] = field(default_factory=lambda: deque(maxlen=LIVE_BACKLOG))
    dropped: int = 0


@dataclass
class _InProcessSubscription:
    bus: InProcessBus
    task: asyncio.Task[None]
    durable: str | None
    consumer: _Consumer
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
    """An in-memory log with consumer positions, the JetStream model in one process.

    A consumer's position moves past an event only once its handler returned (or the event became
    a dead letter), so a subscription stopped in the middle of an event gets it again on resume.
    """

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
        if event.transient:
            self._publish_live(event)
            return
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

    def _publish_live(self, event: Event) -> None:
        """Hand a transient event to the ephemeral subscriptions listening now; keep it nowhere,
        so it neither pushes real events out of the history nor takes a place in the
        de-duplication window."""
        for subscription in self.subscriptions:
            consumer = subscription.consumer
            if subscription.durable or not subject_matches(consumer.pattern, event.type):
                continue
            if len(consumer.live) == consumer.live.maxlen:
                consumer.dropped += 1
                if consumer.dropped % 1000 == 1:
                    log.warning(
                        "consumer ephemeral:%s is slow: %d transient events dropped",
                        consumer.pattern,
                        consumer.dropped,
                    )
            consumer.live.append((self.sequence, event))
        self._changed.set()

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_deliver: int = 5
    ) -> Subscription:
        _check_max_deliver(max_deliver)
        check_durable(durable)
        if durable:
            consumer = self.consumers.get(durable)
            if consumer is not None and consumer.active:
                raise RuntimeError(f"durable consumer {durable!r} is already active")
            if consumer is None or consumer.pattern != pattern:
                consumer = _Consumer(pattern, position=self._first_sequence() - 1)
                self.consumers[durable] = consumer
            consumer.active = True
        else:
            consumer = _Consumer(pattern, position=self.sequence)
        name = _consumer_name(pattern, durable)
        task = asyncio.create_task(self._deliver(consumer, handler, name, max_deliver))
        subscription = _InProcessSubscription(self, task, durable, consumer)
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
            if not pending and not consumer.live:
                self._changed.clear()
                await self._changed.wait()
                continue
            for sequence, event in pending:
                await self._deliver_live(consumer, handler, name, before=sequence)
                if subject_matches(consumer.pattern, event.type):
                    await self._handle(handler, name, event, max_deliver)
                consumer.position = sequence
            await self._deliver_live(consumer, handler, name, before=consumer.position + 1)

    async def _deliver_live(self, consumer: _Consumer, handler: Handler, name: str, before: int) -> None:
        """The transient events published before the stored event of sequence ``before``."""
        while consumer.live and consumer.live[0][0] < before:
            _after, event = consumer.live.popleft()
            await _handle_transient(handler, name, event)

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

API_PREFIX = "$JS.API"
PULL_BATCH = 64  # events taken at once when they are there; handled in order before the next request
PULL_EXPIRES = 2.0  # seconds a pull request waits on the server for an event
ACK_WAIT = 30.0  # seconds before the server sends an unacknowledged event again
EPHEMERAL_IDLE = 3600.0  # the server removes an ephemeral consumer a crashed process left after this
RETRY_AFTER = 1.0  # seconds before pulling again after the server refused a pull request
LIVE_PENDING = 10_000  # transient events a slow subscription may hold; the client drops (and logs) more
LIVE_SUFFIX = "-live"  # transient subjects: ``<prefix>-live.<type>``, outside the stream's ``<prefix>.>``


def _safe_url(url: str) -> str:
    """The URL with any password or token masked, fit for a log line or an error message."""
    parts = urlsplit(url)
    if parts.password is None and not parts.username:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***" if parts.password is not None else "***"
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def _status(msg: Msg) -> str | None:
    """The status of a message from the server about a pull request (None for an event)."""
    return msg.headers.get("Status") if msg.headers else None


@dataclass
class _PullRequest:
    """One pull request sent to the server, until it is satisfied, expires or is refused."""

    reply: str
    left: int  # events it may still bring
    ends: float  # loop time after which it is over even without a word from the server
    deadline: asyncio.TimerHandle  # wakes the consumer at ``ends``
    got: int = 0


class _NatsConsumer:
    """One JetStream pull consumer, served by one task: pull, handle in order, acknowledge each.

    Pulling, rather than a push subscription, means the server sends only what was asked for, so
    ``stop()`` knows every event it holds: it cancels the handler, drains the inbox and gives back
    (naks) the event in hand and those behind it, which the next subscription gets at once
    instead of after ``ACK_WAIT``.

    While events keep coming it asks for whatever is there (``no_wait``, up to ``PULL_BATCH``,
    the next batch while it handles this one); when there is nothing, it waits on the server for
    one event (``PULL_EXPIRES`` at a time). So a request is left waiting on the server only while
    nothing is in hand. That matters: a NATS server (seen with 2.9) that redelivers an event
    while its only waiting requests belong to an inbox that is gone loses the event until
    ``ACK_WAIT`` and sends an older one again, so ``stop()`` gives events back only once its
    last request is over.
    """

    def __init__(
        self, bus: NatsBus, consumer: str, name: str, handler: Handler, max_deliver: int, durable: str | None
    ) -> None:
        self.bus = bus
        self.consumer = consumer
        self.name = name
        self.handler = handler
        self.max_deliver = max_deliver
        self.durable = durable
        self.queue: deque[Msg] = deque()
        self.current: Msg | None = None
        self.wakeup = asyncio.Event()
        self.request: _PullRequest | None = None
        self.request_over = asyncio.Event()
        self.request_over.set()
        self.requests = 0
        self.last_got = 1  # start by asking for what is there
        self.refused = False  # the server turned the last request down
        self.retrying: set[int] = set()  # stream sequences given back with a delay, not seen since
        self.stopped = False
        self.inbox = ""
        self.sub: NatsSubscription | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connection = self.bus._connection()
        self.inbox = connection.new_inbox()
        self.sub = await connection.subscribe(f"{self.inbox}.*", cb=self._arrived)
        self.task = asyncio.create_task(self._run(), name=f"bus consumer {self.name}")

    async def _arrived(self, msg: Msg) -> None:
        status = _status(msg)
        request = self.request
        if status is None:  # an event; it comes on its own subject, so it counts against the open request
            self.queue.append(msg)
            if self.retrying:
                self.retrying.discard(msg.metadata.sequence.stream)
            if request is not None:
                request.got += 1
                request.left -= 1
                if request.left <= 0:
                    self._request_over()
        elif status == "100":  # an idle heartbeat: the request is still open
            return
        elif (
            request is not None and msg.subject == request.reply
        ):  # 404 nothing there, 408 expired; anything else: the server refused it
            if status not in ("404", "408"):
                description = (msg.headers or {}).get("Description", "")
                log.warning("consumer %s: pull refused by NATS (%s %s)", self.name, status, description)
                self.refused = True
            self._request_over()
        self.wakeup.set()

    def _request_over(self) -> None:
        if self.request is not None:
            self.last_got = self.request.got
            self.request.deadline.cancel()
        self.request = None
        self.request_over.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                running_low = self.last_got and len(self.queue) <= PULL_BATCH
                if self.request is None and (not self.queue or running_low):
                    await self._pull()
                if self.queue:
                    self.current = self.queue.popleft()
                    await self._handle(self.current)
                    self.current = None
                    continue
                self.wakeup.clear()
                if self.queue or self.request is None:
                    continue
                await self.wakeup.wait()  # an event, the end of the request, or its deadline
                if self.request is not None and loop.time() >= self.request.ends:
                    self._request_over()  # lost in a reconnection: it never got its 408
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the connection is down: wait for the client to reconnect
                self.current = None
                log.warning("consumer %s: %s", self.name, error or type(error).__name__)
                await asyncio.sleep(RETRY_AFTER)

    async def _pull(self) -> None:
        if self.refused:
            self.refused = False
            await asyncio.sleep(RETRY_AFTER)
        loop = asyncio.get_running_loop()
        self.requests += 1
        reply = f"{self.inbox}.{self.requests}"
        body: dict[str, object]
        if self.last_got or self.queue:  # events were coming: take what is there now
            batch, ends = PULL_BATCH, loop.time() + PULL_EXPIRES
            body = {"batch": batch, "no_wait": True}
        else:  # nothing there: wait on the server for the next event
            batch, ends = 1, loop.time() + PULL_EXPIRES + 1.0
            body = {"batch": batch, "expires": int(PULL_EXPIRES * 1e9)}
        self.request = _PullRequest(reply, batch, ends, loop.call_at(ends, self.wakeup.set))
        self.request_over.clear()
        subject = f"{API_PREFIX}.CONSUMER.MSG.NEXT.{self.bus.stream}.{self.consumer}"
        await self.bus._connection().publish(subject, json.dumps(body).encode(), reply=reply)
        await asyncio.sleep(0)  # let the client send it now, while the events in hand are handled

    async def _handle(self, msg: Msg) -> None:
        try:
            event = decode_event(msg.data)
        except MalformedEvent as error:
            log.error("consumer %s: malformed message on %s terminated: %s", self.name, msg.subject, error)
            await msg.term()
            return
        try:
            await self.handler(event)
        except Exception as error:
            delivered = msg.metadata.num_delivered
            if delivered >= self.max_deliver:
                _record_dead_letter(self.bus, self.name, event, error)
                await msg.term()
            else:
                log.warning(
                    "consumer %s failed on %s (attempt %d): %s", self.name, event.id, delivered, error
                )
                self.retrying.add(msg.metadata.sequence.stream)
                await msg.nak(delay=_retry_delay(delivered))
            return
        await msg.ack()

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.bus._consumers.discard(self)
        if self.durable is not None:
            self.bus._active_durables.discard(self.durable)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        connection = self.bus._nc
        if connection is None or connection.is_closed:
            return
        request = self.request
        if self.durable is not None and request is not None and (self.current or self.queue or self.retrying):
            # Events will be given back or redelivered: let the open request end first (see above).
            remaining = request.ends - asyncio.get_running_loop().time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.request_over.wait(), max(remaining, 0.01))
        if self.sub is not None:
            with contextlib.suppress(Exception):
                # Whatever the server sent before it saw the UNSUB still lands in the queue.
                await self.sub.drain()  # type: ignore[no-untyped-call]
        if self.request is not None:
            self.request.deadline.cancel()
        held = [self.current] if self.current is not None else []
        with contextlib.suppress(Exception):
            if self.durable is None:
                await self.bus._jetstream().delete_consumer(self.bus.stream, self.consumer)
                return
            for msg in [*held, *self.queue]:
                await msg.nak()
            self.queue.clear()
            await connection.flush()  # acks and naks are on the server before a resume

    def __hash__(self) -> int:
        return id(self)


def _one_at_a_time(handler: Handler) -> Handler:
    """The handler, never running twice at once: a subscription matching stored and transient
    events gets both from two tasks, and handlers are written for one event at a time."""
    lock = asyncio.Lock()

    async def serialised(event: Event) -> None:
        async with lock:
            await handler(event)

    return serialised


class _LiveSubscription:
    """Transient events for an ephemeral subscription, by core NATS: what is published while it
    listens, once each; nothing is acknowledged, kept or sent again."""

    def __init__(self, bus: NatsBus, subject: str, name: str, handler: Handler) -> None:
        self.bus = bus
        self.subject = subject
        self.name = name
        self.handler = handler
        self.stopped = False
        self.sub: NatsSubscription | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connection = self.bus._connection()
        self.sub = await connection.subscribe(self.subject, pending_msgs_limit=LIVE_PENDING)
        await connection.flush()  # the server has the interest before subscribe() returns
        self.task = asyncio.create_task(self._run(self.sub), name=f"bus live {self.name}")

    async def _run(self, sub: NatsSubscription) -> None:
        async for msg in sub.messages:
            try:
                event = decode_event(msg.data)
            except MalformedEvent as error:
                log.error("consumer %s: malformed message on %s skipped: %s", self.name, msg.subject, error)
                continue
            await _handle_transient(self.handler, self.name, event)

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.bus._live.discard(self)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.sub is not None:
            with contextlib.suppress(Exception):  # closed or reconnecting: the interest goes with it
                await self.sub.unsubscribe()

    def __hash__(self) -> int:
        return id(self)


@dataclass
class _Subscriptions:
    """An ephemeral subscription on NATS: its stored events and its transient ones."""

    parts: list[_NatsConsumer | _LiveSubscription]

    async def stop(self) -> None:
        for part in self.parts:
            await part.stop()


def _paths(pattern: str) -> tuple[bool, bool]:
    """Whether an ephemeral subscription needs the stream, core NATS, or both. A pattern naming one
    known type needs one of them; any other may match types of either kind, including types this
    process never imported (they come as GenericEvent), so it takes both: a core subscription
    costs the server no storage and no polling."""
    known = event_types().get(pattern)
    if known is None:
        return True, True
    return not known.transient, known.transient


class NatsBus:
    """JetStream: one stream holding ``<prefix>.<event type>`` subjects, pull consumers.

    A durable is a durable pull consumer named after it, filtered on the pattern. Several
    processes subscribing with the same durable name share its events (each to one of them). The
    server keeps redelivering (``max_deliver`` is unlimited there); the bus counts the attempts
    and makes the dead letter itself, so an event is never dropped without one. An ephemeral
    subscription is an ephemeral consumer from the next event on, deleted on ``stop()``, and a
    core NATS subscription to the transient subjects its pattern matches (the same pattern under
    ``<prefix>-live.``); a pattern naming one known type takes only the path that type goes by.
    """

    def __init__(self, url: str, stream: str = "SMARTSEOUL", connect_timeout: float = 3.0) -> None:
        self.url = url
        self.stream = stream
        self.prefix = stream.lower()
        self.connect_timeout = connect_timeout
        self.dead_letters: list[DeadLetter] = []
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._consumers: set[_NatsConsumer] = set()
        self._live: set[_LiveSubscription] = set()
        self._active_durables: set[str] = set()

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.{event_type}"

    def live_subject(self, event_type: str) -> str:
        """Where a transient event (or pattern) goes: its first token is not the stream's, so the
        stream's ``<prefix>.>`` never captures it."""
        return f"{self.prefix}{LIVE_SUFFIX}.{event_type}"

    def _where(self) -> str:
        return f"NATS at {_safe_url(self.url)}"

    def _connection(self) -> Client:
        if self._nc is None or self._nc.is_closed:
            raise BusUnavailable(f"{self._where()} not connected")
        return self._nc

    def _jetstream(self) -> JetStreamContext:
        self._connection()
        assert self._js is not None
        return self._js

    async def start(self) -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        last_error: list[BaseException] = []

        async def on_error(error: Exception) -> None:
            last_error[:] = [error]
            # Connecting and reconnecting retry on their own: the start's error or the
            # disconnection warning says it once, not every half second.
            quiet = self._nc is None or self._nc.is_reconnecting
            log.log(
                logging.DEBUG if quiet else logging.WARNING,
                "%s: %s",
                self._where(),
                error or type(error).__name__,
            )

        async def on_disconnected() -> None:
            if self._nc is not None:  # not closing
                log.warning("%s: disconnected, reconnecting", self._where())

        async def on_reconnected() -> None:
            log.warning("%s: reconnected", self._where())

        try:
            self._nc = await nats.connect(
                self.url,
                connect_timeout=self.connect_timeout,
                allow_reconnect=True,
                # Fail the first connection after a second try; reconnect for ever once up.
                max_reconnect_attempts=1,
                reconnect_time_wait=0.5,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            )
        except Exception as error:
            reason = last_error[0] if last_error else error
            message = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
            raise BusUnavailable(f"{self._where()} unreachable: {message}") from None
        self._nc.options["max_reconnect_attempts"] = -1
        self._js = self._nc.jetstream()
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=120.0,
            max_age=7 * 86400.0,
        )
        try:
            await self._js.add_stream(config)
        except Exception as error:
            await self.close()
            raise BusUnavailable(f"{self._where()}: JetStream stream {self.stream}: {error}") from None
        await self._warn_if_transient_stored()

    async def _warn_if_transient_stored(self) -> None:
        """Transient events are meant to be kept nowhere; say so if some other stream on the server
        (a catch-all ``>``, a stream named like ours plus ``-live``) captures them after all."""
        from nats.js.errors import NotFoundError

        try:
            other = await self._jetstream().find_stream_name_by_subject(self.live_subject(">"))
        except NotFoundError:
            return
        except Exception as error:  # only a check: the bus works without it
            log.debug("%s: no check of the transient subjects: %s", self._where(), error)
            return
        log.warning("%s: stream %s stores the transient events of %s", self._where(), other, self.stream)

    async def close(self) -> None:
        for consumer in list(self._consumers):
            await consumer.stop()
        for live in list(self._live):
            await live.stop()
        connection, self._nc, self._js = self._nc, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.drain()
            if not connection.is_closed:
                with contextlib.suppress(Exception):
                    await connection.close()

    async def delete_stream(self) -> None:
        """Remove the stream (tests and `bench`)."""
        await self._jetstream().delete_stream(self.stream)

    async def health(self) -> None:
        if self._nc is None or not self._nc.is_connected:
            raise BusUnavailable(f"{self._where()} not connected")
        try:
            await self._jetstream().stream_info(self.stream)
        except Exception as error:
            raise BusUnavailable(f"{self._where()}: {error or type(error).__name__}") from None

    async def publish(self, event: Event) -> None:
        """Store the event in the stream; its id is the de-duplication key. A transient event goes
        by core NATS to whoever listens, stored nowhere."""
        try:
            if event.transient:
                await self._connection().publish(self.live_subject(event.type), event.to_bytes())
                return
            await self._jetstream().publish(
                self.subject(event.type), event.to_bytes(), headers={"Nats-Msg-Id": str(event.id)}
            )
        except BusUnavailable:
            raise
        except Exception as error:
            reason = str(error) or type(error).__name__
            raise BusUnavailable(f"{self._where()}: publishing {event.type} failed: {reason}") from error

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_deliver: int = 5
    ) -> Subscription:
        _check_max_deliver(max_deliver)
        check_durable(durable)
        name = _consumer_name(pattern, durable)
        if durable is not None:  # stored events only: see the module's docstring
            return await self._subscribe_stored(pattern, handler, durable, max_deliver, name)
        stored_events, transient_events = _paths(pattern)
        if not transient_events:
            return await self._subscribe_stored(pattern, handler, durable, max_deliver, name)
        if not stored_events:
            return await self._subscribe_live(pattern, handler, name)
        handler = _one_at_a_time(handler)
        stored = await self._subscribe_stored(pattern, handler, durable, max_deliver, name)
        try:
            live = await self._subscribe_live(pattern, handler, name)
        except BaseException:
            await stored.stop()
            raise
        return _Subscriptions([stored, live])

    async def _subscribe_stored(
        self, pattern: str, handler: Handler, durable: str | None, max_deliver: int, name: str
    ) -> _NatsConsumer:
        if durable is not None:
            if durable in self._active_durables:
                raise RuntimeError(f"durable consumer {durable!r} is already active")
            self._active_durables.add(durable)
        try:
            consumer = await self._ensure_consumer(self.subject(pattern), durable)
        except BaseException:
            self._active_durables.discard(durable or "")
            raise
        subscription = _NatsConsumer(self, consumer, name, handler, max_deliver, durable)
        self._consumers.add(subscription)
        try:
            await subscription.start()
        except BaseException:
            await subscription.stop()
            raise
        return subscription

    async def _subscribe_live(self, pattern: str, handler: Handler, name: str) -> _LiveSubscription:
        live = _LiveSubscription(self, self.live_subject(pattern), name, handler)
        self._live.add(live)
        try:
            await live.start()
        except BaseException:
            await live.stop()
            raise
        return live

    async def _ensure_consumer(self, subject: str, durable: str | None) -> str:
        """Create the server-side consumer, or reuse a durable one; return its name."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        js = self._jetstream()
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT,
            max_deliver=-1,
            filter_subject=subject,
        )
        if durable is None:
            config.name = f"ephemeral_{uuid.uuid4().hex}"
            config.deliver_policy = DeliverPolicy.NEW
            config.inactive_threshold = EPHEMERAL_IDLE
            await js.add_consumer(self.stream, config)
            return config.name
        config.name = config.durable_name = durable
        config.deliver_policy = DeliverPolicy.ALL
        try:
            existing = await js.consumer_info(self.stream, durable)
        except NotFoundError:
            existing = None
        if existing is not None:
            if existing.config.filter_subject != subject:
                # Like the in-process bus: another pattern is another consumer, from the start.
                log.info("durable consumer %s: pattern changed, starting over", durable)
                await js.delete_consumer(self.stream, durable)
            elif existing.config.deliver_subject:
                # A push consumer from an earlier version: go on after what it acknowledged.
                await js.delete_consumer(self.stream, durable)
                acknowledged = existing.ack_floor.stream_seq if existing.ack_floor else 0
                if acknowledged:
                    config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
                    config.opt_start_seq = acknowledged + 1
            else:  # the same consumer: keep where it starts, update the rest
                config.deliver_policy = existing.config.deliver_policy
                config.opt_start_seq = existing.config.opt_start_seq
        await js.add_consumer(self.stream, config)
        return durable


def make_bus(url: str, stream: str = "SMARTSEOUL") -> EventBus:
    """The bus named by ``SMARTSEOUL_BUS_URL``."""
    if url.startswith("memory://"):
        return InProcessBus()
    return NatsBus(url, stream=stream)
