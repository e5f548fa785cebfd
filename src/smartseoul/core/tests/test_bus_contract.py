"""One contract, two buses: the in-process bus and NATS JetStream must behave the same.

Every test of the contract runs against both implementations (the ``bus`` fixture); the few that
only make sense for a network bus (a new process, raw bytes on the wire, a lost server, a consumer
left over from an earlier version) run on NATS alone. Waits are bounded by a deadline, never fixed
sleeps: "no more than expected" is checked with a sentinel event published last, since each
consumer receives events in stream order.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

import anyio
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from conftest import require_service
from smartseoul.core.bus import BusUnavailable, EventBus, InProcessBus, NatsBus, Subscription
from smartseoul.core.events import Event, GenericEvent, MalformedEvent, decode_event, subject_matches
from smartseoul.core.idempotency import apply_once, mark_processed
from smartseoul.core.models import ProcessedEvent, User

NATS_URL = "nats://127.0.0.1:4222"
DEADLINE = 10.0


# ---------------------------------------------------------------- test events


class ThingHappened(Event):
    type_name: ClassVar[str] = "test.thing.happened.v1"
    name: str
    count: int = 0
    tags: tuple[str, ...] = ()


class AlphaOne(Event):
    type_name: ClassVar[str] = "test.a.one.v1"


class AlphaTwo(Event):
    type_name: ClassVar[str] = "test.a.two.v1"


class AlphaOneV2(Event):
    type_name: ClassVar[str] = "test.a.one.v2"


class AlphaOneDeeper(Event):
    type_name: ClassVar[str] = "test.a.one.deeper.v1"


class BetaOne(Event):
    type_name: ClassVar[str] = "test.b.one.v1"


class Elsewhere(Event):
    type_name: ClassVar[str] = "other.a.one.v1"


class Pulse(Event):
    """A transient event, like a video worker's heartbeat."""

    type_name: ClassVar[str] = "test.live.pulse.v1"
    transient: ClassVar[bool] = True
    beat: int = 0


class LiveBoxes(Event):
    type_name: ClassVar[str] = "test.live.boxes.v1"
    transient: ClassVar[bool] = True


THING = ThingHappened.type_name
PULSE = Pulse.type_name


def things(count: int, start: int = 0) -> list[ThingHappened]:
    return [ThingHappened(name=f"thing {index}", count=index) for index in range(start, start + count)]


def ids(events: list[Any]) -> list[UUID]:
    return [event.id for event in events]


class HandlerFailed(RuntimeError):
    pass


@dataclass
class Recorder:
    """A handler that records what it handled; ``fail(event, attempt)`` makes an attempt raise."""

    fail: Callable[[Event, int], bool] = lambda _event, _attempt: False
    events: list[Event] = field(default_factory=list)
    attempts: list[UUID] = field(default_factory=list)

    async def __call__(self, event: Event) -> None:
        self.attempts.append(event.id)
        attempt = self.attempts.count(event.id)
        if self.fail(event, attempt):
            raise HandlerFailed(f"poisoned on attempt {attempt}")
        self.events.append(event)

    def ids(self) -> list[UUID]:
        return ids(self.events)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds, failing with ``what`` after ``DEADLINE`` seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {DEADLINE:.0f} s waiting for {what}")
        await anyio.sleep(0.01)


async def publish_all(bus: EventBus, events: list[Any]) -> None:
    for event in events:
        await bus.publish(event)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def jetstream() -> AsyncIterator[Any]:
    """A connection of its own to JetStream, to look behind a bus's back."""
    connection = await nats.connect(NATS_URL)
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


