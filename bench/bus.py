"""Events/s published and consumed through the in-process bus and NATS JetStream, in one run.

Why: every domain talks through the bus, and the two implementations promise the same guarantees
(durable consumers, explicit acks, de-duplication by event id), so the figure that matters is what
JetStream's durability costs next to the in-process log, measured on the same events in the same
process. For each bus: publish N events one ``await publish()`` after another (how the platform
publishes today: the simulator and ``seed demo`` await each event), then start a durable
subscriber and time until it has handled all N (the NATS side decodes each message and acks it;
the in-process side hands over the object). ``roundtrip`` is N over both phases together.
For NATS a second publish figure sends the same number of fresh events in concurrent batches
(``asyncio.gather``), which shows what a batching publish path could reach; it is compared with
the sequential NATS figure, not with memory.

NATS is ``SMARTSEOUL_BENCH_NATS_URL`` (default nats://127.0.0.1:4222); each run uses its own
stream, deleted at the end. When NATS is not reachable its figures are null and a note says so.
The event loop is uvloop when installed, as under ``smartseoul serve`` (uvicorn's default).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import Progress, TaskID

from smartseoul.city.events import CrimeReportSimulated
from smartseoul.core.bus import BusUnavailable, EventBus, InProcessBus, NatsBus
from smartseoul.core.events import Event

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
EVENTS_FULL, EVENTS_QUICK = 20_000, 500
PIPELINE_BATCH = 256  # concurrent publishes in flight in the pipelined figure
CHUNK = 500  # events between progress updates, so the bar costs nothing per event
CONSUME_TIMEOUT = 120.0

err = Console(stderr=True, soft_wrap=True)


def _events(count: int) -> list[Event]:
    """Fresh events (new ids, so no de-duplication), built before the clock starts.

    A simulated crime report is the platform's most frequent event, of a typical size (about 300
    bytes of JSON).
    """
    return [
        CrimeReportSimulated(
            source="bench",
            district_code="11680",
            district_ko="강남구",
            district_en="Gangnam-gu",
            police_station_ko="강남경찰서",
            crime="theft",
            lat=37.4979 + index * 1e-7,
            lon=127.0276,
        )
        for index in range(count)
    ]


def _chunks(events: list[Event], size: int) -> list[list[Event]]:
    return [events[start : start + size] for start in range(0, len(events), size)]


async def _publish(
    bus: EventBus, events: list[Event], advance: Callable[[int], None], batch: int | None = None
) -> float:
    """Seconds to publish ``events``: one at a time, or ``batch`` at a time with gather."""
    started = time.perf_counter()
    for chunk in _chunks(events, CHUNK):
        if batch is None:
            for event in chunk:
                await bus.publish(event)
        else:
            for group in _chunks(chunk, batch):
                await asyncio.gather(*(bus.publish(event) for event in group))
        advance(len(chunk))
    return time.perf_counter() - started


async def _consume(bus: EventBus, count: int, durable: str, advance: Callable[[int], None]) -> float:
    """Seconds from subscribing a durable consumer to its handler having seen ``count`` events."""
    seen = 0
    done = asyncio.Event()

    async def handler(event: Event) -> None:
        nonlocal seen
        seen += 1
        if seen % CHUNK == 0:
            advance(CHUNK)
        if seen >= count:
            done.set()

    started = time.perf_counter()
    subscription = await bus.subscribe(CrimeReportSimulated.type_name, handler, durable=durable)
    try:
        await asyncio.wait_for(done.wait(), CONSUME_TIMEOUT)
        return time.perf_counter() - started
    except TimeoutError:
        message = f"{durable}: only {seen} of {count} events consumed in {CONSUME_TIMEOUT:.0f} s"
        raise RuntimeError(message) from None
    finally:
        await subscription.stop()


async def _phase(
    progress: Progress, label: str, total: int, work: Callable[[Callable[[int], None]], Awaitable[float]]
) -> float:
    task: TaskID = progress.add_task(label, total=total)
    seconds = await work(lambda n: progress.advance(task, n))
    progress.update(task, completed=total)
    return seconds


async def _measure(bus: EventBus, name: str, count: int, progress: Progress) -> dict[str, float]:
    """Publish ``count`` events, then consume them with a durable subscriber; rates per second."""
    events = _events(count)
    publish = await _phase(
        progress, f"{name}: publish", count, lambda advance: _publish(bus, events, advance)
    )
    if isinstance(bus, NatsBus):
        await _check_stored(bus, count)
    consume = await _phase(
        progress, f"{name}: consume", count, lambda advance: _consume(bus, count, f"bench-{name}", advance)
    )
    return {
        f"{name}_publish_per_s": count / publish,
        f"{name}_consume_per_s": count / consume,
        f"{name}_roundtrip_per_s": count / (publish + consume),
    }


async def _check_stored(bus: NatsBus, count: int) -> None:
    """The stream must hold every published event (none dropped or taken for a duplicate)."""
    info = await bus._js.stream_info(bus.stream)  # type: ignore[attr-defined]
    if info.state.messages != count:
        raise RuntimeError(f"stream {bus.stream} holds {info.state.messages} events, {count} published")


def _reachable(url: str) -> str | None:
    """None when something listens at the NATS address, else the reason (checked in 0.5 s)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return None
    except OSError as error:
        return f"not reachable at {host}:{port} ({error.strerror or error})"


