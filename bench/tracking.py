"""Watch positions/s stored end to end (SQLite, PostgreSQL) next to decoding alone, and SOS latency.

Why: the location safety service must take every watch of a city's children at once, and an SOS
must reach the control room while it does. The platform runs as the real ``smartseoul serve``
subprocess (watch listener on, one free port per listener, in-process bus) on a fresh migrated
database of each engine, with 10,000 watches (200 with ``--quick``) registered beforehand through
the service functions, each for a person with a valid consent (without one, positions are rightly
not stored).

Load: every watch holds one TCP connection and sends ``UD`` frames stamped with the current time,
10 at a time followed by an ``LK`` heartbeat, and sends the next batch when the heartbeat is
answered (watch frames have no per-position acknowledgement; the listener answers the ``LK`` only
after the positions before it were committed, so this is a closed loop with at most one batch in
flight per watch; see ``bench/_tracking_load.py``). After a warm-up (the first heartbeat of every
watch loads its device into the ingestor's cache), a window of 10 s (2 s) is recorded. The figure
is what the database holds, not what the clients sent: the rows of ``tracking_positions`` whose
``received_at`` lies inside the window, counted after every watch got the answer to its last batch.

Zones: every person has 5 active safe zones (home circle, school polygon, route corridor and two
places the walk never reaches), 50,000 in all with 10,000 watches; the walk leaves home and
enters school, so zone states change and zone alarms are raised during the run. Each engine is
loaded twice on the same database: zone evaluation on, then off (the baseline).

Reported, all from the same run:

- ``decode_positions_per_s``: the baseline, ``WatchDecoder.feed`` over the same frames in this
  process (4 KiB reads, as the listener reads), one core;
- ``{engine}_positions_per_s``: stored positions per second end to end, zones evaluated;
- ``{engine}_paced_positions_per_s``, ``_paced_sos_p50_ms``, ``_paced_sos_p99_ms``: the issue's
  load, every watch reporting one position every 10 s at a random phase (10,000 watches: about
  1,000 positions/s), zones on, and the SOS latency under it;
- ``{engine}_positions_per_s_zones_off``: the same closed loop with zone evaluation off, and
  ``{engine}_ratio_zones_on_over_off`` the one over the other;
- ``{engine}_server_cpu_s_per_1000_positions``: the server process's CPU (user + system, all its
  threads, from /proc) per 1,000 stored positions, to size cores; PostgreSQL's own CPU is not in it.
  The issue's target (10,000 positions/s on one core with 50,000 zones) is at most 0.100 here;
  ``..._zones_off`` is the same for the baseline run;
- ``ratio_{engine}_over_decode``: end to end over decoding alone;
- ``{engine}_sos_p50_ms`` / ``_p99_ms``: from writing an ``AL`` frame with the SOS status bit
  (``00010000``) on one more watch's connection to the ``tracking.alarm.raised.v1`` event reaching
  a Server-Sent-Events client on ``/api/v1/stream/events`` (an operator logged in with TOTP), one
  SOS at a time, 20 (5) spread over the load window, the load going on until the last one is
  answered (nearest rank: with 20 samples p99 is the slowest); ``{engine}_sos_idle_p50_ms`` is the
  same with no load, 5 (3) SOS before the watches connect.

The load client (uvloop, one process) and the server share this machine's cores: the client's CPU
share and the server's are printed on stderr. PostgreSQL is ``SMARTSEOUL_BENCH_PG_URL`` (an admin
URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres); the run creates its own
database there and drops it at the end. When PostgreSQL is not reachable its figures are null and
a note on stderr says so.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import Progress

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
DEVICES_FULL, DEVICES_QUICK = 10_000, 200
ZONES_PER_PERSON = 5  # 10,000 watches x 5 = the 50,000 active zones of the issue
DURATION_FULL, DURATION_QUICK = 10.0, 2.0
WARMUP_FULL, WARMUP_QUICK = 1.0, 0.5
SOS_LOAD_FULL, SOS_LOAD_QUICK = 20, 5
SOS_IDLE_FULL, SOS_IDLE_QUICK = 5, 3
DECODE_SECONDS_FULL, DECODE_SECONDS_QUICK = 2.0, 0.3
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IDENTIFIER_BASE = 860_000_000_000_000  # 15-digit IMEI-like identifiers
OPERATOR = ("bench.operator", "Bench-operator-2015!")
# one operator per run: TOTP codes cannot be replayed, and two runs can fall in one 30 s window
RUNS = ("zones-on", "zones-off", "paced")
PERIOD_S = 10.0  # the load: every watch reports once every 10 s

err = Console(stderr=True, soft_wrap=True)


def _sibling(name: str) -> ModuleType:
    """Import ``bench/NAME.py``; bench/ is not a package (the runner loads files by path)."""
    spec = importlib.util.spec_from_file_location(f"smartseoul_bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_api = _sibling("api")  # serve(), _free_ports(), _cpu_seconds(): the same server handling as bench api
_client = _sibling("_tracking_load")


# ---------------------------------------------------------------- the baseline


def decode_rate(seconds: float) -> float:
    """Positions/s through ``WatchDecoder.feed`` alone, over the frames the watches send."""
    from smartseoul.tracking.protocols import FrameError
    from smartseoul.tracking.protocols.watch import WatchDecoder

    identifier = str(IDENTIFIER_BASE)
    when = datetime.now(UTC).replace(microsecond=0)
    stream = b"".join(_client.positions_batch(identifier, index, when) for index in range(100))
    chunks = [stream[start : start + 4096] for start in range(0, len(stream), 4096)]
    positions = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        decoder = WatchDecoder()
        for chunk in chunks:
            for item in decoder.feed(chunk):
                if isinstance(item, FrameError):
                    raise RuntimeError(f"the benchmark's own frame did not decode: {item.reason}")
                if item.fix is not None:
                    positions += 1
    return positions / elapsed


# ---------------------------------------------------------------- the database


@dataclass
class Fleet:
    """What was registered: the load watches, the SOS watch and the operator."""

    identifiers: list[str]
    sos_identifier: str
    sos_device_id: int
    totp_secrets: dict[str, str]  # run -> the TOTP secret of that run's operator


def zone_templates() -> list[dict[str, object]]:
    """Five safe zones around the watches' walk (which runs north-east from ``HOME`` for about
    1.4 km and back): home (a circle the walk leaves), school (a polygon it reaches), the route
    between them (a corridor it stays in), and two places it never goes; each validated once by
    the platform's own zone validation, then stored for every person."""
    from smartseoul.tracking.zones import validate_zone

    lat, lon = _client.HOME
    school = [[lon + 0.008, lat + 0.008], [lon + 0.012, lat + 0.008], [lon + 0.012, lat + 0.012],
              [lon + 0.008, lat + 0.012], [lon + 0.008, lat + 0.008]]  # fmt: skip
    shapes: list[dict[str, object]] = [
        {"name": "home", "kind": "circle", "role": "home", "radius_m": 150.0,
         "geometry": {"type": "Point", "coordinates": [lon, lat]}},
        {"name": "school", "kind": "polygon", "role": "school",
         "geometry": {"type": "Polygon", "coordinates": [school]},
         "schedule": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}]},
        {"name": "route", "kind": "corridor", "role": "route", "width_m": 60.0,
         "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.01, lat + 0.01]]}},
        {"name": "grandmother", "kind": "circle", "role": "other", "radius_m": 200.0,
         "geometry": {"type": "Point", "coordinates": [lon - 0.02, lat + 0.01]}},
        {"name": "academy", "kind": "circle", "role": "other", "radius_m": 100.0,
         "geometry": {"type": "Point", "coordinates": [lon + 0.02, lat - 0.01]}},
    ]  # fmt: skip
    return [validate_zone(bounds=None, **shape) for shape in shapes][:ZONES_PER_PERSON]  # type: ignore[arg-type]