@asynccontextmanager
async def nats_bus_on_fresh_stream() -> AsyncIterator[NatsBus]:
    require_service("nats")
    bus = NatsBus(NATS_URL, stream=f"TEST_{uuid.uuid4().hex.upper()}")
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()
        async with jetstream() as js:
            with suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(bus.stream)


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def bus(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        memory = InProcessBus()
        await memory.start()
        try:
            yield memory
        finally:
            await memory.close()
        return
    async with nats_bus_on_fresh_stream() as on_nats:
        yield on_nats


@pytest.fixture
async def nats_bus(anyio_backend: str) -> AsyncIterator[NatsBus]:
    async with nats_bus_on_fresh_stream() as on_nats:
        yield on_nats


def _durable_or_not(name: str) -> Any:
    return pytest.mark.parametrize("durable", [None, name], ids=["ephemeral", "durable"])


# ---------------------------------------------------------------- envelope and routing


@pytest.mark.anyio
async def test_a_typed_event_round_trips_with_its_envelope(bus: EventBus) -> None:
    received = Recorder()
    await bus.subscribe("test.>", received)
    sent = ThingHappened(name="한강 bridge", count=3, tags=("a", "b"), source="contract-test")
    unknown = GenericEvent(
        event_type="test.unknown.happened.v1", payload={"n": 1, "nested": {"k": ["v", 2]}}, source="elsewhere"
    )
    await publish_all(bus, [sent, unknown])
    await eventually(lambda: len(received.events) == 2, "both events")

    typed, generic = received.events
    assert type(typed) is ThingHappened
    assert (typed.id, typed.time, typed.source, typed.type) == (sent.id, sent.time, sent.source, THING)
    assert typed.data() == {"name": "한강 bridge", "count": 3, "tags": ["a", "b"]}
    assert typed == sent
    assert type(generic) is GenericEvent
    assert (generic.id, generic.time, generic.source) == (unknown.id, unknown.time, "elsewhere")
    assert generic.type == "test.unknown.happened.v1"
    assert generic.data() == {"n": 1, "nested": {"k": ["v", 2]}}
    assert decode_event(generic.to_bytes()) == generic


@pytest.mark.anyio
@_durable_or_not("patterns")
async def test_pattern_subscriptions_get_what_matches_and_nothing_else(
    bus: EventBus, durable: str | None
) -> None:
    one_token, the_rest, exact = Recorder(), Recorder(), Recorder()
    await bus.subscribe("test.a.*.v1", one_token, durable=durable and f"{durable}-star")
    await bus.subscribe("test.>", the_rest, durable=durable and f"{durable}-rest")
    await bus.subscribe("test.a.one.v1", exact, durable=durable and f"{durable}-exact")
    a_one, a_two, a_one_v2, deeper, b_one, other = (
        AlphaOne(),
        AlphaTwo(),
        AlphaOneV2(),
        AlphaOneDeeper(),
        BetaOne(),
        Elsewhere(),
    )
    sentinel = AlphaOne()  # matched by all three, published last
    await publish_all(bus, [a_one, a_two, a_one_v2, deeper, b_one, other, sentinel])
    for recorder in (one_token, the_rest, exact):
        await eventually(lambda recorder=recorder: sentinel.id in recorder.ids(), "the sentinel")

    assert one_token.ids() == ids([a_one, a_two, sentinel])
    assert the_rest.ids() == ids([a_one, a_two, a_one_v2, deeper, b_one, sentinel])
    assert exact.ids() == ids([a_one, sentinel])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00 not json", "not JSON"),
        (b"[1, 2]", "must be an object"),
        (b'{"id": "x", "type": "test.thing.happened.v1", "data": []}', "must be an object"),
        (
            b'{"id": "5f0c8a38-4c43-4a57-9d43-2a3f6c1f0d3e", "type": "Not A Type", "data": {}}',
            "bad event type",
        ),
        (b'{"type": "test.thing.happened.v1", "data": {"name": "n"}}', "without an id"),
        (
            b'{"id": "5f0c8a38-4c43-4a57-9d43-2a3f6c1f0d3e", "type": "test.thing.happened.v1", "data": {}}',
            "name",
        ),
    ],
)
def test_what_is_not_an_envelope_is_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        decode_event(raw)


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("test.a.one.v1", "test.a.one.v1", True),
        ("test.a.*.v1", "test.a.two.v1", True),
        ("test.a.*.v1", "test.a.one.deeper.v1", False),
        ("test.>", "test.a.one.v1", True),
        ("test.>", "other.a.one.v1", False),
        (">", "test.a.one.v1", True),
        ("test.a.one.v1.>", "test.a.one.v1", False),
    ],
)
def test_patterns_are_nats_subjects(pattern: str, name: str, matches: bool) -> None:
    assert subject_matches(pattern, name) is matches


