"""A small HTTP/1.1 keep-alive load generator for ``bench api`` (not a benchmark itself).

Why not httpx: a general client spends far more CPU per request than a one-route FastAPI server,
so on a 2-core machine it would measure itself. Each connection here is a bare asyncio Protocol
(on uvloop when installed) that sends one GET, reads the response by its Content-Length and sends
the next one at once: a closed loop of ``connections`` clients, each with one request in flight.
The client's own CPU share is reported, so a reader can see it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, cast


class LoadError(RuntimeError):
    """The server answered something other than a complete 200 response with a Content-Length."""


@dataclass
class Result:
    """What one load run measured over its recording window (warm-up excluded)."""

    requests: int
    seconds: float
    latencies: list[float]
    client_cpu_share: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile in milliseconds (p99 is ``fraction=0.99``)."""
        ordered = sorted(self.latencies)
        rank = max(round(fraction * len(ordered)) - 1, 0)
        return ordered[min(rank, len(ordered) - 1)] * 1000.0


@dataclass
class _Shared:
    recording: bool = False
    stopping: bool = False
    latencies: list[float] = field(default_factory=list)
    error: LoadError | None = None


class _Connection(asyncio.Protocol):
    """One keep-alive connection with one request in flight at a time."""

    def __init__(self, request: bytes, shared: _Shared, closed: asyncio.Future[None]) -> None:
        self.request = request
        self.shared = shared
        self.closed = closed
        self.buffer = bytearray()
        self.needed: int | None = None  # bytes of the current response once its head is parsed
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def _fail(self, message: str) -> None:
        if self.shared.error is None:
            self.shared.error = LoadError(message)
        assert self.transport is not None
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.needed is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                if head[9:12] != b"200":
                    self._fail(f"server answered {bytes(self.buffer[:end]).splitlines()[0]!r}")
                    return
                marker = head.find(b"\r\ncontent-length:")
                if marker < 0:
                    self._fail("response without Content-Length (chunked responses are not supported)")
                    return
                line_end = head.find(b"\r\n", marker + 2)
                length = int(head[marker + 17 : line_end if line_end > 0 else None])
                self.needed = end + 4 + length
            if len(self.buffer) < self.needed:
                return
            del self.buffer[: self.needed]
            self.needed = None
            if self.shared.recording:
                self.shared.latencies.append(time.perf_counter() - self.sent_at)
            if self.shared.stopping:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.shared.stopping and self.shared.error is None:
            self.shared.error = LoadError(f"server closed a connection: {exc or 'EOF'}")
        if not self.closed.done():
            self.closed.set_result(None)


async def _drive(
    host: str,
    port: int,
    path: str,
    connections: int,
    warmup: float,
    duration: float,
    on_tick: Callable[[float], None] | None,
) -> Result:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()
    shared = _Shared()
    closed: list[asyncio.Future[None]] = []
    for _ in range(connections):
        future: asyncio.Future[None] = loop.create_future()
        closed.append(future)
        await loop.create_connection(functools.partial(_Connection, request, shared, future), host, port)

    async def wait(seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            if shared.error is not None:
                raise shared.error
            await asyncio.sleep(min(left, 0.1))
            if on_tick is not None:
                on_tick(time.perf_counter())

    try:
        await wait(warmup)
        cpu_start, started = time.process_time(), time.perf_counter()
        shared.recording = True
        await wait(duration)
        shared.recording = False
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_start
        latencies = list(shared.latencies)
    finally:
        shared.stopping = True
        # Every connection closes after its in-flight response; bounded in case the server hangs.
        await asyncio.wait(closed, timeout=5.0)
    if shared.error is not None:
        raise shared.error
    if not latencies:
        raise LoadError(f"no response completed in {duration} s")
    return Result(len(latencies), seconds, latencies, cpu / seconds)


def _run_loop(main: Coroutine[Any, Any, Result]) -> Result:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def load(
    host: str,
    port: int,
    path: str,
    *,
    connections: int = 50,
    warmup: float = 1.0,
    duration: float = 5.0,
    on_tick: Callable[[float], None] | None = None,
) -> Result:
    """Drive ``GET path`` with ``connections`` keep-alive clients: ``warmup`` s unrecorded, then
    ``duration`` s recorded. ``on_tick`` is called about every 0.1 s (for a progress bar)."""
    return _run_loop(_drive(host, port, path, connections, warmup, duration, on_tick))
