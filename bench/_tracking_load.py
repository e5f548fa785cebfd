"""The load side of ``bench tracking`` (not a benchmark itself): virtual watches and an SOS probe.

Each virtual watch is a bare asyncio Protocol on one TCP connection to the platform's watch
listener. Watch frames have no per-position acknowledgement, so the watches pace themselves with
the protocol's own heartbeat: a watch writes ``FRAMES_PER_ACK`` ``UD`` frames and one ``LK``, and
writes the next batch only when the ``[3G*ID*0002*LK]`` answer arrives. The listener handles a
connection's frames in order and answers the ``LK`` only after every position before it was
committed (the ingestor awaits each group commit), so at most one batch per watch is in flight and
nothing piles up in socket buffers: a closed loop, as fast as the server stores.

The SOS probe is one more registered watch on its own connection that sends an ``AL`` frame with
the SOS status bit (``00010000``) and times it until the ``tracking.alarm.raised.v1`` event for
that watch reaches a Server-Sent-Events client on ``/api/v1/stream/events``, logged in as an
operator. One SOS at a time, so each event answers exactly one frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import httpx

from smartseoul.tracking.simulate import position_content, watch_frame

FRAMES_PER_ACK = 10  # UD frames between two LK heartbeats (positions in flight per watch)
HOME = (37.5665, 126.9780)  # Seoul City Hall; each frame moves a few metres
SOS_STATUS = "00010000"
SOS_TIMEOUT = 15.0
CONNECT_TIMEOUT = 30.0
DRAIN_SECONDS = 30.0  # plus 4x the time the batches in flight take at the measured rate
ALARM_TYPE = "tracking.alarm.raised.v1"
T = TypeVar("T")


class LoadError(RuntimeError):
    """A watch connection failed, or the server answered something unexpected."""


def heartbeat(identifier: str) -> bytes:
    return watch_frame(identifier, "LK,0,0,80")


def positions_batch(identifier: str, index: int, when: datetime, count: int = FRAMES_PER_ACK) -> bytes:
    """``count`` UD frames stamped ``when`` and one LK heartbeat, as one write."""
    frames = []
    for k in range(count):
        step = (index * 7 + k) % 1000 * 1e-5
        content = position_content(HOME[0] + step, HOME[1] + step, when)
        frames.append(watch_frame(identifier, content))
    frames.append(heartbeat(identifier))
    return b"".join(frames)


def sos_frame(identifier: str, when: datetime) -> bytes:
    return watch_frame(identifier, position_content(HOME[0], HOME[1], when, status=SOS_STATUS, command="AL"))


@dataclass
class _Shared:
    frames: int = FRAMES_PER_ACK  # UD frames per batch
    period_s: float = 0.0  # 0: the next batch on the answer (closed loop); else one batch per period
    stopping: bool = False
    started: int = 0  # watches whose first heartbeat was answered (device cache warm)
    acked: int = 0  # positions acknowledged (by an LK answer) so far
    error: LoadError | None = None


class _Watch(asyncio.Protocol):
    """One virtual watch: a first LK (warm-up), then batches of UD frames paced by LK answers."""

    def __init__(self, identifier: str, shared: _Shared, closed: asyncio.Future[None]) -> None:
        self.identifier = identifier
        self.shared = shared
        self.closed = closed
        self.answer = f"[3G*{identifier}*0002*LK]".encode()
        self.buffer = bytearray()
        self.first = True
        self.second = -1
        self.batch = b""
        self.sent = 0
        self.next_at = 0.0
        self.in_flight = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.in_flight = True
        self.transport.write(heartbeat(self.identifier))

    def _send_batch(self) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        if self.shared.stopping:  # paced, and the run ended while this watch was waiting
            self.transport.close()
            return
        self.in_flight = True
        now = time.time()
        if int(now) != self.second:  # frames carry whole seconds: build them once a second
            self.second = int(now)
            when = datetime.fromtimestamp(self.second, UTC)
            self.batch = positions_batch(self.identifier, self.sent, when, self.shared.frames)
        self.sent += 1
        self.transport.write(self.batch)

    def _next_batch(self) -> None:
        """At once in the closed loop; paced: one batch a period, the first at a random phase so
        that the watches spread over the period as real ones do."""
        period = self.shared.period_s
        if period <= 0:
            self._send_batch()
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.next_at = now + random.uniform(0, period) if self.next_at == 0.0 else self.next_at + period
        loop.call_at(max(self.next_at, now), self._send_batch)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        size = len(self.answer)
        while len(self.buffer) >= size:
            if self.buffer[:size] != self.answer:
                self._fail(f"{self.identifier}: unexpected answer {bytes(self.buffer[:80])!r}")
                return
            del self.buffer[:size]
            self.in_flight = False
            if self.first:
                self.first = False
                self.shared.started += 1
            else:
                self.shared.acked += self.shared.frames
            if self.shared.stopping:
                assert self.transport is not None
                self.transport.close()
                return
            self._next_batch()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, message: str) -> None:
        if self.shared.error is None:
            self.shared.error = LoadError(message)
        assert self.transport is not None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.shared.stopping and self.shared.error is None:
            self.shared.error = LoadError(f"{self.identifier}: server closed the connection: {exc or 'EOF'}")
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class Window:
    """What the load run measured over its recording window (warm-up excluded)."""

    start: datetime  # wall clock (UTC), to select positions by received_at
    end: datetime
    seconds: float
    acked: int  # positions the watches saw acknowledged inside the window (client side)
    server_cpu: float | None  # server CPU seconds inside the window
    client_cpu_share: float
    drain_seconds: float  # after the window, until every watch had the answer to its last batch
    sos_idle_ms: list[float] = field(default_factory=list)
    sos_load_ms: list[float] = field(default_factory=list)


class _Alarms:
    """An SSE client that queues the alarm events of one device."""

    def __init__(self, client: httpx.AsyncClient, token: str, device_id: int) -> None:
        self.client, self.token, self.device_id = client, token, device_id
        self.events: asyncio.Queue[float] = asyncio.Queue()
        self.connected = asyncio.Event()

    async def listen(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        timeout = httpx.Timeout(10.0, read=None)
        async with self.client.stream("GET", "/api/v1/stream/events", headers=headers, timeout=timeout) as r:
            if r.status_code != 200:
                raise LoadError(f"event stream answered {r.status_code}: {(await r.aread())[:300]!r}")
            self.connected.set()
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    continue
                arrived = time.perf_counter()
                payload = json.loads(line[5:])
                data = payload.get("data", {})
                if payload.get("type") == ALARM_TYPE and data.get("device_id") == self.device_id:
                    self.events.put_nowait(arrived)


class _SosProbe:
    """The SOS watch: sends one AL frame at a time and times it to the SSE event."""

    def __init__(self, identifier: str, alarms: _Alarms) -> None:
        self.identifier = identifier
        self.alarms = alarms
        self.writer: asyncio.StreamWriter | None = None
        self._drain: asyncio.Task[None] | None = None

    async def open(self, host: str, port: int) -> None:
        reader, self.writer = await asyncio.open_connection(host, port)
        self._drain = asyncio.create_task(self._read_answers(reader))

    @staticmethod
    async def _read_answers(reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                pass

    async def once(self) -> float:
        """Milliseconds from writing the AL frame to its alarm event on the stream."""
        assert self.writer is not None
        frame = sos_frame(self.identifier, datetime.now(UTC))
        sent = time.perf_counter()
        self.writer.write(frame)
        try:
            arrived = await asyncio.wait_for(self.alarms.events.get(), SOS_TIMEOUT)
        except TimeoutError:
            raise LoadError(f"no alarm event within {SOS_TIMEOUT:.0f} s of an SOS frame") from None
        return (arrived - sent) * 1000.0

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain


@dataclass
class Plan:
    """How to drive one server."""

    host: str
    watch_port: int
    http_port: int
    identifiers: list[str]
    sos_identifier: str
    sos_device_id: int
    username: str
    password: str
    otp: Callable[[], str]
    warmup: float
    duration: float
    sos_idle: int
    sos_load: int
    server_cpu: Callable[[], float | None]
    frames: int = FRAMES_PER_ACK
    period_s: float = 0.0
    on_tick: Callable[[str, float], None] | None = None


async def _token(client: httpx.AsyncClient, plan: Plan) -> str:
    form = {"username": plan.username, "password": plan.password, "otp": plan.otp()}
    # the server may still be compiling 50,000 zones: the login is not what is measured
    response = await client.post("/api/v1/auth/token", data=form, timeout=60.0)
    if response.status_code != 200:
        raise LoadError(f"operator login answered {response.status_code}: {response.text[:300]}")
    return str(response.json()["access_token"])


async def drive(plan: Plan) -> Window:
    """Log in, open the event stream and the SOS watch, time SOS at rest, then run the load."""
    base_url = f"http://{plan.host}:{plan.http_port}"
    async with httpx.AsyncClient(base_url=base_url) as client:
        alarms = _Alarms(client, await _token(client, plan), plan.sos_device_id)
        listener = asyncio.create_task(alarms.listen())
        probe = _SosProbe(plan.sos_identifier, alarms)
        try:
            await _guarded(
                alarms.connected.wait(), listener, CONNECT_TIMEOUT, "the event stream did not open"
            )
            await probe.open(plan.host, plan.watch_port)
            idle = [await _guarded(probe.once(), listener) for _ in range(plan.sos_idle)]
            window = await _load(plan, probe, listener)
            window.sos_idle_ms = idle
            return window
        finally:
            await probe.close()
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await listener


async def _guarded(
    work: Coroutine[Any, Any, T] | asyncio.Task[T],
    listener: asyncio.Task[None],
    limit: float | None = None,
    why: str = "timed out",
) -> T:
    """Await ``work``, failing at once when the event stream dies meanwhile (or after ``limit`` s)."""
    task = work if isinstance(work, asyncio.Task) else asyncio.create_task(work)
    waiting: set[asyncio.Task[Any]] = {task, listener}
    done, _ = await asyncio.wait(waiting, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        return task.result()
    task.cancel()
    if listener in done:
        listener.result()  # raises what stopped the stream
        raise LoadError("the event stream ended")
    raise LoadError(why)


def _same(watch: _Watch) -> _Watch:
    return watch


async def _load(plan: Plan, probe: _SosProbe, listener: asyncio.Task[None]) -> Window:
    loop = asyncio.get_running_loop()
    shared = _Shared(frames=plan.frames, period_s=plan.period_s)
    watches: list[_Watch] = []
    for identifier in plan.identifiers:
        watch = _Watch(identifier, shared, loop.create_future())
        watches.append(watch)
        await loop.create_connection(functools.partial(_same, watch), plan.host, plan.watch_port)

    def check() -> None:
        if shared.error is not None:
            raise shared.error
        if listener.done():
            listener.result()
            raise LoadError("the event stream ended")

    async def wait(seconds: float, label: str) -> None:
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            check()
            await asyncio.sleep(min(left, 0.1))
            if plan.on_tick is not None:
                plan.on_tick(label, time.perf_counter())

    sos: list[float] = []
    sos_task: asyncio.Task[None] | None = None
    try:
        deadline = time.perf_counter() + CONNECT_TIMEOUT
        while shared.started < len(watches):
            check()
            if time.perf_counter() > deadline:
                raise LoadError(f"only {shared.started} of {len(watches)} watches answered")
            await asyncio.sleep(0.02)
        await wait(plan.warmup, "warm-up")

        interval = plan.duration / max(plan.sos_load, 1)

        async def sos_during_load() -> None:
            # Spread over the window; when an SOS takes longer than the spacing the next one waits
            # for it, and the load goes on until the last one is answered.
            for k in range(plan.sos_load):
                await asyncio.sleep(max(interval * (k + 0.5) - (time.perf_counter() - started), 0.0))
                sos.append(await probe.once())

        cpu_start, acked_start = plan.server_cpu(), shared.acked
        client_cpu, started, start = time.process_time(), time.perf_counter(), datetime.now(UTC)
        sos_task = asyncio.create_task(sos_during_load())
        try:
            await wait(plan.duration, "load")
        finally:
            end, seconds = datetime.now(UTC), time.perf_counter() - started
            cpu_end, acked_end = plan.server_cpu(), shared.acked
            client_share = (time.process_time() - client_cpu) / seconds
        await _guarded(sos_task, listener)
    except BaseException:
        shared.stopping = True
        if sos_task is not None:
            sos_task.cancel()
        for watch in watches:
            watch.abort()
        await asyncio.wait([watch.closed for watch in watches], timeout=5.0)
        raise
    # Each watch closes after the answer to its batch in flight: at most FRAMES_PER_ACK positions
    # each, so the wait is bounded by what the server stored per second in the window.
    shared.stopping = True
    for watch in watches:  # paced watches waiting for their next turn have nothing in flight
        if not watch.in_flight and watch.transport is not None:
            watch.transport.close()
    rate = max((acked_end - acked_start) / seconds, 1.0)
    limit = DRAIN_SECONDS + 4 * len(watches) * FRAMES_PER_ACK / rate
    drain_started = time.perf_counter()
    await asyncio.wait([watch.closed for watch in watches], timeout=limit)
    drained = time.perf_counter() - drain_started
    if shared.error is not None:
        raise shared.error
    if not all(watch.closed.done() for watch in watches):
        raise LoadError(f"some watches got no answer to their last batch within {limit:.0f} s")
    server_cpu = None if cpu_start is None or cpu_end is None else cpu_end - cpu_start
    return Window(
        start, end, seconds, acked_end - acked_start, server_cpu, client_share, drained, sos_load_ms=sos
    )


def run_drive(plan: Plan) -> Window:
    """:func:`drive` on uvloop when installed (as under ``smartseoul serve``)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(drive(plan))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(drive(plan))