# ---------------------------------------------------------------- durable consumers


async def _resume_after(bus: EventBus, restart: Callable[[Subscription], Awaitable[EventBus]]) -> None:
    """Receive two, ``restart`` (which returns the bus to go on with), miss three, resume."""
    before = things(2)
    await publish_all(bus, before)  # published before the first subscription: a durable gets history
    first = Recorder()
    subscription = await bus.subscribe(THING, first, durable="resume")
    await eventually(lambda: first.ids() == ids(before), "the first two events")

    resumed_bus = await restart(subscription)
    try:
        missed = things(3, start=2)
        await publish_all(resumed_bus, missed)
        second = Recorder()
        await resumed_bus.subscribe(THING, second, durable="resume")
        await eventually(lambda: len(second.events) >= 3, "the three missed events")
        sentinel = ThingHappened(name="sentinel")
        await resumed_bus.publish(sentinel)
        await eventually(lambda: sentinel.id in second.ids(), "the sentinel")
    finally:
        if resumed_bus is not bus:
            await resumed_bus.close()

    assert second.ids() == ids([*missed, sentinel])  # none lost, no acknowledged one again
    assert first.ids() == ids(before)  # a stopped subscription hears nothing more


@pytest.mark.anyio
async def test_a_durable_consumer_resumes_where_it_stopped(bus: EventBus) -> None:
    async def stop(subscription: Subscription) -> EventBus:
        await subscription.stop()
        return bus

    await _resume_after(bus, stop)


@pytest.mark.anyio
@pytest.mark.nats
async def test_a_durable_consumer_resumes_in_a_new_process(nats_bus: NatsBus) -> None:
    async def restart(_subscription: Subscription) -> EventBus:
        await nats_bus.close()  # the process ends...
        again = NatsBus(NATS_URL, stream=nats_bus.stream)  # ...and another starts
        await again.start()
        return again

    await _resume_after(nats_bus, restart)


@pytest.mark.anyio
async def test_stopping_a_busy_durable_consumer_loses_nothing(bus: EventBus) -> None:
    events = things(5)
    started: list[UUID] = []

    async def stuck(event: Event) -> None:
        started.append(event.id)
        await anyio.sleep_forever()

    subscription = await bus.subscribe(THING, stuck, durable="busy")
    await publish_all(bus, events)
    await eventually(lambda: bool(started), "the first event to be taken")
    await subscription.stop()  # the handler is cancelled mid-event; four more wait behind it

    resumed = Recorder()
    await bus.subscribe(THING, resumed, durable="busy")
    await eventually(lambda: set(resumed.ids()) == set(ids(events)), "every unacknowledged event")
    assert started == [events[0].id]
    if isinstance(bus, InProcessBus):
        assert resumed.ids() == ids(events)


