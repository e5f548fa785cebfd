"""Bell press on MQTT to the incident on a console SSE client, idle and under 1,000 alarm events/s.

Why: a press must reach the operator's screen at once even while the city's alarms pour in, and a
burst of alarms about one fight must not flood the desk.

The platform (the app ``smartseoul serve`` runs, every domain started, under uvicorn) runs in this
process on a fresh migrated SQLite database with the in-process bus, so that the bench can put the
background alarms on that bus; the bells' MQTT subscriber listens on Mosquitto. Emergency bells
are registered beforehand, each far from the others, so that every press opens its own incident.
The console is an SSE client on ``/api/v1/stream/incidents`` (the desk's own stream) authenticated
with an operator API key.

- ``press_idle_p50_ms`` / ``_p99_ms`` (the baseline, same run): from publishing
  ``smartseoul/bells/{id}/press`` (QoS 1) to the ``safety.incident.opened.v1`` of that bell arriving
  on the SSE client, one press at a time, 10 (3 with ``--quick``) with no other load;
- ``press_load_p50_ms`` / ``_p99_ms``: the same, 30 (5) presses, while the bench publishes
  ``tracking.alarm.raised.v1`` events onto the bus at 1,000/s (low-battery alarms of 500 persons: the
  desk's intake consumer correlates each into the desk, and the hub streams what it produces);
- ``ratio_press_load_over_idle_p50``; ``load_events_per_s``: the background rate reached;
  ``intake_alarms_per_s``: background alarms the desk correlated and stored per second meanwhile
  (one transaction each; what it cannot take yet waits in the bus, nothing is dropped);
- ``burst_alarms``, ``burst_incidents``, ``correlation_alarms_per_incident``: 50 (10) simulated
  bursts of 3 to 8 alarms (SOS, screams, breaking glass, citizens' reports within 100 m and 90 s,
  the simulator's ``burst``) at random bells, run through the desk's intake in this process.

Nearest-rank percentiles (with 30 samples p99 is the slowest). The load publisher, the SSE client
and the server share one event loop and this machine's cores, so the figures include the client's
own work. When Mosquitto is not reachable the latency figures are null and a note on stderr says so;
the correlation figures do not need it. Also run: the burst correlation.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import math
import os
import random
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
MQTT_URL = os.environ.get("SMARTSEOUL_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883")
LOAD_PER_S = 1000
PERSONS = 500
BELLS = 60
PRESS_TIMEOUT_S = 30.0
err = Console(stderr=True, soft_wrap=True)


def _sibling(name: str) -> ModuleType:
    """Import ``bench/NAME.py``; bench/ is not a package (the runner loads files by path)."""
    spec = importlib.util.spec_from_file_location(f"smartseoul_bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_api = _sibling("api")  # serve(), _seed_database(): the same server handling as bench api


def _reachable(url: str) -> bool:
    host, _, port = url.split("://", 1)[1].partition(":")
    try:
        with socket.create_connection((host, int(port or 0)), timeout=0.5):
            return True
    except OSError:
        return False


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)], 2)


# ---------------------------------------------------------------- correlation


def correlation(bursts: int) -> dict[str, float | None]:
    """Simulated bursts through the desk's intake on a fresh SQLite database."""
    from sqlalchemy.orm import Session

    from smartseoul.core.db import make_engine
    from smartseoul.core.settings import Settings
    from smartseoul.safety.incidents import service
    from smartseoul.safety.incidents.models import Bell
    from smartseoul.safety.incidents.seed import seed_bells
    from smartseoul.safety.incidents.simulate import burst

    with tempfile.TemporaryDirectory(prefix="bench-incidents-") as tmp:
        url = f"sqlite:///{tmp}/correlation.db"
        _api._seed_database(url)
        engine = make_engine(url)
        settings = Settings(data_dir=Path(tmp), database_url=url)
        rng = random.Random(20151)
        with Session(engine) as session:
            seed_bells(session, 20151)
            places = [(bell.lat, bell.lon) for bell in session.query(Bell)]
            for _ in range(bursts):
                for item in burst(rng, rng.choice(places), rng.randint(3, 8)):
                    service.intake(session, settings, item)
            alarms, incidents = service.correlation_counts(session)
            session.rollback()
        engine.dispose()
    return {
        "burst_alarms": float(alarms),
        "burst_incidents": float(incidents),
        "correlation_alarms_per_incident": round(alarms / incidents, 3) if incidents else None,
    }


