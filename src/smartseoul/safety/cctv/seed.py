"""The demo city's cameras: the real 2016 count of each district (29,477 in all), placed inside the
real district polygons, clustered as cameras are: around schools (school-zone poles), around
neighbourhood centres, and a thin spread elsewhere; install years follow each district's real
split (before 2014, 2014, 2015, 2016). About 10,000 crime-prevention and school-zone cameras are
shared with the integrated control room.

Positions come from :func:`demo_camera_points` alone (no database), so the placement planner and
the benchmarks get the very cameras that ``seed_demo`` stores. Seeding is one bulk insert.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city.service import ELEMENTARY_SCHOOLS, apportion, random_points_in
from smartseoul.core.geo import from_geojson
from smartseoul.safety.cctv import service, sharing
from smartseoul.safety.cctv.geometry import project, unproject
from smartseoul.safety.cctv.models import Camera, SharingPolicy

DEMO_PREFIX = "DEMO-"
SHARED_TARGET = 10_000
SCHOOL_SHARE, CENTRE_SHARE = 0.30, 0.45  # the rest is spread evenly over the district
SCHOOL_SIGMA_M, CENTRE_SIGMA_M = 120.0, 380.0
PURPOSE_KO = {
    "crime": "방범",
    "school_zone": "어린이보호",
    "traffic": "교통",
    "facility": "시설물",
    "disaster": "재난",
    "other": "기타",
}


@dataclass(frozen=True)
class DemoDistrict:
    code: str
    name_ko: str
    shape: BaseGeometry
    cameras: int
    by_year: dict[str, int]
    population: int


def _data_text(name: str) -> str:
    return resources.files("smartseoul.city").joinpath("data", name).read_text(encoding="utf-8")


@cache
def demo_districts() -> tuple[DemoDistrict, ...]:
    """The districts with their real camera counts, from the shipped 2016 data (by code)."""
    stats = {
        row["district_code"]: row
        for row in csv.DictReader(_data_text("district_stats_2016.csv").splitlines())
    }
    found = []
    for feature in json.loads(_data_text("districts.geojson"))["features"]:
        code = feature["properties"]["code"]
        row = stats[code]
        by_year = {
            "before_2014": int(row["cctv_installed_before_2014"]),
            "2014": int(row["cctv_installed_2014"]),
            "2015": int(row["cctv_installed_2015"]),
            "2016": int(row["cctv_installed_2016"]),
        }
        found.append(
            DemoDistrict(
                code,
                feature["properties"]["name"],
                from_geojson(feature["geometry"]),
                int(row["cctv_total"]),
                by_year,
                int(row["population"]),
            )
        )
    return tuple(sorted(found, key=lambda d: d.code))


@cache
def _neighbourhood_centres() -> dict[str, list[tuple[float, float]]]:
    centres: dict[str, list[tuple[float, float]]] = {}
    for feature in json.loads(_data_text("neighborhoods_simple.geojson"))["features"]:
        point = from_geojson(feature["geometry"]).representative_point()
        centres.setdefault(feature["properties"]["code"][:5], []).append((point.y, point.x))
    return centres


def demo_school_points(seed: int) -> dict[str, list[tuple[float, float]]]:
    """The demo schools' positions by district: the same draw as ``city.service.seed_schools``."""
    districts = demo_districts()
    counts = apportion(ELEMENTARY_SCHOOLS, {d.code: d.population for d in districts})
    rng = random.Random(seed)
    return {d.code: random_points_in(d.shape, counts[d.code], rng) for d in districts}