@pytest.mark.anyio
async def test_a_durable_name_has_one_active_subscription_at_a_time(bus: EventBus) -> None:
    subscription = await bus.subscribe(THING, Recorder(), durable="single")
    with pytest.raises(RuntimeError, match="single"):
        await bus.subscribe(THING, Recorder(), durable="single")
    with pytest.raises(RuntimeError, match="single"):
        await bus.subscribe("test.>", Recorder(), durable="single")
    await subscription.stop()
    await subscription.stop()  # stopping twice is harmless
    again = Recorder()
    await bus.subscribe(THING, again, durable="single")
    event = ThingHappened(name="after")
    await bus.publish(event)
    await eventually(lambda: again.ids() == [event.id], "the event on the re-subscribed consumer")


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["alerts.push", "a b", "x>", "", "n" * 65])
async def test_a_durable_name_nats_would_refuse_is_refused_by_both_buses(bus: EventBus, name: str) -> None:
    with pytest.raises(ValueError, match="durable consumer name"):
        await bus.subscribe(THING, Recorder(), durable=name)


@pytest.mark.anyio
async def test_durable_consumers_each_get_every_event(bus: EventBus) -> None:
    left, right = Recorder(), Recorder()
    await bus.subscribe(THING, left, durable="left")
    await bus.subscribe(THING, right, durable="right")
    events = things(4)
    await publish_all(bus, events)
    await eventually(lambda: left.ids() == ids(events) and right.ids() == ids(events), "both consumers")


@pytest.mark.anyio
async def test_a_durable_resubscribed_with_another_pattern_starts_over(bus: EventBus) -> None:
    a_one, b_one = AlphaOne(), BetaOne()
    await publish_all(bus, [a_one, b_one])
    narrow = Recorder()
    subscription = await bus.subscribe("test.a.*.v1", narrow, durable="moving")
    await eventually(lambda: narrow.ids() == [a_one.id], "the narrow consumer")
    await subscription.stop()

    wide = Recorder()
    await bus.subscribe("test.>", wide, durable="moving")
    await eventually(lambda: wide.ids() == [a_one.id, b_one.id], "the whole history under the new pattern")


# ---------------------------------------------------------------- delivery guarantees


@pytest.mark.anyio
@_durable_or_not("retry")
async def test_a_failed_handler_gets_the_event_again(bus: EventBus, durable: str | None) -> None:
    events = things(3)
    flaky = events[0]
    received = Recorder(fail=lambda event, attempt: event.id == flaky.id and attempt == 1)
    await bus.subscribe(THING, received, durable=durable)
    await publish_all(bus, events)
    await eventually(lambda: set(received.ids()) == set(ids(events)), "every event handled")
    sentinel = ThingHappened(name="sentinel")
    await bus.publish(sentinel)
    await eventually(lambda: sentinel.id in received.ids(), "the sentinel")

    assert received.attempts.count(flaky.id) == 2
    assert all(received.attempts.count(event.id) == 1 for event in events[1:])
    assert bus.dead_letters == []
    if isinstance(bus, InProcessBus):  # retried in place: the others wait their turn
        assert received.ids() == ids([*events, sentinel])


