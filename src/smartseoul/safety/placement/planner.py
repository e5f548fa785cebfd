"""A placement plan from a request: demand grid, fixed existing cameras, candidate sites, solver,
per-district figures and the year-by-year rollout. No database here: the caller hands in the
existing cameras and schools, so the API, the CLI and the benchmark share one code path.

Disparity is the measure the issue uses: cameras per 1,000 residents in each district, and the
ratio of the highest district to the lowest (2016: Yongsan 6.65 against Songpa 0.93, 7.18x).
Equity mode asks for the least number of new cameras that brings that ratio to at most
``target_ratio``. Adding cameras never lowers the highest district, so the cheapest way keeps the
highest district as it is (M cameras per resident) and lifts every other district d with
population P_d and E_d cameras to ceil(M * P_d / target - E_d) new ones; no plan with fewer
cameras can meet the target. Where they go inside each district is then a maximal covering
problem with those counts per district.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from smartseoul.safety.placement import demand, solver
from smartseoul.safety.placement.solver import Infeasible

Mode = Literal["coverage", "equity"]


@dataclass(frozen=True)
class PlanRequest:
    """What the planner is asked; bounds are checked by the API model and again here."""

    cameras: int
    radius_m: float = 200.0
    mode: Mode = "coverage"
    target_ratio: float | None = None
    per_year: int | None = None
    cell_m: float = 200.0
    candidates: int = 5000
    existing_range_m: float = 50.0
    weights: demand.Weights = field(default_factory=demand.Weights)
    districts: tuple[str, ...] = ()  # empty: the whole city
    seed: int = 1
    time_limit_s: float = 60.0


@dataclass(frozen=True)
class Existing:
    """The cameras already there: their points and the count per district (by district order)."""

    points: list[tuple[float, float]]
    counts: NDArray[np.int64]
    source: str  # "registry" or "district_stats_2016"

    @classmethod
    def from_points(cls, points: Sequence[tuple[float, float]]) -> Existing:
        """Cameras from the registry; an empty registry falls back to the 2016 counts (no coverage)."""
        figures = demand.districts()
        if not points:
            counts = np.array([d.cctv_2016 for d in figures], dtype=np.int64)
            return cls([], counts, "district_stats_2016")
        lat = np.array([p[0] for p in points])
        lon = np.array([p[1] for p in points])
        where = demand.district_of(lat, lon)
        counts = np.bincount(where[where >= 0], minlength=len(figures)).astype(np.int64)
        return cls(list(points), counts, "registry")


@dataclass
class Instance:
    """The solver's problem plus what is needed to report it."""

    grid: demand.Grid
    weights: NDArray[np.float64]  # every cell's demand
    in_scope: NDArray[np.bool_]  # cells of the requested districts
    covered_before: NDArray[np.bool_]
    sites_xy: NDArray[np.float64]
    site_district: NDArray[np.int32]
    problem: solver.Problem


def _check(request: PlanRequest) -> None:
    if request.radius_m <= 0:
        raise Infeasible("radius_m", "must be more than 0 metres")
    if request.cameras < 1:
        raise Infeasible("cameras", "must be at least 1")
    if request.mode == "equity":
        if request.target_ratio is None or request.target_ratio < 1:
            raise Infeasible("target_ratio", "equity mode needs a target ratio of at least 1")
        if request.districts:
            raise Infeasible("districts", "equity mode balances the whole city; leave districts empty")
    if request.weights.total() <= 0:
        raise Infeasible("weights", "at least one of population, crime, schools, incidents must be positive")
    known = {d.code for d in demand.districts()}
    unknown = sorted(set(request.districts) - known)
    if unknown:
        raise Infeasible("districts", f"unknown district code(s) {', '.join(unknown)}")


