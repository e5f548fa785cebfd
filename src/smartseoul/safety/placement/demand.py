"""Where cameras are wanted: a square grid over the city's district polygons with a weight per cell.

The weight of a cell is the demand a camera covering it serves, in resident equivalents: the
city's population times a blend of three shares (each summing to 1 over the city):

- population: each district's residents (2016) spread evenly over its cells (no finer
  population is shipped, so the spread is per district);
- crime: each district's occurrences of the five major crimes in 2016 (police stations mapped to
  their district by ``crime_by_police_station_2016.csv``) spread evenly over its cells;
- schools: each elementary school spread over the cells within ``SCHOOL_ZONE_M`` of it (the
  300 m children's protection zone around a school);
- incidents: each incident opened in the last year (``safety.incident.opened.v1``, kept by
  :mod:`smartseoul.safety.placement.incidents`) spread over the cells within 100 m of it.

Everything is read from the city's shipped data so the planner and the benchmark build the same
grid with or without a database. Distances are in metres on a local plane around Seoul
(equirectangular, under 0.1 % error across the city).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from smartseoul.city.service import CRIMES
from smartseoul.core.geo import EARTH_RADIUS_M, from_geojson

SCHOOL_ZONE_M = 300.0
INCIDENT_SPREAD_M = 100.0
LAT0, LON0 = 37.55, 126.99
_METRES_PER_DEGREE = math.pi / 180 * EARTH_RADIUS_M
_K = math.cos(math.radians(LAT0))


@dataclass(frozen=True)
class DistrictFigures:
    """One district's polygon and the 2016 figures the planner weighs and balances."""

    code: str
    name_ko: str
    name_en: str
    population: int
    cctv_2016: int
    crimes_2016: int
    geometry: shapely.Geometry


@dataclass(frozen=True)
class Weights:
    """How much each source of demand counts (relative; they need not sum to 1)."""

    population: float = 1.0
    crime: float = 0.0
    schools: float = 0.0
    incidents: float = 0.0

    def total(self) -> float:
        return self.population + self.crime + self.schools + self.incidents


@dataclass(frozen=True)
class Grid:
    """Cell centres inside the city: metres on the local plane, WGS84, and the district of each."""

    cell_m: float
    xy: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    district: NDArray[np.int32]  # index into ``codes``
    codes: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.xy)


def _data_text(name: str) -> str:
    return resources.files("smartseoul.city").joinpath("data", name).read_text(encoding="utf-8")


@cache
def districts() -> tuple[DistrictFigures, ...]:
    """The 25 districts with population, 2016 camera count and 2016 crime, ordered by code."""
    stats = {
        row["district_code"]: row
        for row in csv.DictReader(_data_text("district_stats_2016.csv").splitlines())
    }
    code_of = {row["district_ko"]: code for code, row in stats.items()}
    crimes = dict.fromkeys(stats, 0)
    for row in csv.DictReader(_data_text("crime_by_police_station_2016.csv").splitlines()):
        crimes[code_of[row["district_ko"]]] += sum(int(row[f"{c}_occurred"]) for c in CRIMES)
    found = []
    for feature in json.loads(_data_text("districts.geojson"))["features"]:
        props = feature["properties"]
        stat = stats[props["code"]]
        found.append(
            DistrictFigures(
                code=props["code"],
                name_ko=props["name"],
                name_en=props["name_eng"],
                population=int(stat["population"]),
                cctv_2016=int(stat["cctv_total"]),
                crimes_2016=crimes[props["code"]],
                geometry=from_geojson(feature["geometry"]),
            )
        )
    return tuple(sorted(found, key=lambda d: d.code))


def to_xy(
    lat: NDArray[np.float64] | Sequence[float], lon: NDArray[np.float64] | Sequence[float]
) -> NDArray[np.float64]:
    """WGS84 to metres on the planner's local plane (x east, y north)."""
    lat_a, lon_a = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    return np.column_stack(((lon_a - LON0) * _METRES_PER_DEGREE * _K, (lat_a - LAT0) * _METRES_PER_DEGREE))