@pytest.mark.anyio
@_durable_or_not("dead")
async def test_after_max_deliver_failures_the_event_is_a_dead_letter(
    bus: EventBus, durable: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    poison, after = ThingHappened(name="poison"), ThingHappened(name="after")
    received = Recorder(fail=lambda event, _attempt: event.id == poison.id)
    await bus.subscribe(THING, received, durable=durable, max_deliver=3)
    with caplog.at_level(logging.WARNING, logger="smartseoul.core.bus"):
        await publish_all(bus, [poison, after])
        await eventually(lambda: any(d.event.id == poison.id for d in bus.dead_letters), "the dead letter")
        await eventually(lambda: after.id in received.ids(), "the event after the poison")

    [letter] = bus.dead_letters
    assert letter.event == poison
    assert isinstance(letter.event, ThingHappened)
    assert "poisoned on attempt 3" in letter.error
    assert letter.consumer == durable if durable else THING in letter.consumer
    assert received.attempts.count(poison.id) == 3
    assert any(
        record.levelno == logging.ERROR and str(poison.id) in record.getMessage() for record in caplog.records
    )

    later = ThingHappened(name="later")
    await bus.publish(later)
    await eventually(lambda: later.id in received.ids(), "an event after the dead letter")
    assert received.attempts.count(poison.id) == 3
    assert len(bus.dead_letters) == 1


@pytest.mark.anyio
@_durable_or_not("dedup")
async def test_the_same_event_published_twice_is_delivered_once(bus: EventBus, durable: str | None) -> None:
    received = Recorder()
    await bus.subscribe(THING, received, durable=durable)
    event = ThingHappened(name="once")
    await bus.publish(event)
    await bus.publish(event)  # a publisher retrying after a lost acknowledgement
    await eventually(lambda: event.id in received.ids(), "the event")
    await bus.publish(decode_event(event.to_bytes()))  # the same id, rebuilt, after it was handled
    sentinel = ThingHappened(name="sentinel")
    await bus.publish(sentinel)
    await eventually(lambda: sentinel.id in received.ids(), "the sentinel")
    assert received.ids() == [event.id, sentinel.id]


@pytest.mark.anyio
async def test_an_ephemeral_subscription_gets_only_what_is_published_after_it(bus: EventBus) -> None:
    earlier = ThingHappened(name="earlier")
    await bus.publish(earlier)
    received = Recorder()
    subscription = await bus.subscribe(THING, received)
    later = ThingHappened(name="later")
    await bus.publish(later)
    await eventually(lambda: later.id in received.ids(), "the later event")
    assert received.ids() == [later.id]

    await subscription.stop()
    await bus.publish(ThingHappened(name="after stop"))
    again = Recorder()
    await bus.subscribe(THING, again)  # a new ephemeral subscription starts from now, not from before
    sentinel = ThingHappened(name="sentinel")
    await bus.publish(sentinel)
    await eventually(lambda: sentinel.id in again.ids(), "the sentinel")
    assert again.ids() == [sentinel.id]
    assert received.ids() == [later.id]


# ---------------------------------------------------------------- transient events


@pytest.mark.anyio
async def test_a_transient_event_reaches_only_the_subscriptions_listening_when_it_is_sent(
    bus: EventBus,
) -> None:
    early = Recorder()
    early_subscription = await bus.subscribe("test.live.>", early)  # a wildcard: stored and transient
    first = Pulse(beat=1)
    await bus.publish(first)
    await eventually(lambda: early.ids() == [first.id], "the pulse on the listening subscription")

    late = Recorder()
    await bus.subscribe(PULSE, late)  # after the first pulse: it never gets it
    second = Pulse(beat=2)
    await bus.publish(second)
    await eventually(lambda: second.id in late.ids() and second.id in early.ids(), "the second pulse")
    assert late.ids() == [second.id]
    assert early.ids() == [first.id, second.id]

    await early_subscription.stop()
    third = Pulse(beat=3)
    await bus.publish(third)
    await eventually(lambda: third.id in late.ids(), "the third pulse")
    assert early.ids() == [first.id, second.id]  # stopped: hears no more


@pytest.mark.anyio
async def test_transient_events_follow_the_same_patterns(bus: EventBus) -> None:
    one_token, the_rest, exact = Recorder(), Recorder(), Recorder()
    await bus.subscribe("test.live.*.v1", one_token)
    await bus.subscribe("test.>", the_rest)
    await bus.subscribe(PULSE, exact)
    pulse, boxes, stored = Pulse(), LiveBoxes(), ThingHappened(name="stored")
    sentinel = Pulse(beat=99)  # transient too, published last: it comes behind the others
    await publish_all(bus, [pulse, boxes, stored, sentinel])
    everyone = (one_token, the_rest, exact)
    await eventually(lambda: all(sentinel.id in r.ids() for r in everyone), "the sentinel everywhere")
    await eventually(lambda: stored.id in the_rest.ids(), "the stored event")

    assert exact.ids() == ids([pulse, sentinel])
    assert one_token.ids() == ids([pulse, boxes, sentinel])
    assert sorted(the_rest.ids()) == sorted(ids([pulse, boxes, stored, sentinel]))  # each once


@pytest.mark.anyio
async def test_durable_consumers_never_get_transient_events(bus: EventBus) -> None:
    steady, listening = Recorder(), Recorder()
    subscription = await bus.subscribe("test.>", steady, durable="steady")
    await bus.subscribe("test.>", listening)
    kept = ThingHappened(name="kept")
    await publish_all(bus, [Pulse(beat=1), kept])
    await eventually(lambda: kept.id in steady.ids() and len(listening.events) == 2, "both events")
    await subscription.stop()

    await bus.publish(Pulse(beat=2))  # while the durable is away: not kept for it either
    resumed, newcomer = Recorder(), Recorder()
    await bus.subscribe("test.>", resumed, durable="steady")
    await bus.subscribe("test.>", newcomer, durable="newcomer")  # a new durable gets the history
    after = ThingHappened(name="after")
    await publish_all(bus, [Pulse(beat=3), after])
    await eventually(lambda: after.id in resumed.ids() and after.id in newcomer.ids(), "the event after")

    assert steady.ids() == [kept.id]
    assert resumed.ids() == [after.id]
    assert newcomer.ids() == [kept.id, after.id]  # the history holds no pulse


@pytest.mark.anyio
async def test_a_handler_failing_on_a_transient_event_is_logged_and_not_retried(
    bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    bad, good = Pulse(beat=1), Pulse(beat=2)
    received = Recorder(fail=lambda event, _attempt: event.id == bad.id)
    await bus.subscribe(PULSE, received)
    with caplog.at_level(logging.WARNING, logger="smartseoul.core.bus"):
        await publish_all(bus, [bad, good])
        await eventually(lambda: good.id in received.ids(), "the pulse after the failed one")
        sentinel = Pulse(beat=3)
        await bus.publish(sentinel)
        await eventually(lambda: sentinel.id in received.ids(), "the sentinel")

    assert received.attempts == ids([bad, good, sentinel])  # one attempt each, in order
    assert bus.dead_letters == []  # a heartbeat nobody handled is not a dead letter
    assert any(str(bad.id) in record.getMessage() for record in caplog.records)


@pytest.mark.anyio
async def test_transient_events_leave_the_in_process_history_to_real_events() -> None:
    bus = InProcessBus(max_events=3, duplicate_window=3)
    kept = things(3)
    try:
        await publish_all(bus, [*kept, *(Pulse(beat=n) for n in range(50))])
        await bus.publish(kept[0])  # still inside the de-duplication window
        slow = Recorder()
        await bus.subscribe(THING, slow, durable="slow")
        await eventually(lambda: len(slow.events) == 3, "the three kept events")
        assert slow.ids() == ids(kept)
    finally:
        await bus.close()


@pytest.mark.anyio
@pytest.mark.nats
async def test_transient_events_are_not_stored_in_the_stream(nats_bus: NatsBus) -> None:
    received = Recorder()
    await nats_bus.subscribe(">", received)
    async with jetstream() as js:
        before = (await js.stream_info(nats_bus.stream)).state.messages
        other_process = NatsBus(NATS_URL, stream=nats_bus.stream)
        await other_process.start()
        try:
            pulses = [Pulse(beat=n) for n in range(20)]
            stored = ThingHappened(name="stored")
            await publish_all(other_process, [*pulses, stored])
            await eventually(
                lambda: set(ids([*pulses, stored])) <= set(received.ids()), "every event from the other bus"
            )
        finally:
            await other_process.close()
        after = (await js.stream_info(nats_bus.stream)).state.messages
        assert after == before + 1  # the stored event alone
        with pytest.raises(NotFoundError):  # no stream on the server captures transient subjects
            await js.find_stream_name_by_subject(nats_bus.live_subject(PULSE))


# ---------------------------------------------------------------- idempotent consumers


def _account(session: Session) -> int:
    user = User(username=f"idem.{uuid.uuid4().hex[:12]}", password_hash="-", failed_logins=0)
    session.add(user)
    session.flush()
    return user.id


def _bump(user_id: int) -> Callable[[Session, Event], None]:
    def work(session: Session, _event: Event) -> None:
        session.execute(update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1))

    return work


def _counter(session: Session, user_id: int) -> int:
    session.expire_all()
    return int(session.scalar(select(User.failed_logins).where(User.id == user_id)) or 0)


def _processed(session: Session, consumer: str) -> int:
    query = select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.consumer == consumer)
    return int(session.scalar(query) or 0)


