"""Coverage and disparity: how much of each district and neighbourhood the cameras see, and how
unequal the districts are.

Each camera's field of view is a sector polygon on the city plane. For each of the 423
neighbourhoods an STRtree over the 30,000 sectors hands over only the sectors that touch it; their
union clipped to the neighbourhood is its covered area. Population: the only figure is per
district (2016), so a district's residents are spread over its neighbourhoods in proportion to
area (the brief's rule); a neighbourhood's covered population is its covered share of its
residents. With that rule a district's coverage by population equals its coverage by area, and
the two differ only for the whole city (weighted by residents). Disparity across the 25
districts: the max/min ratio (which district is which) and the Gini coefficient of cameras per
1,000 residents, cameras per km2 and covered share.

Results are cached per database and registry signature, so a change to the registry (import,
status change) is the only thing that makes the next request recompute.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city.models import District, Neighbourhood
from smartseoul.core.db import utcnow
from smartseoul.core.geo import from_geojson
from smartseoul.safety.cctv.geometry import project, project_geometry, sector_polygons
from smartseoul.safety.cctv.index import registry_signature
from smartseoul.safety.cctv.models import Camera

METRICS = ("cameras_per_1000", "cameras_per_km2", "coverage_area_pct", "coverage_population_pct")


@dataclass(frozen=True)
class Area:
    """A district or neighbourhood: its code, names, residents and shape on the city plane."""

    code: str
    name_ko: str
    name_en: str
    district_code: str
    population: float
    shape: BaseGeometry


@dataclass(frozen=True)
class CameraColumns:
    """The cameras counted: positions (WGS84), view, and the areas they were registered in."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    direction: NDArray[np.float64]
    fov: NDArray[np.float64]
    reach: NDArray[np.float64]
    district: list[str]
    neighbourhood: list[str | None]


@dataclass
class Coverage:
    districts: list[dict[str, Any]]
    neighbourhoods: list[dict[str, Any]]
    disparity: dict[str, dict[str, Any]]
    city: dict[str, Any]
    computed_at: datetime = field(default_factory=utcnow)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "computed_at": self.computed_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "city": self.city,
            "disparity": self.disparity,
            "districts": self.districts,
            "neighbourhoods": self.neighbourhoods,
        }


def sectors_of(cameras: CameraColumns) -> NDArray[np.object_]:
    x, y = project(cameras.lat, cameras.lon)
    return sector_polygons(x, y, cameras.direction, cameras.fov, cameras.reach)


def covered_areas_indexed(sectors: NDArray[np.object_], shapes: list[BaseGeometry]) -> NDArray[np.float64]:
    """Covered m2 of each shape: an STRtree picks the sectors touching it, their union is clipped."""
    tree = shapely.STRtree(sectors)
    shape_index, sector_index = tree.query(np.array(shapes, dtype=object), predicate="intersects")
    covered = np.zeros(len(shapes))
    order = np.argsort(shape_index, kind="stable")
    shape_index, sector_index = shape_index[order], sector_index[order]
    bounds = np.searchsorted(shape_index, np.arange(len(shapes) + 1))
    for n in range(len(shapes)):
        touching = sectors[sector_index[bounds[n] : bounds[n + 1]]]
        if len(touching):
            covered[n] = _clipped_union_area(touching, shapes[n])
    return covered


def covered_areas_naive(sectors: NDArray[np.object_], shapes: list[BaseGeometry]) -> NDArray[np.float64]:
    """The same without an index: every sector tested against every shape (the baseline)."""
    covered = np.zeros(len(shapes))
    for n, shape in enumerate(shapes):
        touching = [s for s in sectors if s.intersects(shape)]
        if touching:
            covered[n] = _clipped_union_area(np.array(touching, dtype=object), shape)
    return covered


def _clipped_union_area(sectors: NDArray[np.object_], shape: BaseGeometry) -> float:
    """Area of the union of ``sectors`` inside ``shape``; a centimetre grid only when GEOS trips
    over nearly coincident edges (rare, and four times slower)."""
    try:
        return float(shapely.intersection(shapely.union_all(sectors), shape).area)
    except shapely.errors.GEOSException:
        return float(shapely.intersection(shapely.union_all(sectors, grid_size=0.01), shape).area)


def gini(values: list[float]) -> float:
    """Gini coefficient (0 = equal, 1 = all in one) of non-negative values."""
    data = np.sort(np.asarray(values, dtype=np.float64))
    if len(data) == 0 or data.sum() == 0:
        return 0.0
    n = len(data)
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * data).sum() / (n * data.sum())) - (n + 1) / n)