def prepare(url: str, devices: int) -> Fleet:
    """Migrate, then register ``devices`` + 1 watches for consenting people, each with
    ``ZONES_PER_PERSON`` active safe zones, and an operator with TOTP.

    Each person is adult-rule (no birth date, category ``child`` without an age): their own consent
    (Art. 18) is valid, which is the cheapest valid consent to record. Zones are stored as rows
    (validated once per template above) rather than one audited ``add_zone`` call each, to keep
    the set-up of 50,000 zones short; the ingestor reads them the same way.
    """
    from sqlalchemy.orm import Session

    from smartseoul.core import auth
    from smartseoul.core.db import make_engine
    from smartseoul.core.migrate import upgrade
    from smartseoul.tracking import consent, service
    from smartseoul.tracking.models import SafeZone

    templates = zone_templates()

    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            identifiers = []
            device_id = 0
            for index in range(devices + 1):
                identifier = str(IDENTIFIER_BASE + index)
                person = service.add_person(
                    session, display_name=f"bench person {index}", category="child", actor="bench"
                )
                consent.give(session, person, given_by="person", recorded_by="bench")
                device = service.register_device(
                    session, identifier, "watch", actor="bench", person_id=person.id, label="bench"
                )
                identifiers.append(identifier)
                device_id = device.id
                session.add_all(
                    SafeZone(person_id=person.id, created_by="bench", active=True, **dict(t))
                    for t in templates
                )
                if index % 1000 == 999:
                    session.flush()
            secrets = {}
            for run_name in RUNS:
                user = auth.create_user(
                    session,
                    username=f"{OPERATOR[0]}.{run_name}",
                    password=OPERATOR[1],
                    roles=["operator"],
                    actor="bench",
                )
                secrets[run_name] = auth.new_totp_secret()
                user.totp_secret, user.totp_enabled = secrets[run_name], True
            session.commit()
    finally:
        engine.dispose()
    # The last watch is the SOS probe; it sends no load.
    return Fleet(identifiers[:-1], identifiers[-1], device_id, secrets)