def _sessions_in(db: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection: each commit releases a savepoint, the test still rolls back."""
    return sessionmaker(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.mark.anyio
async def test_a_redelivered_event_changes_the_database_once(bus: EventBus, db: Session) -> None:
    user_id = _account(db)
    sessions = _sessions_in(db)
    handled: list[UUID] = []
    applied: list[bool] = []

    async def consumer(event: Event) -> None:
        applied.append(await apply_once(sessions, "contract.counter", event, _bump(user_id)))
        handled.append(event.id)
        if handled.count(event.id) == 1:
            raise HandlerFailed("lost before the acknowledgement")  # committed, but never acked

    await bus.subscribe(THING, consumer, durable="counter")
    first, second = ThingHappened(name="first"), ThingHappened(name="second")
    await publish_all(bus, [first, second])
    await eventually(
        lambda: handled.count(first.id) == 2 and handled.count(second.id) == 2, "both events redelivered"
    )

    assert sorted(applied) == [False, False, True, True]
    assert _counter(db, user_id) == 2
    assert _processed(db, "contract.counter") == 2


@pytest.mark.anyio
async def test_apply_once_applies_each_event_once_per_consumer(db: Session) -> None:
    user_id = _account(db)
    sessions = _sessions_in(db)
    event = ThingHappened(name="bump")
    assert await apply_once(sessions, "contract.a", event, _bump(user_id)) is True
    assert await apply_once(sessions, "contract.a", event, _bump(user_id)) is False
    assert await apply_once(sessions, "contract.b", event, _bump(user_id)) is True  # another consumer
    assert _counter(db, user_id) == 2


@pytest.mark.anyio
async def test_apply_once_keeps_no_mark_when_the_work_fails(db: Session) -> None:
    user_id = _account(db)
    sessions = _sessions_in(db)
    event = ThingHappened(name="bump")

    def half_done(session: Session, received: Event) -> None:
        _bump(user_id)(session, received)
        raise HandlerFailed("failed after changing a row")

    with pytest.raises(HandlerFailed):
        await apply_once(sessions, "contract.c", event, half_done)
    assert _counter(db, user_id) == 0  # the change and the mark went together
    assert _processed(db, "contract.c") == 0
    assert await apply_once(sessions, "contract.c", event, _bump(user_id)) is True
    assert _counter(db, user_id) == 1


def test_mark_processed_inside_a_callers_transaction(db: Session) -> None:
    event = ThingHappened(name="marked")
    assert mark_processed(db, "contract.d", event) is True
    assert mark_processed(db, "contract.d", event) is False
    assert _processed(db, "contract.d") == 1  # the failed insert did not spoil the transaction


@pytest.mark.anyio
async def test_concurrent_deliveries_apply_the_event_once(engine: Engine) -> None:
    """Two processes handling the same event at once (committed transactions, each engine)."""
    consumer = f"contract.race.{uuid.uuid4().hex[:8]}"
    sessions = sessionmaker(engine, expire_on_commit=False)
    event = ThingHappened(name="raced")
    ran: list[int] = []
    try:
        results = await asyncio.gather(
            *(apply_once(sessions, consumer, event, lambda _s, _e, n=n: ran.append(n)) for n in range(8))
        )
        assert sorted(results) == [False] * 7 + [True]
        assert len(ran) == 1
    finally:
        with engine.begin() as connection:
            connection.execute(delete(ProcessedEvent).where(ProcessedEvent.consumer == consumer))


# ---------------------------------------------------------------- NATS only


@pytest.mark.anyio
@pytest.mark.nats
async def test_a_malformed_message_is_logged_terminated_and_skipped(
    nats_bus: NatsBus, caplog: pytest.LogCaptureFixture
) -> None:
    received = Recorder()
    await nats_bus.subscribe(THING, received, durable="sturdy")
    good = ThingHappened(name="good")
    with caplog.at_level(logging.WARNING, logger="smartseoul.core.bus"):
        async with jetstream() as js:
            await js.publish(nats_bus.subject(THING), b"\x00 not json at all")
            await js.publish(nats_bus.subject(THING), b'{"type": "Not A Type", "data": {}}')
            await js.publish(
                nats_bus.subject(THING), b'{"type": "test.thing.happened.v1", "data": {"name": "x"}}'
            )
        await nats_bus.publish(good)
        await eventually(lambda: received.ids() == [good.id], "the good event after the bad bytes")

    malformed = [record for record in caplog.records if "malformed" in record.getMessage()]
    assert len(malformed) == 3
    assert all("sturdy" in record.getMessage() and record.levelno == logging.ERROR for record in malformed)
    async with jetstream() as js:

        async def settled() -> Any:
            return await js.consumer_info(nats_bus.stream, "sturdy")

        info = await settled()
        deadline = time.monotonic() + DEADLINE
        while info.num_ack_pending or info.ack_floor.stream_seq < 4:
            assert time.monotonic() < deadline, f"messages still pending: {info}"
            await anyio.sleep(0.05)
            info = await settled()
    assert info.num_redelivered == 0  # terminated, not retried
    assert nats_bus.dead_letters == []


@pytest.mark.anyio
@pytest.mark.nats
async def test_health_fails_after_close(nats_bus: NatsBus) -> None:
    await nats_bus.health()
    await nats_bus.close()
    with pytest.raises(BusUnavailable, match=r"NATS at nats://127\.0\.0\.1:4222"):
        await nats_bus.health()


@pytest.mark.anyio
async def test_an_unreachable_server_is_one_line_naming_the_url() -> None:
    bus = NatsBus("nats://127.0.0.1:1", connect_timeout=1.0)
    with pytest.raises(BusUnavailable) as raised:
        await asyncio.wait_for(bus.start(), 30)
    message = str(raised.value)
    assert message.startswith("NATS at nats://127.0.0.1:1 unreachable")
    assert "\n" not in message
    await bus.close()


@pytest.mark.anyio
@pytest.mark.nats
async def test_a_push_consumer_left_by_an_earlier_version_resumes_after_its_acks(nats_bus: NatsBus) -> None:
    """Durables used to be push consumers; the bus now pulls, from where the old consumer got to."""
    acked, unacked = things(2), things(1, start=2)
    async with jetstream() as js:
        inbox = f"_INBOX.{uuid.uuid4().hex}"
        await js.add_consumer(
            nats_bus.stream,
            ConsumerConfig(
                durable_name="legacy",
                deliver_subject=inbox,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subject=nats_bus.subject(THING),
            ),
        )
        old = await js._nc.subscribe(inbox)
        await publish_all(nats_bus, [*acked, *unacked])
        for _ in acked:
            message = await old.next_msg(timeout=DEADLINE)
            await message.ack_sync()
        await old.unsubscribe()

    received = Recorder()
    await nats_bus.subscribe(THING, received, durable="legacy")
    sentinel = ThingHappened(name="sentinel")
    await nats_bus.publish(sentinel)
    await eventually(lambda: sentinel.id in received.ids(), "the sentinel")
    assert received.ids() == ids([*unacked, sentinel])
