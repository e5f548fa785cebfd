"""Seconds to recompute coverage and disparity of ~30,000 cameras over 423 neighbourhoods, vs the naive way.

Why: the coverage choropleth and the disparity figures are recomputed whenever the registry
changes (an import, a camera going out of service), so the time of one full recomputation is what
an operator waits for. The cameras are the demo city's 29,477 (the real 2016 per-district counts,
``seed.demo_camera_rows``; no database), the areas the 423 neighbourhoods and 25 districts of the
shipped GeoJSON, on the same metric plane the platform uses.

- ``coverage_s``: one full :func:`smartseoul.safety.cctv.coverage.compute` (sectors, an STRtree
  over them, per neighbourhood the union of the sectors touching it clipped to it, district
  figures, disparity); the median of 3 runs (1 with ``--quick``);
- ``cameras_per_s``: cameras over ``coverage_s``;
- ``naive_estimated_s``: the baseline, every sector tested against every neighbourhood without an
  index (one Shapely ``intersects`` per pair) and then the same union, timed with all cameras on a
  sample of neighbourhoods (40, or 8 with ``--quick``) and scaled to all 423 (each neighbourhood is
  independent work, so the scaling is linear; still an estimate); ``naive_sample_s`` is the
  measured sample;
- ``ratio_naive_over_indexed``: ``naive_estimated_s`` over ``coverage_s``.
One process, one core.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from importlib import resources

import numpy as np
from rich.console import Console

from smartseoul.core.geo import from_geojson
from smartseoul.safety.cctv import coverage
from smartseoul.safety.cctv.geometry import project_geometry
from smartseoul.safety.cctv.seed import demo_camera_rows, demo_districts

SEED = 20151
err = Console(stderr=True, soft_wrap=True)


def _areas() -> tuple[list[coverage.Area], list[coverage.Area]]:
    districts = [
        coverage.Area(d.code, d.name_ko, d.code, d.code, float(d.population), project_geometry(d.shape))
        for d in demo_districts()
    ]
    text = (
        resources.files("smartseoul.city")
        .joinpath("data", "neighborhoods_simple.geojson")
        .read_text(encoding="utf-8")
    )
    hoods = [
        coverage.Area(
            f["properties"]["code"],
            f["properties"]["name"],
            f["properties"]["name_eng"],
            f["properties"]["code"][:5],
            0.0,
            project_geometry(from_geojson(f["geometry"])),
        )
        for f in json.loads(text)["features"]
    ]
    return districts, hoods


def _cameras() -> coverage.CameraColumns:
    rows = demo_camera_rows(SEED)
    column = {
        k: np.array([r[k] for r in rows], dtype=np.float64)
        for k in ("lat", "lon", "direction_deg", "fov_deg", "range_m")
    }
    return coverage.CameraColumns(
        column["lat"],
        column["lon"],
        column["direction_deg"],
        column["fov_deg"],
        column["range_m"],
        [r["district_code"] for r in rows],
        [None] * len(rows),
    )


def run(quick: bool = False) -> dict[str, float | None]:
    districts, hoods = _areas()
    cameras = _cameras()
    count = len(cameras.lat)
    times = []
    for _ in range(1 if quick else 3):
        started = time.perf_counter()
        result = coverage.compute(cameras, districts, hoods)
        times.append(time.perf_counter() - started)
    indexed = statistics.median(times)
    sample = 8 if quick else 40
    sectors = coverage.sectors_of(cameras)
    picked = np.random.default_rng(SEED).choice(len(hoods), sample, replace=False)
    started = time.perf_counter()
    coverage.covered_areas_naive(sectors, [hoods[k].shape for k in picked])
    naive_sample = time.perf_counter() - started
    naive = naive_sample * len(hoods) / sample
    err.print(
        f"{count} cameras, {len(hoods)} neighbourhoods: indexed {indexed:.2f} s; "
        f"naive on {sample} neighbourhoods "
        f"{naive_sample:.2f} s, scaled to all {naive:.1f} s (estimate); city covered "
        f"{result.city['coverage_area_pct']:.2f}% of the area",
        highlight=False,
    )
    return {
        "cameras": float(count),
        "neighbourhoods": float(len(hoods)),
        "coverage_s": round(indexed, 3),
        "cameras_per_s": round(count / indexed, 1),
        "naive_sample_s": round(naive_sample, 3),
        "naive_estimated_s": round(naive, 2),
        "ratio_naive_over_indexed": round(naive / indexed, 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv)))
