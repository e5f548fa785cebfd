"""Covering-a-point queries/s over the ~30,000 demo cameras: KD-tree index vs a brute-force NumPy scan.

Why: every incident with a location asks which cameras see it (and which PTZ cameras can turn to
it), and operators ask by clicking the map; the answer must come at once while incidents pour in.
The cameras are the demo city's 29,477 (``seed.demo_camera_rows``, the real 2016 per-district
counts); the query points are random spots within 60 m of random cameras (so most queries have
answers, as incidents happen where people and cameras are), the same points for both methods.

- ``index_queries_per_s``: :meth:`CameraIndex.covering` (KD-tree candidates within the longest
  reach, then the sector test and ranking in NumPy), 20,000 queries (2,000 with ``--quick``);
- ``bruteforce_queries_per_s``: the baseline, the same test and ranking over every camera with
  NumPy (vectorised, no index), 2,000 queries (300 with ``--quick``);
- ``ratio_index_over_bruteforce``: the speed-up; both methods gave the same answers on every
  baseline query (checked in the run; a difference aborts the benchmark);
- ``service_queries_per_s``: the API's path, :func:`service.cameras_covering` on a seeded SQLite
  database, which first reads the registry's signature (last id, last update) to know the
  in-memory index is current: 2,000 queries (300).
One process, one core.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from sqlalchemy.orm import Session

from smartseoul.safety.cctv.index import CameraIndex
from smartseoul.safety.cctv.seed import demo_camera_rows

SEED = 20151
err = Console(stderr=True, soft_wrap=True)


def _index() -> CameraIndex:
    rows = demo_camera_rows(SEED)
    return CameraIndex(
        [
            (
                k + 1,
                r["name"],
                r["lat"],
                r["lon"],
                r["direction_deg"],
                r["fov_deg"],
                r["range_m"],
                r["ptz"],
                r["megapixels"],
            )
            for k, r in enumerate(rows)
        ]
    )


def _points(index: CameraIndex, count: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, len(index), count)
    distance, angle = rng.uniform(0, 60, count), rng.uniform(0, 2 * np.pi, count)
    lat = index.lat[pick] + distance * np.cos(angle) / 111_195.0
    lon = index.lon[pick] + distance * np.sin(angle) / 88_200.0
    return list(zip(lat.tolist(), lon.tolist(), strict=True))


def _rate(query: object, points: list[tuple[float, float]]) -> float:
    started = time.perf_counter()
    for lat, lon in points:
        query(lat, lon)  # type: ignore[operator]
    return len(points) / (time.perf_counter() - started)


def _service_rate(points: list[tuple[float, float]]) -> float:
    from smartseoul.city import service as city
    from smartseoul.core.db import make_engine
    from smartseoul.core.migrate import upgrade
    from smartseoul.safety.cctv import service
    from smartseoul.safety.cctv.seed import seed_cameras

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        with Session(engine) as session:
            city.load_reference_data(session)
            seed_cameras(session, SEED)
            session.commit()
            service.cameras_covering(session, *points[0])  # builds the index once
            rate = _rate(lambda lat, lon: service.cameras_covering(session, lat, lon), points)
        engine.dispose()
    return rate


def run(quick: bool = False) -> dict[str, float | None]:
    index = _index()
    fast_points = _points(index, 2_000 if quick else 20_000)
    slow_points = fast_points[: 300 if quick else 2_000]
    for lat, lon in slow_points:
        if index.covering(lat, lon) != index.covering_bruteforce(lat, lon):
            raise AssertionError(f"index and brute force disagree at ({lat}, {lon})")
    indexed = _rate(index.covering, fast_points)
    brute = _rate(index.covering_bruteforce, slow_points)
    through_service = _service_rate(slow_points)
    answered = sum(1 for lat, lon in slow_points if index.covering(lat, lon))
    err.print(
        f"{len(index)} cameras; {answered} of {len(slow_points)} sample points seen by at least one camera",
        highlight=False,
    )
    return {
        "cameras": float(len(index)),
        "index_queries_per_s": round(indexed, 1),
        "bruteforce_queries_per_s": round(brute, 1),
        "ratio_index_over_bruteforce": round(indexed / brute, 2),
        "service_queries_per_s": round(through_service, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv)))