# ---------------------------------------------------------------- presses


def prepare(url: str) -> tuple[list[tuple[str, str]], str]:
    """Bells (id, English title of their incident) spread over the city, and an operator API key."""
    from sqlalchemy.orm import Session

    from smartseoul.city.service import random_points_in
    from smartseoul.core import auth
    from smartseoul.core.db import make_engine
    from smartseoul.safety.incidents import bells
    from smartseoul.safety.incidents.service import city_index

    engine = make_engine(url)
    rng = random.Random(7)
    found: list[tuple[str, str]] = []
    with Session(engine) as session:
        index = city_index(session)
        codes = sorted(index.district_shapes)
        for number in range(BELLS):
            ((lat, lon),) = random_points_in(index.district_shapes[codes[number % len(codes)]], 1, rng)
            bell = bells.add_bell(
                session, f"BENCH-{number:03d}", lat, lon, actor="bench", name=f"BENCH-{number:03d}"
            )
            found.append((bell.id, f"Emergency bell {bell.name}"))
        key = auth.create_api_key(session, name="bench-console", role="operator", actor="bench")
        session.commit()
    engine.dispose()
    return found, key


class SseConsole:
    """The SSE client: the arrival time of each incident title it sees opened."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.connected = asyncio.Event()

    def waiter(self, title: str) -> asyncio.Event:
        return self.waiters.setdefault(title, asyncio.Event())

    async def run(self, port: int, key: str) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client,
            client.stream(
                "GET", f"http://{HOST}:{port}/api/v1/stream/incidents", headers=headers
            ) as response,
        ):
            response.raise_for_status()
            self.connected.set()
            async for line in response.aiter_lines():
                if not line.startswith("data:") or "safety.incident.opened.v1" not in line:
                    continue
                now = time.perf_counter()
                title = json.loads(line[5:])["data"].get("title", "")
                self.arrived.setdefault(title, now)
                self.waiter(title).set()


async def _press(mqtt: Any, console: SseConsole, bell_id: str, title: str) -> float:
    started = time.perf_counter()
    await mqtt.publish(f"smartseoul/bells/{bell_id}/press", b"{}", qos=1)
    await asyncio.wait_for(console.waiter(title).wait(), PRESS_TIMEOUT_S)
    return (console.arrived[title] - started) * 1000


async def _warm_up(mqtt: Any, console: SseConsole, bell: tuple[str, str]) -> None:
    """Press until the server's MQTT subscriber is there (it subscribes after /healthz answers)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        await mqtt.publish(f"smartseoul/bells/{bell[0]}/press", b"{}", qos=1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(console.waiter(bell[1]).wait(), 1.0)
            return
    raise RuntimeError("no incident from the warm-up press within 60 s")


async def _load(platform: Any, stop: asyncio.Event, sent: list[int]) -> None:
    """Publish low-battery alarms onto the platform's bus at LOAD_PER_S, in 10 ms slices."""
    from smartseoul.core.events import GenericEvent

    number = 0
    next_slice = time.perf_counter()
    while not stop.is_set():
        for _ in range(LOAD_PER_S // 100):
            number += 1
            person = number % PERSONS + 1
            await platform.bus.publish(
                GenericEvent(
                    event_type="tracking.alarm.raised.v1",
                    payload={
                        "alarm_id": 10_000_000 + number,
                        "kind": "low_battery",
                        "device_id": person,
                        "person_id": person,
                        "district_code": None,
                        "lat": None,
                        "lon": None,
                        "position_is_last_known": False,
                        "position_age_s": None,
                        "emergency": False,
                    },
                )
            )
        sent[0] = number
        next_slice += 0.01
        await asyncio.sleep(max(0.0, next_slice - time.perf_counter()))


async def drive(platform: Any, key: str, bells: list[tuple[str, str]], quick: bool) -> dict[str, Any]:
    """Serve the app, connect the console, press the bells idle and then under load."""
    import uvicorn

    from smartseoul.web.app import create_app

    port = _api._free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host=HOST, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.05)
        return await _measure(platform, port, key, bells, quick)
    finally:
        server.should_exit = True
        await serving