def stored_in(url: str, start: datetime, end: datetime, exclude_device: int) -> int:
    """Positions the database holds with ``received_at`` in [start, end), the SOS watch's excluded."""
    from sqlalchemy import func, select

    from smartseoul.core.db import make_engine
    from smartseoul.tracking.models import Position

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(
                select(func.count())
                .select_from(Position)
                .where(
                    Position.received_at >= start,
                    Position.received_at < end,
                    Position.device_id != exclude_device,
                )
            )
    finally:
        engine.dispose()
    return int(count or 0)


def _pg_reachable(admin_url: str) -> str | None:
    """None when something listens at the PostgreSQL address, else the reason (checked in 0.5 s)."""
    parts = urlsplit(admin_url.replace("postgresql+psycopg", "postgresql", 1))
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return None
    except OSError as error:
        return f"not reachable at {host}:{port} ({error.strerror or error})"


def _pg_admin(admin_url: str, statement: str) -> None:
    from sqlalchemy import text

    from smartseoul.core.db import make_engine

    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


# ---------------------------------------------------------------- one engine


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest rank; None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(round(fraction * len(ordered)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def measure(engine: str, url: str, quick: bool, workdir: Path) -> dict[str, float | None]:
    """Register the fleet on ``url``, then load it twice: zone evaluation on, and off (the
    baseline: the same load and database with ``SMARTSEOUL_TRACKING_ZONES=0``)."""
    devices = DEVICES_QUICK if quick else DEVICES_FULL
    started = time.perf_counter()
    with err.status(f"{engine}: registering {devices} watches with {ZONES_PER_PERSON} zones each"):
        fleet = prepare(url, devices)
    err.print(
        f"{engine}: {devices} + 1 watches and {(devices + 1) * ZONES_PER_PERSON} zones registered "
        f"in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )
    figures = drive(engine, url, fleet, quick, workdir, zones=True)
    baseline = drive(engine, url, fleet, quick, workdir, zones=False)
    paced = drive(engine, url, fleet, quick, workdir, zones=True, paced=True)
    for key in ("positions_per_s", "sos_p50_ms", "sos_p99_ms"):
        figures[f"{engine}_paced_{key}"] = paced[f"{engine}_{key}"]
    off = baseline[f"{engine}_positions_per_s"]
    on = figures[f"{engine}_positions_per_s"]
    figures[f"{engine}_positions_per_s_zones_off"] = off
    cpu_off = baseline[f"{engine}_server_cpu_s_per_1000_positions"]
    figures[f"{engine}_server_cpu_s_per_1000_positions_zones_off"] = cpu_off
    figures[f"{engine}_ratio_zones_on_over_off"] = None if not on or not off else round(on / off, 4)
    return figures


def drive(
    engine: str, url: str, fleet: Fleet, quick: bool, workdir: Path, *, zones: bool, paced: bool = False
) -> dict[str, float | None]:
    """Serve the platform on ``url`` and load it with the fleet; the figures of that run. Closed
    loop (as fast as the server answers) or ``paced`` (one position per watch every 10 s)."""
    from pyotp import TOTP

    devices = len(fleet.identifiers)
    duration = DURATION_QUICK if quick else DURATION_FULL
    warmup = WARMUP_QUICK if quick else WARMUP_FULL
    run_name = RUNS[2] if paced else RUNS[0] if zones else RUNS[1]
    label = f"{engine} ({run_name})"

    ports = dict(zip(("web", "watch", "gt06", "h02", "osmand"), _api._free_ports(5), strict=True))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSEOUL_")}
    env.update(
        SMARTSEOUL_DATA_DIR=str(workdir),
        SMARTSEOUL_DATABASE_URL=url,
        SMARTSEOUL_BUS_URL="memory://",
        SMARTSEOUL_SECRET_KEY="bench-secret-" + "x" * 40,
        SMARTSEOUL_TRACKING_LISTENERS="1",
        SMARTSEOUL_TRACKING_LISTEN_HOST=HOST,
        SMARTSEOUL_TRACKING_WATCH_PORT=str(ports["watch"]),
        SMARTSEOUL_TRACKING_GT06_PORT=str(ports["gt06"]),
        SMARTSEOUL_TRACKING_H02_PORT=str(ports["h02"]),
        SMARTSEOUL_TRACKING_OSMAND_PORT=str(ports["osmand"]),
        SMARTSEOUL_TRACKING_ZONES="1" if zones else "0",
    )
    command = [sys.executable, "-m", "smartseoul.cli", "serve", "--host", "{host}", "--port", "{port}"]
    with _api.serve(command, env, "/healthz", workdir, port=ports["web"]) as server:
        pid = server.process.pid
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"{label}: {devices} watches", total=warmup + duration)
            began = time.perf_counter()
            plan = _client.Plan(
                host=HOST,
                watch_port=ports["watch"],
                http_port=server.port,
                identifiers=fleet.identifiers,
                sos_identifier=fleet.sos_identifier,
                sos_device_id=fleet.sos_device_id,
                username=f"{OPERATOR[0]}.{run_name}",
                password=OPERATOR[1],
                otp=TOTP(fleet.totp_secrets[run_name]).now,
                warmup=warmup,
                duration=duration,
                sos_idle=SOS_IDLE_QUICK if quick else SOS_IDLE_FULL,
                sos_load=SOS_LOAD_QUICK if quick else SOS_LOAD_FULL,
                server_cpu=lambda: _api._cpu_seconds(pid),
                frames=1 if paced else _client.FRAMES_PER_ACK,
                period_s=PERIOD_S if paced else 0.0,
                on_tick=lambda step, now: progress.update(
                    task, completed=now - began, description=f"{engine}: {devices} watches, {step}"
                ),
            )
            try:
                window = _client.run_drive(plan)
            except _client.LoadError as error:
                raise RuntimeError(f"{label}: {error}\nserver log:\n{server.log_tail(60)}") from error
    stored = stored_in(url, window.start, window.end, fleet.sos_device_id)
    if stored == 0:
        raise RuntimeError(f"{label}: no position stored in the window (the client saw {window.acked} acked)")
    rate = stored / window.seconds
    cpu_per_1000 = None if window.server_cpu is None else window.server_cpu / stored * 1000.0
    server_share = (
        "" if window.server_cpu is None else f", server CPU {window.server_cpu / window.seconds:.0%}"
    )
    err.print(
        f"{label}: {stored} positions stored in {window.seconds:.2f} s ({rate:.0f}/s; the watches saw "
        f"{window.acked} acknowledged; the last batches drained in {window.drain_seconds:.1f} s), "
        f"load client CPU {window.client_cpu_share:.0%}{server_share}; "
        f"SOS at rest {_ms(window.sos_idle_ms)}, under load {_ms(window.sos_load_ms)}",
        highlight=False,
    )
    return {
        f"{engine}_positions_per_s": round(rate, 1),
        f"{engine}_server_cpu_s_per_1000_positions": None if cpu_per_1000 is None else round(cpu_per_1000, 4),
        f"{engine}_sos_idle_p50_ms": _round(_percentile(window.sos_idle_ms, 0.5)),
        f"{engine}_sos_p50_ms": _round(_percentile(window.sos_load_ms, 0.5)),
        f"{engine}_sos_p99_ms": _round(_percentile(window.sos_load_ms, 0.99)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ms(values: list[float]) -> str:
    return "[" + ", ".join(f"{value:.0f}" for value in values) + "] ms"


ENGINE_KEYS = (
    "positions_per_s",
    "positions_per_s_zones_off",
    "ratio_zones_on_over_off",
    "paced_positions_per_s",
    "paced_sos_p50_ms",
    "paced_sos_p99_ms",
    "server_cpu_s_per_1000_positions",
    "server_cpu_s_per_1000_positions_zones_off",
    "sos_idle_p50_ms",
    "sos_p50_ms",
    "sos_p99_ms",
)


def _raise_file_limit(needed: int) -> None:
    """Each watch is a socket in this process and another in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run(quick: bool = False) -> dict[str, float | None]:
    """Decode baseline, then SQLite, then PostgreSQL (null when it is not reachable)."""
    _raise_file_limit(2 * (DEVICES_QUICK if quick else DEVICES_FULL) + 256)
    figures: dict[str, float | None] = {}
    with err.status("decoding frames in process"):
        decode = decode_rate(DECODE_SECONDS_QUICK if quick else DECODE_SECONDS_FULL)
    figures["decode_positions_per_s"] = round(decode, 1)
    err.print(f"decode only: {decode:.0f} positions/s on one core", highlight=False)

    workdir = Path(tempfile.mkdtemp(prefix="smartseoul-bench-tracking-"))
    try:
        sqlite_dir = workdir / "sqlite"
        sqlite_dir.mkdir()
        figures.update(
            measure("sqlite", f"sqlite:///{(sqlite_dir / 'bench.db').as_posix()}", quick, sqlite_dir)
        )

        admin_url = os.environ.get("SMARTSEOUL_BENCH_PG_URL", DEFAULT_PG_ADMIN_URL)
        skipped = _pg_reachable(admin_url)
        if skipped is None:
            name = f"smartseoul_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
            try:
                pg_dir = workdir / "postgresql"
                pg_dir.mkdir()
                url = admin_url.rsplit("/", 1)[0] + f"/{name}"
                figures.update(measure("postgresql", url, quick, pg_dir))
            finally:
                _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            err.print(f"PostgreSQL skipped: {skipped}; its figures are null", highlight=False)
            figures.update({f"postgresql_{key}": None for key in ENGINE_KEYS})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for engine in ("sqlite", "postgresql"):
        value = figures.get(f"{engine}_positions_per_s")
        figures[f"ratio_{engine}_over_decode"] = None if value is None else round(value / decode, 5)
    return figures