def disparity_of(districts: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """Max/min ratio (naming both districts) and Gini of ``metric`` across districts."""
    rows = [d for d in districts if d[metric] is not None]
    if not rows:
        return {"ratio": None, "gini": None, "max": None, "min": None}
    top = max(rows, key=lambda d: d[metric])
    low = min(rows, key=lambda d: d[metric])
    ratio = round(top[metric] / low[metric], 3) if low[metric] else None
    return {
        "ratio": ratio,
        "gini": round(gini([d[metric] for d in rows]), 4),
        "max": {
            "code": top["code"],
            "name_ko": top["name_ko"],
            "name_en": top["name_en"],
            "value": top[metric],
        },
        "min": {
            "code": low["code"],
            "name_ko": low["name_ko"],
            "name_en": low["name_en"],
            "value": low[metric],
        },
    }


def _figures(area: Area, cameras: int, area_m2: float, covered_m2: float, residents: float) -> dict[str, Any]:
    km2 = area_m2 / 1e6
    share = covered_m2 / area_m2 if area_m2 else 0.0
    return {
        "code": area.code,
        "name_ko": area.name_ko,
        "name_en": area.name_en,
        "district_code": area.district_code,
        "population": round(residents),
        "cameras": cameras,
        "area_km2": round(km2, 3),
        "covered_km2": round(covered_m2 / 1e6, 4),
        "coverage_area_pct": round(100 * share, 3),
        "covered_population": round(residents * share),
        "coverage_population_pct": round(100 * share, 3),
        "cameras_per_1000": round(cameras * 1000 / residents, 3) if residents else None,
        "cameras_per_km2": round(cameras / km2, 3) if km2 else None,
    }


def compute(cameras: CameraColumns, districts: list[Area], neighbourhoods: list[Area]) -> Coverage:
    """Coverage of every neighbourhood and district, the city's totals and the disparity figures."""
    started = utcnow()
    sectors = sectors_of(cameras)
    covered = covered_areas_indexed(sectors, [n.shape for n in neighbourhoods])
    areas = np.array([n.shape.area for n in neighbourhoods])
    district_area = {d.code: 0.0 for d in districts}
    for n, a in zip(neighbourhoods, areas, strict=True):
        district_area[n.district_code] = district_area.get(n.district_code, 0.0) + float(a)
    population = {d.code: d.population for d in districts}
    per_neighbourhood = _count(cameras.neighbourhood)
    per_district = _count(cameras.district)
    hood_rows = []
    for n, a, c in zip(neighbourhoods, areas, covered, strict=True):
        share_of_district = (
            float(a) / district_area[n.district_code] if district_area.get(n.district_code) else 0.0
        )
        residents = population.get(n.district_code, 0.0) * share_of_district
        hood_rows.append(_figures(n, per_neighbourhood.get(n.code, 0), float(a), float(c), residents))
    district_rows = []
    for d in districts:
        hoods = [(r, n) for r, n in zip(hood_rows, neighbourhoods, strict=True) if n.district_code == d.code]
        covered_m2 = sum(r["covered_km2"] for r, _n in hoods) * 1e6
        row = _figures(d, per_district.get(d.code, 0), d.shape.area, 0.0, d.population)
        share = covered_m2 / district_area[d.code] if district_area.get(d.code) else 0.0
        row.update(
            covered_km2=round(covered_m2 / 1e6, 4),
            coverage_area_pct=round(100 * share, 3),
            coverage_population_pct=round(100 * share, 3),
            covered_population=round(d.population * share),
        )
        district_rows.append(row)
    city = _city_totals(district_rows, hood_rows, len(cameras.lat))
    result = Coverage(district_rows, hood_rows, {m: disparity_of(district_rows, m) for m in METRICS}, city)
    result.seconds = (utcnow() - started).total_seconds()
    return result


def _count(codes: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in codes:
        if code is not None:
            counts[code] = counts.get(code, 0) + 1
    return counts


def _city_totals(
    districts: list[dict[str, Any]], hoods: list[dict[str, Any]], cameras: int
) -> dict[str, Any]:
    residents = sum(d["population"] for d in districts)
    area = sum(h["area_km2"] for h in hoods)
    covered = sum(h["covered_km2"] for h in hoods)
    covered_people = sum(h["covered_population"] for h in hoods)
    return {
        "cameras": cameras,
        "population": residents,
        "area_km2": round(area, 2),
        "covered_km2": round(covered, 3),
        "coverage_area_pct": round(100 * covered / area, 3) if area else 0.0,
        "coverage_population_pct": round(100 * covered_people / residents, 3) if residents else 0.0,
        "cameras_per_1000": round(cameras * 1000 / residents, 3) if residents else None,
    }


# ---------------------------------------------------------------- from the database, cached


def areas_from_session(session: Session) -> tuple[list[Area], list[Area]]:
    districts = [
        Area(
            d.code,
            d.name_ko,
            d.name_en,
            d.code,
            float(d.population),
            project_geometry(from_geojson(d.geometry)),
        )
        for d in session.scalars(select(District).order_by(District.code))
    ]
    hoods = [
        Area(n.code, n.name_ko, n.name_en, n.district_code, 0.0, project_geometry(from_geojson(n.geometry)))
        for n in session.scalars(select(Neighbourhood).order_by(Neighbourhood.code))
    ]
    return districts, hoods


def cameras_from_session(session: Session) -> CameraColumns:
    rows = session.execute(
        select(
            Camera.lat,
            Camera.lon,
            Camera.direction_deg,
            Camera.fov_deg,
            Camera.range_m,
            Camera.district_code,
            Camera.neighbourhood_code,
        ).where(Camera.status != "removed")
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    return CameraColumns(
        np.asarray(columns[0], dtype=np.float64),
        np.asarray(columns[1], dtype=np.float64),
        np.asarray(columns[2], dtype=np.float64),
        np.asarray(columns[3], dtype=np.float64),
        np.asarray(columns[4], dtype=np.float64),
        list(columns[5]),
        list(columns[6]),
    )


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[Any, ...], Coverage]] = {}
_areas: dict[str, tuple[list[Area], list[Area]]] = {}


def coverage_for(session: Session) -> Coverage:
    """The coverage of the registry as it is now; recomputed only after the registry changed."""
    key = str(session.get_bind().engine.url)
    signature = registry_signature(session)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        if key not in _areas or not _areas[key][0]:
            _areas[key] = areas_from_session(session)
        districts, hoods = _areas[key]
        result = compute(cameras_from_session(session), districts, hoods)
        _cache[key] = (signature, result)
        return result