async def _measure(
    platform: Any, port: int, key: str, bells: list[tuple[str, str]], quick: bool
) -> dict[str, Any]:
    import aiomqtt

    idle_n, load_n = (3, 5) if quick else (10, 30)
    console = SseConsole()
    reader = asyncio.create_task(console.run(port, key))
    await asyncio.wait_for(console.connected.wait(), 30)
    host, _, mqtt_port = MQTT_URL.split("://", 1)[1].partition(":")
    try:
        async with aiomqtt.Client(
            host, int(mqtt_port or 1883), identifier=f"bench-bells-{uuid.uuid4().hex[:8]}"
        ) as mqtt:
            await _warm_up(mqtt, console, bells[0])
            idle = [await _press(mqtt, console, b, t) for b, t in bells[1 : 1 + idle_n]]
            stop, sent = asyncio.Event(), [0]
            stored_before = await asyncio.to_thread(_raw_alarms, platform)
            load_started = time.perf_counter()
            loader = asyncio.create_task(_load(platform, stop, sent))
            await asyncio.sleep(1.0 if quick else 3.0)
            started, before = time.perf_counter(), sent[0]
            loaded = []
            for bell_id, title in bells[1 + idle_n : 1 + idle_n + load_n]:
                loaded.append(await _press(mqtt, console, bell_id, title))
                await asyncio.sleep(0.2)
            rate = (sent[0] - before) / (time.perf_counter() - started)
            stop.set()
            await loader
            stored = await asyncio.to_thread(_raw_alarms, platform)
            intake = (stored - stored_before) / (time.perf_counter() - load_started)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
    return {"idle": idle, "load": loaded, "rate": rate, "intake": intake}


def _raw_alarms(platform: Any) -> int:
    """Alarms the desk has taken in so far (each one correlated and stored)."""
    from sqlalchemy import func, select

    from smartseoul.safety.incidents.models import RawAlarm

    with platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(RawAlarm)) or 0)


def presses(quick: bool) -> dict[str, float | None]:
    from smartseoul.core.bootstrap import bootstrap
    from smartseoul.core.bus import InProcessBus
    from smartseoul.core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-incidents-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        _api._seed_database(url)
        bells, key = prepare(url)
        settings = Settings(
            data_dir=Path(tmp),
            database_url=url,
            secret_key="bench-secret-" + "x" * 40,
            incidents_mqtt_url=MQTT_URL,
            tracking_listeners=False,
            log_level="WARNING",
        )
        platform = bootstrap(settings, bus=InProcessBus(max_events=1_000_000))
        try:
            found = asyncio.run(drive(platform, key, bells, quick))
        finally:
            platform.db.dispose()
    idle_p50, load_p50 = _percentile(found["idle"], 0.5), _percentile(found["load"], 0.5)
    err.print(
        f"bell press to console: idle {len(found['idle'])} presses, loaded {len(found['load'])} presses "
        f"at {found['rate']:.0f} background alarm events/s"
    )
    return {
        "press_idle_p50_ms": idle_p50,
        "press_idle_p99_ms": _percentile(found["idle"], 0.99),
        "press_load_p50_ms": load_p50,
        "press_load_p99_ms": _percentile(found["load"], 0.99),
        "ratio_press_load_over_idle_p50": round(load_p50 / idle_p50, 3) if idle_p50 and load_p50 else None,
        "load_events_per_s": round(found["rate"], 1),
        "intake_alarms_per_s": round(found["intake"], 1),
    }


LATENCY_KEYS = (
    "press_idle_p50_ms",
    "press_idle_p99_ms",
    "press_load_p50_ms",
    "press_load_p99_ms",
    "ratio_press_load_over_idle_p50",
    "load_events_per_s",
    "intake_alarms_per_s",
)


def run(quick: bool = False) -> dict[str, float | None]:
    figures: dict[str, float | None] = correlation(10 if quick else 50)
    if not _reachable(MQTT_URL):
        err.print(f"latency skipped: Mosquitto not reachable at {MQTT_URL}")
        figures.update(dict.fromkeys(LATENCY_KEYS))
        return figures
    figures.update(presses(quick))
    return figures