def per_1000(counts: NDArray[np.int64] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Cameras per 1,000 residents of every district."""
    population = np.array([d.population for d in demand.districts()], dtype=np.float64)
    return np.asarray(counts, dtype=np.float64) * 1000.0 / population


def disparity_ratio(counts: NDArray[np.int64] | NDArray[np.float64]) -> float:
    """Highest over lowest cameras per 1,000 residents across districts (inf if one has none)."""
    rates = per_1000(counts)
    low = float(rates.min())
    return float(rates.max()) / low if low > 0 else math.inf


def equity_quotas(existing: NDArray[np.int64], target_ratio: float) -> NDArray[np.int64]:
    """The fewest new cameras per district that bring the disparity ratio to ``target_ratio``."""
    population = np.array([d.population for d in demand.districts()], dtype=np.float64)
    highest = float((existing / population).max())
    needed = np.ceil(highest * population / target_ratio - existing - 1e-9)
    return np.maximum(needed, 0).astype(np.int64)


def _sites(
    request: PlanRequest, grid: demand.Grid, scope: NDArray[np.bool_], quotas: NDArray[np.int64] | None
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Candidate sites: a random sample of the cells in scope (all of them when fewer cells than
    ``candidates``), or in equity mode every cell of the
    districts that need cameras (a district needing more cameras than it has cells gets several
    cameras on some sites, see :func:`camera_units`)."""
    if quotas is not None:
        cells = np.flatnonzero(np.isin(grid.district, np.flatnonzero(quotas > 0)))
        count = len(cells)
    else:
        cells = np.flatnonzero(scope)
        count = min(request.candidates, len(cells))  # at most one site per cell
    sub = demand.Grid(
        grid.cell_m, grid.xy[cells], grid.lat[cells], grid.lon[cells], grid.district[cells], grid.codes
    )
    return demand.candidate_sites(sub, count, request.seed)


def _site_quotas(quotas: NDArray[np.int64], site_district: NDArray[np.int32]) -> dict[int, int]:
    """Distinct sites to choose per district: its quota, or all its sites when it needs more."""
    available = np.bincount(site_district, minlength=len(quotas))
    return {int(d): int(min(q, available[d])) for d, q in enumerate(quotas) if q > 0}


def camera_units(instance: Instance, result: solver.Result, quotas: NDArray[np.int64] | None) -> list[int]:
    """One site index per new camera: the chosen sites, then (equity mode) the cameras a district
    needs beyond its sites, added round-robin to its chosen sites in order of their gain."""
    units = list(result.chosen)
    if quotas is None:
        return units
    for district, quota in enumerate(quotas):
        mine = [site for site in result.chosen if instance.site_district[site] == district]
        extra = int(quota) - len(mine)
        units.extend(mine[k % len(mine)] for k in range(extra) if mine)
    return units


def build(
    request: PlanRequest,
    existing: Existing,
    schools: Sequence[tuple[float, float]] = (),
    incidents: Sequence[tuple[float, float]] = (),
) -> tuple[Instance, NDArray[np.int64] | None]:
    """The instance of a request, and the equity quotas (None in coverage mode)."""
    _check(request)
    grid = demand.city_grid(request.cell_m)
    weights = demand.cell_weights(grid, request.weights, schools, incidents)
    if weights.sum() <= 0:
        raise Infeasible("weights", "the weights chosen give no demand (no schools or incidents recorded)")
    codes = list(grid.codes)
    scope = (
        np.isin(grid.district, [codes.index(c) for c in request.districts])
        if request.districts
        else np.ones(grid.size, dtype=bool)
    )
    points = demand.to_xy([p[0] for p in existing.points], [p[1] for p in existing.points])
    covered = demand.covered_by(points, grid, request.existing_range_m)
    quotas = None
    if request.mode == "equity":
        assert request.target_ratio is not None
        quotas = equity_quotas(existing.counts, request.target_ratio)
        needed = int(quotas.sum())
        if needed > request.cameras:
            raise Infeasible(
                "cameras",
                f"bringing the disparity ratio from {disparity_ratio(existing.counts):.2f} to "
                f"{request.target_ratio:g} needs at least {needed} new cameras; "
                f"the budget is {request.cameras}",
            )
        if needed == 0:
            raise Infeasible(
                "target_ratio",
                f"the disparity ratio is already {disparity_ratio(existing.counts):.2f}, "
                f"at or under {request.target_ratio:g}",
            )
    sites_xy, site_district = _sites(request, grid, scope, quotas)
    if request.mode == "coverage" and request.cameras > len(sites_xy):
        raise Infeasible(
            "cameras", f"{request.cameras} asked but there are only {len(sites_xy)} candidate sites"
        )
    open_weights = np.where(covered | ~scope, 0.0, weights)
    cover = solver.coverage_matrix(sites_xy, grid.xy, request.radius_m)
    problem = solver.Problem(
        open_weights,
        cover,
        sum(_site_quotas(quotas, site_district).values()) if quotas is not None else request.cameras,
        site_district if quotas is not None else None,
        _site_quotas(quotas, site_district) if quotas is not None else None,
    )
    return Instance(grid, weights, scope, covered, sites_xy, site_district, problem), quotas


@dataclass
class Outcome:
    """A solved plan, ready to be stored and shown."""

    sites: list[dict[str, Any]]
    years: list[dict[str, Any]]
    figures: dict[str, Any]


def _rollout(request: PlanRequest, instance: Instance, units: list[int], existing: Existing) -> list[int]:
    """Install order of the camera units: coverage mode follows the solver's order (biggest gain
    first); equity mode gives each next camera to the district lowest in cameras per 1,000
    residents, its best site first."""
    if request.mode == "coverage":
        return list(units)
    queues: dict[int, list[int]] = {}
    for site in units:
        queues.setdefault(int(instance.site_district[site]), []).append(site)
    counts = existing.counts.astype(np.float64).copy()
    rates = per_1000(counts)
    order: list[int] = []
    while any(queues.values()):
        district = min((d for d, q in queues.items() if q), key=lambda d: (rates[d], d))
        order.append(queues[district].pop(0))
        counts[district] += 1
        rates[district] = per_1000(counts)[district]
    return order


def outcome(request: PlanRequest, instance: Instance, units: list[int], existing: Existing) -> Outcome:
    """Each new camera with its coverage gained and year, per-year and per-district figures."""
    order = _rollout(request, instance, units, existing)
    lat, lon = demand.to_latlon(instance.sites_xy[order] if order else np.empty((0, 2)))
    per_year = request.per_year or max(len(order), 1)
    covered = instance.covered_before.copy()
    counts = existing.counts.copy()
    sites: list[dict[str, Any]] = []
    years: list[dict[str, Any]] = []
    seen: set[int] = set()
    total = float(instance.weights[instance.in_scope].sum())
    cover = instance.problem.cover
    for rank, site in enumerate(order):
        cells = cover.indices[cover.indptr[site] : cover.indptr[site + 1]]
        fresh = cells[~covered[cells] & instance.in_scope[cells]]
        gain = float(instance.weights[fresh].sum())
        covered[cells] = True
        district = int(instance.site_district[site])
        counts[district] += 1
        sites.append(
            {
                "rank": rank + 1,
                "year": rank // per_year + 1,
                "lat": round(float(lat[rank]), 6),
                "lon": round(float(lon[rank]), 6),
                "district_code": instance.grid.codes[district],
                "gain": round(gain, 3),
                "gain_share": round(gain / total, 6) if total else 0.0,
                "shares_site": site in seen,
            }
        )
        seen.add(site)
        if rank + 1 == len(order) or (rank + 1) % per_year == 0:
            years.append(_year_figures(rank // per_year + 1, rank + 1, covered, instance, total, counts))
    return Outcome(sites, years, _figures(instance, covered, existing, counts, total))


def _year_figures(
    year: int,
    installed: int,
    covered: NDArray[np.bool_],
    instance: Instance,
    total: float,
    counts: NDArray[np.int64],
) -> dict[str, Any]:
    share = float(instance.weights[covered & instance.in_scope].sum()) / total if total else 0.0
    ratio = disparity_ratio(counts)
    return {
        "year": year,
        "cameras_installed": installed,
        "covered_share": round(share, 6),
        "disparity_ratio": round(ratio, 4) if math.isfinite(ratio) else None,
    }


def _figures(
    instance: Instance, covered: NDArray[np.bool_], existing: Existing, after: NDArray[np.int64], total: float
) -> dict[str, Any]:
    def share(mask: NDArray[np.bool_]) -> float:
        return round(float(instance.weights[mask & instance.in_scope].sum()) / total, 6) if total else 0.0

    before_rates, after_rates = per_1000(existing.counts), per_1000(after)
    districts = [
        {
            "code": d.code,
            "name_ko": d.name_ko,
            "name_en": d.name_en,
            "population": d.population,
            "cameras_before": int(existing.counts[i]),
            "cameras_added": int(after[i] - existing.counts[i]),
            "per_1000_before": round(float(before_rates[i]), 3),
            "per_1000_after": round(float(after_rates[i]), 3),
        }
        for i, d in enumerate(demand.districts())
    ]
    ratios = (disparity_ratio(existing.counts), disparity_ratio(after))
    return {
        "total_demand": round(total, 3),
        "covered_share_before": share(instance.covered_before),
        "covered_share_after": share(covered),
        "cameras_used": int(after.sum() - existing.counts.sum()),
        "cells": int(instance.in_scope.sum()),
        "candidate_sites": instance.problem.candidates,
        "existing_cameras": int(existing.counts.sum()),
        "existing_source": existing.source,
        "disparity_before": round(ratios[0], 4) if math.isfinite(ratios[0]) else None,
        "disparity_after": round(ratios[1], 4) if math.isfinite(ratios[1]) else None,
        "districts": districts,
    }


@dataclass
class Planned:
    """The solver's result and the plan made from it."""

    result: solver.Result
    outcome: Outcome


def plan(
    request: PlanRequest,
    existing: Existing,
    schools: Sequence[tuple[float, float]] = (),
    incidents: Sequence[tuple[float, float]] = (),
) -> Planned:
    """Solve a request end to end (raises Infeasible naming the parameter to change)."""
    instance, quotas = build(request, existing, schools, incidents)
    result = solver.solve(instance.problem, time_limit_s=request.time_limit_s)
    return Planned(result, outcome(request, instance, camera_units(instance, result, quotas), existing))