def _around(
    rng: np.random.Generator, hubs: list[tuple[float, float]], count: int, sigma_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``count`` points scattered (Gaussian, ``sigma_m``) around randomly chosen hubs."""
    hub_lat, hub_lon = np.array(hubs, dtype=np.float64).T
    x, y = project(hub_lat, hub_lon)
    pick = rng.integers(0, len(hubs), count)
    lat, lon = unproject(x[pick] + rng.normal(0, sigma_m, count), y[pick] + rng.normal(0, sigma_m, count))
    return lat, lon


def _district_points(
    rng: np.random.Generator, district: DemoDistrict, schools: list[tuple[float, float]], count: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """``count`` points inside the district; the flag marks those placed around a school."""
    lats: list[NDArray[np.float64]] = []
    lons: list[NDArray[np.float64]] = []
    near_school: list[NDArray[np.bool_]] = []
    missing = count
    min_x, min_y, max_x, max_y = district.shape.bounds
    centres = _neighbourhood_centres().get(district.code) or [
        (district.shape.centroid.y, district.shape.centroid.x)
    ]
    while missing > 0:
        batch = missing + missing // 4 + 8
        kind = rng.choice(3, size=batch, p=[SCHOOL_SHARE, CENTRE_SHARE, 1 - SCHOOL_SHARE - CENTRE_SHARE])
        lat = rng.uniform(min_y, max_y, batch)
        lon = rng.uniform(min_x, max_x, batch)
        for which, hubs, sigma in ((0, schools, SCHOOL_SIGMA_M), (1, centres, CENTRE_SIGMA_M)):
            chosen = kind == which
            if hubs and chosen.any():
                lat[chosen], lon[chosen] = _around(rng, hubs, int(chosen.sum()), sigma)
        inside = shapely.contains_xy(district.shape, lon, lat)
        take = np.flatnonzero(inside)[:missing]
        lats.append(lat[take])
        lons.append(lon[take])
        near_school.append(kind[take] == 0)
        missing -= len(take)
    return np.concatenate(lats), np.concatenate(lons), np.concatenate(near_school)


@cache
def _demo_layout(seed: int) -> tuple[tuple[str, float, float, bool], ...]:
    """(district code, lat, lon, near a school) of every demo camera, in a fixed order."""
    rng = np.random.default_rng(seed)
    schools = demo_school_points(seed)
    layout: list[tuple[str, float, float, bool]] = []
    for district in demo_districts():
        lat, lon, near = _district_points(rng, district, schools[district.code], district.cameras)
        layout.extend(
            (district.code, round(float(a), 6), round(float(o), 6), bool(s))
            for a, o, s in zip(lat, lon, near, strict=True)
        )
    return tuple(layout)


def demo_camera_points(seed: int) -> list[tuple[float, float]]:
    """(lat, lon) of the ~30,000 demo cameras, deterministic in ``seed``, without a database."""
    return [(lat, lon) for _code, lat, lon, _near in _demo_layout(seed)]


def _install_dates(rng: random.Random, by_year: dict[str, int], count: int) -> list[date]:
    dates = []
    for year_key, n in by_year.items():
        for _ in range(n):
            year = rng.randint(2008, 2013) if year_key == "before_2014" else int(year_key)
            dates.append(date(year, rng.randint(1, 12), 1))
    rng.shuffle(dates)
    return (dates + [date(2016, 12, 1)] * count)[:count]


def _purpose(rng: random.Random, near_school: bool) -> str:
    if near_school:
        return "school_zone" if rng.random() < 0.55 else "crime"
    return rng.choices(("crime", "traffic", "facility", "disaster"), weights=(72, 10, 11, 7))[0]


def _camera_row(
    rng: random.Random,
    district: DemoDistrict,
    number: int,
    place: tuple[str, float, float, bool],
    installed: date,
) -> dict[str, Any]:
    _code, lat, lon, near_school = place
    purpose = _purpose(rng, near_school)
    ptz = purpose in ("crime", "school_zone") and rng.random() < 0.3
    modern = installed.year >= 2014
    code = f"{DEMO_PREFIX}{district.code}-{number:05d}"
    police = purpose == "traffic"
    return {
        "code": code,
        "site": code,
        "name": f"{district.name_ko} {PURPOSE_KO[purpose]} {number:04d}",
        "owner": "서울지방경찰청" if police else f"서울특별시 {district.name_ko}청",
        "owner_kind": "police" if police else "district",
        "owner_phone": "02-700-5000"
        if police
        else f"02-{2100 + int(district.code[2:5]) % 900:04d}-{rng.randint(1000, 9999)}",
        "purpose": purpose,
        "lat": lat,
        "lon": lon,
        "district_code": district.code,
        "mount_height_m": round(rng.uniform(3.5, 6.5), 1),
        "direction_deg": round(rng.uniform(0, 360), 1),
        "fov_deg": 60.0 if ptz else float(rng.choice((70, 80, 90, 100))),
        "range_m": float(rng.randint(80, 120)) if ptz else float(rng.randint(30, 60)),
        "megapixels": float(rng.choice((2, 3, 5) if modern else (0.4, 1.3, 2))),
        "retention_days": 30,
        "installed_on": installed,
        "rtsp_main": f"rtsp://nvr.{district.code}.demo.invalid/{code}/main",
        "rtsp_sub": f"rtsp://nvr.{district.code}.demo.invalid/{code}/sub",
        "ptz": ptz,
        "pan_deg": 0.0 if ptz else None,
        "tilt_deg": -20.0 if ptz else None,
        "zoom": 0.0 if ptz else None,
        "status": "active",
        "shared": False,
        "data_date": date(2016, 12, 31),
    }


def demo_camera_rows(seed: int, neighbourhood_of: Any = None) -> list[dict[str, Any]]:
    """Every demo camera as a row for a bulk insert (``neighbourhood_of(lats, lons)`` fills codes)."""
    rng = random.Random(seed)
    by_district: dict[str, list[tuple[str, float, float, bool]]] = {}
    for place in _demo_layout(seed):
        by_district.setdefault(place[0], []).append(place)
    rows: list[dict[str, Any]] = []
    for district in demo_districts():
        places = by_district.get(district.code, [])
        dates = _install_dates(rng, district.by_year, len(places))
        rows.extend(
            _camera_row(rng, district, number, place, installed)
            for number, (place, installed) in enumerate(zip(places, dates, strict=True), start=1)
        )
    eligible = [row for row in rows if row["purpose"] in ("crime", "school_zone")]
    for row in rng.sample(eligible, min(SHARED_TARGET, len(eligible))):
        row["shared"] = True
    if neighbourhood_of is not None:
        codes = neighbourhood_of(np.array([r["lat"] for r in rows]), np.array([r["lon"] for r in rows]))
        for row, code in zip(rows, codes, strict=True):
            row["neighbourhood_code"] = code
    return rows


DEMO_POLICIES: tuple[dict[str, Any], ...] = (
    {
        "name": "통합관제센터: 공유 카메라 / control room: shared cameras",
        "role": "operator",
        "shared_only": True,
    },
    {
        "name": "경찰: 공유 방범·어린이보호 / police: shared crime and school-zone",
        "role": "dispatcher",
        "agency": "police",
        "purposes": ["crime", "school_zone"],
        "shared_only": True,
    },
    {
        "name": "경찰 야간: 어린이보호 전체 / police at night: every school-zone camera",
        "role": "dispatcher",
        "agency": "police",
        "purposes": ["school_zone"],
        "shared_only": False,
        "start": "18:00",
        "end": "08:00",
    },
    {
        "name": "소방: 재난·교통 / fire: disaster and traffic",
        "role": "dispatcher",
        "agency": "fire",
        "purposes": ["disaster", "traffic"],
        "shared_only": False,
    },
)


def neighbourhoods_of(session: Session) -> Any:
    """A vectorised lookup of neighbourhood codes for arrays of points (nearest of the district in
    the gaps the simplified polygons leave)."""
    city = service.city_index(session)
    codes = list(city.neighbourhood_shapes)
    tree = shapely.STRtree(list(city.neighbourhood_shapes.values()))

    def lookup(lats: NDArray[np.float64], lons: NDArray[np.float64]) -> list[str | None]:
        found: list[str | None] = [None] * len(lats)
        points = shapely.points(lons, lats)
        point_index, shape_index = tree.query(points, predicate="intersects")
        for p, s in zip(point_index.tolist(), shape_index.tolist(), strict=True):
            if found[p] is None:
                found[p] = codes[s]
        for p, code in enumerate(found):
            if code is None:
                found[p] = city.neighbourhood_at(float(lats[p]), float(lons[p]))
        return found

    return lookup


def seed_cameras(session: Session, seed: int) -> int:
    """Store the demo cameras and sharing policies once; returns how many demo cameras exist."""
    existing = session.scalar(select(Camera.id).where(Camera.code.startswith(DEMO_PREFIX)).limit(1))
    if existing is None:
        service.add_cameras(session, demo_camera_rows(seed, neighbourhoods_of(session)), replace_sites=False)
    if session.scalar(select(SharingPolicy.id).limit(1)) is None:
        for policy in DEMO_POLICIES:
            sharing.add_policy(session, actor="demo", **policy)
    return len(_demo_layout(seed))
