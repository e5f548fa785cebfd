"""Coverage and disparity: view sectors, areas covered once however many cameras overlap, Gini."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy.orm import Session

from smartseoul.safety.cctv import coverage
from smartseoul.safety.cctv.geometry import project, sector_polygons
from smartseoul.safety.cctv.seed import demo_camera_rows
from smartseoul.safety.cctv.tests.helpers import JUNG_CENTRE, add_camera, offset


def _sector(direction: float, fov: float, reach: float) -> object:
    x, y = project(np.array([JUNG_CENTRE[0]]), np.array([JUNG_CENTRE[1]]))
    return sector_polygons(x, y, np.array([direction]), np.array([fov]), np.array([reach]))[0]


def test_a_view_sector_has_the_area_of_its_angle_and_range() -> None:
    quarter = _sector(45.0, 90.0, 50.0)
    assert quarter.area == pytest.approx(math.pi * 50**2 / 4, rel=0.01)
    disc = _sector(0.0, 360.0, 40.0)
    assert disc.area == pytest.approx(math.pi * 40**2, rel=0.03)
    # a camera looking east sees points east of it, not west
    assert quarter.centroid.x > project(JUNG_CENTRE[0], JUNG_CENTRE[1])[0]


def test_overlapping_views_are_covered_once() -> None:
    one = _sector(0.0, 90.0, 50.0)
    square = one.buffer(500)
    single = coverage.covered_areas_indexed(np.array([one], dtype=object), [square])
    double = coverage.covered_areas_indexed(np.array([one, one], dtype=object), [square])
    assert double[0] == pytest.approx(single[0])
    assert single[0] == pytest.approx(one.area, rel=1e-6)


def test_the_index_gives_the_naive_answer() -> None:
    rows = demo_camera_rows(20151)[:600]
    cameras = coverage.CameraColumns(
        *(
            np.array([r[k] for r in rows], dtype=np.float64)
            for k in ("lat", "lon", "direction_deg", "fov_deg", "range_m")
        ),
        [r["district_code"] for r in rows],
        [None] * len(rows),
    )
    sectors = coverage.sectors_of(cameras)
    shapes = [s.buffer(300) for s in sectors[:: len(rows) // 8]]
    assert coverage.covered_areas_indexed(sectors, shapes) == pytest.approx(
        coverage.covered_areas_naive(sectors, shapes)
    )


def test_gini_and_the_max_min_ratio() -> None:
    assert coverage.gini([2.0, 2.0, 2.0, 2.0]) == 0.0
    assert coverage.gini([0.0, 0.0, 0.0, 4.0]) == pytest.approx(0.75)
    districts = [
        {"code": "1", "name_ko": "가", "name_en": "A", "cameras_per_1000": 6.0},
        {"code": "2", "name_ko": "나", "name_en": "B", "cameras_per_1000": 1.2},
        {"code": "3", "name_ko": "다", "name_en": "C", "cameras_per_1000": 3.0},
    ]
    figures = coverage.disparity_of(districts, "cameras_per_1000")
    assert figures["ratio"] == 5.0
    assert (figures["max"]["name_en"], figures["min"]["name_en"]) == ("A", "B")


def test_coverage_is_cached_until_the_registry_changes(db: Session) -> None:
    add_camera(db, at=JUNG_CENTRE, fov_deg=360.0, range_m=40.0)
    first = coverage.coverage_for(db)
    assert coverage.coverage_for(db) is first
    add_camera(db, at=offset(*JUNG_CENTRE, north_m=200, east_m=0), fov_deg=360.0, range_m=40.0)
    second = coverage.coverage_for(db)
    assert second is not first
    jung = {d["code"]: d for d in second.districts}["11020"]
    assert jung["cameras"] == 2
    assert jung["covered_km2"] == pytest.approx(2 * math.pi * 40**2 / 1e6, rel=0.03)
    assert second.city["coverage_area_pct"] > first.city["coverage_area_pct"]