async def _measure_nats(url: str, count: int, progress: Progress) -> dict[str, float]:
    stream = f"BENCH_{uuid.uuid4().hex[:12].upper()}"
    bus = NatsBus(url, stream=stream)
    try:
        await asyncio.wait_for(bus.start(), 15.0)
        figures = await _measure(bus, "nats", count, progress)
        pipelined = _events(count)
        seconds = await _phase(
            progress,
            f"nats: publish, {PIPELINE_BATCH} in flight",
            count,
            lambda advance: _publish(bus, pipelined, advance, batch=PIPELINE_BATCH),
        )
        figures["nats_publish_pipelined_per_s"] = count / seconds
        return figures
    finally:
        if bus._js is not None:
            with contextlib.suppress(Exception):
                await bus.delete_stream()
        await bus.close()


async def _run(quick: bool) -> dict[str, float | None]:
    count = EVENTS_QUICK if quick else EVENTS_FULL
    url = os.environ.get("SMARTSEOUL_BENCH_NATS_URL", DEFAULT_NATS_URL)
    figures: dict[str, float | None] = {}
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        memory = InProcessBus()
        try:
            figures.update(await _measure(memory, "memory", count, progress))
        finally:
            await memory.close()
        skipped = _reachable(url)
        nats: dict[str, float] = {}
        if skipped is None:
            try:
                nats = await _measure_nats(url, count, progress)
            except (BusUnavailable, TimeoutError) as error:
                skipped = str(error) or "NATS did not answer in time"
    if skipped is not None:
        err.print(f"NATS skipped: {skipped}; its figures are null", highlight=False)
    for key in ("publish", "consume", "roundtrip", "publish_pipelined"):
        figures[f"nats_{key}_per_s"] = nats.get(f"nats_{key}_per_s")
    figures = {key: None if value is None else round(value, 1) for key, value in figures.items()}
    figures["ratio_nats_over_memory_publish"] = _ratio(figures, "nats_publish_per_s", "memory_publish_per_s")
    figures["ratio_nats_over_memory_roundtrip"] = _ratio(
        figures, "nats_roundtrip_per_s", "memory_roundtrip_per_s"
    )
    figures["ratio_nats_pipelined_over_sequential_publish"] = _ratio(
        figures, "nats_publish_pipelined_per_s", "nats_publish_per_s"
    )
    return figures


def _ratio(figures: dict[str, float | None], top: str, bottom: str) -> float | None:
    above, below = figures.get(top), figures.get(bottom)
    return None if above is None or not below else round(above / below, 5)


def _run_loop(main: Coroutine[Any, Any, dict[str, float | None]]) -> dict[str, float | None]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def run(quick: bool = False) -> dict[str, float | None]:
    """The figures; the NATS ones (and the ratios that need them) are None when NATS is skipped."""
    return _run_loop(_run(quick))
