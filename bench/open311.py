"""Open311 POST and GET /open311/v2/requests.json per second, 50 concurrent httpx clients, vs /healthz.

Why: Open311 is how apps and call centres file complaints into the platform (issue 9, part 3), so
its throughput says how many complaints one process takes in a storm (a typhoon floods hundreds of
streets at once) and how many listing requests (maps of open complaints) it serves.

The platform is the real ``smartseoul serve`` subprocess (in-process bus, SQLite seeded with the
city and the demo's 300 past complaints, the delivery worker running: every POST is also routed,
queued and delivered to the demo departments' inbox). 50 concurrent ``httpx`` clients in this
process run a closed loop (each sends its next request when the last answered) against:

- ``GET /healthz`` (the baseline, same server, same client: the comparable floor);
- ``GET /open311/v2/requests.json`` (the default listing: the last 90 days, newest first, at most
  1000 rows; here the demo's 300 complaints);
- ``POST /open311/v2/requests.json`` (a form-encoded complaint with an api_key, random points
  inside Seoul: key check, validation, point in polygon, routing, the outbox rows).

Reported: ``healthz_rps``, ``get_rps``, ``get_p99_ms``, ``get_rows``, ``post_rps``,
``post_p99_ms``, ``post_busy_503`` (POSTs answered 503 busy, to be retried by the client; not
counted as served), ``ratio_healthz_over_get_rps``, ``ratio_healthz_over_post_rps``. The client and
the server share this machine's cores (httpx costs CPU), so the ratios are the figures to compare.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console

HERE = Path(__file__).resolve().parent
CLIENTS = 50
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


def _prepare(url: str, data_dir: Path) -> str:
    """The demo complaints and an Open311 key in the database; the key."""
    from smartseoul.core.bootstrap import bootstrap
    from smartseoul.core.settings import Settings
    from smartseoul.services.complaints import service
    from smartseoul.services.complaints.simulate import seed_demo

    platform = bootstrap(Settings(data_dir=data_dir, database_url=url))
    try:
        with platform.db.session() as session:
            seed_demo(platform, session)
            return service.create_key(session, "bench", actor="bench")
    finally:
        platform.db.dispose()


class Phase:
    """Latencies of one closed-loop run."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.busy = 0  # 503 answers: the database could not take the write in time

    def rps(self, seconds: float) -> float:
        return len(self.latencies) / seconds

    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(max(round(0.99 * len(ordered)) - 1, 0), len(ordered) - 1)] * 1000.0


async def _closed_loop(base: str, send: Any, warmup: float, duration: float) -> tuple[Phase, float]:
    """``CLIENTS`` workers, each with one request in flight; counted after ``warmup``."""
    import httpx

    phase = Phase()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        start = time.perf_counter()
        record_from, stop_at = start + warmup, start + warmup + duration

        async def worker(number: int) -> None:
            rng = random.Random(number)
            while (now := time.perf_counter()) < stop_at:
                response = await send(client, rng)
                done = time.perf_counter()
                if response.status_code == 503:
                    phase.busy += 1
                elif response.status_code >= 300:
                    phase.errors += 1
                    if phase.errors == 1:
                        err.print(f"unexpected answer {response.status_code}: {response.text[:200]}")
                elif now >= record_from:
                    phase.latencies.append(done - now)

        await asyncio.gather(*(worker(n) for n in range(CLIENTS)))
    return phase, duration


def _measure(label: str, base: str, send: Any, warmup: float, duration: float) -> Phase:
    phase, seconds = asyncio.run(_closed_loop(base, send, warmup, duration))
    if phase.errors or not phase.latencies:
        raise RuntimeError(f"{label}: {phase.errors} failed requests, {len(phase.latencies)} answered")
    err.print(
        f"{label}: {len(phase.latencies)} requests in {seconds:.1f} s with {CLIENTS} clients", highlight=False
    )
    return phase


def run(quick: bool = False) -> dict[str, float]:
    warmup, duration = (0.3, 1.5) if quick else (1.0, 5.0)
    workdir = Path(tempfile.mkdtemp(prefix="smartseoul-bench-open311-"))
    try:
        url = f"sqlite:///{(workdir / 'bench.db').as_posix()}"
        with err.status("seeding a temporary database with the demo complaints"):
            _api._seed_database(url)
            key = _prepare(url, workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSEOUL_")}
        env.update(
            SMARTSEOUL_DATA_DIR=str(workdir),
            SMARTSEOUL_DATABASE_URL=url,
            SMARTSEOUL_BUS_URL="memory://",
            SMARTSEOUL_SECRET_KEY="bench-secret-" + "x" * 40,
            SMARTSEOUL_TRACKING_LISTENERS="0",
            SMARTSEOUL_LOG_LEVEL="WARNING",
        )
        command = [sys.executable, "-m", "smartseoul.cli", "serve", "--host", "{host}", "--port", "{port}"]

        async def healthz(client: Any, _rng: random.Random) -> Any:
            return await client.get("/healthz")

        async def listing(client: Any, _rng: random.Random) -> Any:
            return await client.get("/open311/v2/requests.json")

        async def post(client: Any, rng: random.Random) -> Any:
            form = {
                "api_key": key,
                "service_code": rng.choice(("illegal_parking", "pothole", "illegal_dumping", "graffiti")),
                "lat": f"{rng.uniform(37.49, 37.60):.6f}",
                "long": f"{rng.uniform(126.92, 127.06):.6f}",
                "description": "벤치마크 민원",
                "attribute[hazard]": "no",
            }
            if form["service_code"] != "pothole":
                del form["attribute[hazard]"]
            return await client.post("/open311/v2/requests.json", data=form)

        with _api.serve(command, env, "/open311/v2/services.json", workdir) as server:
            base = f"http://{_api.HOST}:{server.port}"
            import httpx

            rows = len(httpx.get(f"{base}/open311/v2/requests.json", timeout=30).json())
            baseline = _measure("healthz", base, healthz, warmup, duration)
            got = _measure("GET requests.json", base, listing, warmup, duration)
            posted = _measure("POST requests.json", base, post, warmup, duration)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "healthz_rps": round(baseline.rps(duration), 1),
        "get_rps": round(got.rps(duration), 1),
        "get_p99_ms": round(got.p99_ms(), 2),
        "get_rows": float(rows),
        "post_rps": round(posted.rps(duration), 1),
        "post_p99_ms": round(posted.p99_ms(), 2),
        "post_busy_503": float(posted.busy),
        "ratio_healthz_over_get_rps": round(baseline.rps(duration) / got.rps(duration), 3),
        "ratio_healthz_over_post_rps": round(baseline.rps(duration) / posted.rps(duration), 3),
    }