def to_latlon(xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Metres on the local plane back to (lat, lon)."""
    return LAT0 + xy[:, 1] / _METRES_PER_DEGREE, LON0 + xy[:, 0] / (_METRES_PER_DEGREE * _K)


def district_of(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.int32]:
    """Index (in ``districts()``) of the district holding each point, -1 outside the city."""
    found = np.full(len(lat), -1, dtype=np.int32)
    for index, figures in enumerate(districts()):
        inside = shapely.contains_xy(figures.geometry, lon, lat)
        found[inside & (found < 0)] = index
    return found


@cache
def city_grid(cell_m: float) -> Grid:
    """Centres of the ``cell_m`` square cells whose centre lies inside a district (cached per size)."""
    shapes = [d.geometry for d in districts()]
    min_lon = min(s.bounds[0] for s in shapes)
    min_lat = min(s.bounds[1] for s in shapes)
    max_lon = max(s.bounds[2] for s in shapes)
    max_lat = max(s.bounds[3] for s in shapes)
    low, high = to_xy([min_lat, max_lat], [min_lon, max_lon])
    xs = np.arange(low[0] + cell_m / 2, high[0], cell_m)
    ys = np.arange(low[1] + cell_m / 2, high[1], cell_m)
    gx, gy = np.meshgrid(xs, ys)
    xy = np.column_stack((gx.ravel(), gy.ravel()))
    lat, lon = to_latlon(xy)
    district = district_of(lat, lon)
    keep = district >= 0
    return Grid(
        cell_m=cell_m,
        xy=xy[keep],
        lat=lat[keep],
        lon=lon[keep],
        district=district[keep],
        codes=tuple(d.code for d in districts()),
    )


def _spread_per_district(grid: Grid, per_district: Sequence[float]) -> NDArray[np.float64]:
    """Each district's share spread evenly over its cells (a share of 1 over the whole city)."""
    values = np.asarray(per_district, dtype=np.float64)
    cells = np.bincount(grid.district, minlength=len(values)).astype(np.float64)
    share: NDArray[np.float64] = np.divide(
        values / values.sum(), cells, out=np.zeros_like(values), where=cells > 0
    )
    return share[grid.district]


def _point_share(grid: Grid, points: Sequence[tuple[float, float]], radius_m: float) -> NDArray[np.float64]:
    """Each point's 1/n spread over the cells within ``radius_m`` of it (its own cell at least);
    points off the grid count for nothing."""
    share = np.zeros(grid.size)
    if not points:
        return share
    tree = cKDTree(grid.xy)
    for point in to_xy([p[0] for p in points], [p[1] for p in points]):
        near = tree.query_ball_point(point, radius_m)
        if not near:
            distance, nearest = tree.query(point)
            near = [int(nearest)] if distance <= grid.cell_m else []
        if near:
            share[near] += 1.0 / len(near)
    return np.asarray(share / len(points), dtype=np.float64)


def cell_weights(
    grid: Grid,
    weights: Weights,
    schools: Sequence[tuple[float, float]] = (),
    incidents: Sequence[tuple[float, float]] = (),
) -> NDArray[np.float64]:
    """Demand of every cell in resident equivalents (sums to the city's population)."""
    figures = districts()
    if weights.total() <= 0:
        raise ValueError("weights: at least one of population, crime, schools, incidents must be positive")
    blend = np.zeros(grid.size)
    if weights.population:
        blend += weights.population * _spread_per_district(grid, [d.population for d in figures])
    if weights.crime:
        blend += weights.crime * _spread_per_district(grid, [d.crimes_2016 for d in figures])
    if weights.schools:
        blend += weights.schools * _point_share(grid, schools, SCHOOL_ZONE_M)
    if weights.incidents:
        blend += weights.incidents * _point_share(grid, incidents, INCIDENT_SPREAD_M)
    total_population = sum(d.population for d in figures)
    return blend * total_population / weights.total()


def covered_by(points_xy: NDArray[np.float64], grid: Grid, radius_m: float) -> NDArray[np.bool_]:
    """Which cells have a point (an existing camera) within ``radius_m`` of their centre."""
    covered = np.zeros(grid.size, dtype=bool)
    if len(points_xy) == 0 or radius_m <= 0:
        return covered
    distance, _ = cKDTree(points_xy).query(grid.xy, k=1, distance_upper_bound=radius_m)
    covered[np.isfinite(distance)] = True
    return covered


def candidate_sites(grid: Grid, count: int, seed: int) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """``count`` candidate sites (metres) and their district index: distinct random cells, each
    at a random spot in its cell.

    Real candidate sites (poles, walls) are never exactly at cell centres; the jitter also keeps
    the instance free of the artificial ties a regular lattice would create.
    """
    if count > grid.size:
        raise ValueError(f"candidates: {count} asked but the grid has only {grid.size} cells")
    rng = np.random.default_rng(seed)
    picked = rng.choice(grid.size, size=count, replace=False)
    jitter = rng.uniform(-grid.cell_m / 2, grid.cell_m / 2, size=(count, 2))
    picked.sort()
    return grid.xy[picked] + jitter, grid.district[picked]
