"""Camera placement: the planner (HiGHS MILP) against PySAL spopt, and full Seoul scale with a proven gap.

Why: the placement planner must answer a city-sized request while an operator waits, and say
how far from the best plan its answer can be. Both instances are population-weighted demand on
a square grid over Seoul's 25 district polygons, with the ~29,500 demo cameras of the CCTV
registry fixed (``cctv.seed.demo_camera_points``; a cell within 50 m of one counts as covered)
and candidate sites at random spots of distinct random cells (``planner.build``, the code path
of the API):

- (a) 200 m grid (~15,000 cells), 5,000 candidate sites, 500 new cameras, 200 m radius. The
  planner (``solver.solve``: KD-tree coverage matrix, merging of equal cells, sparse MILP in
  HiGHS) against PySAL ``spopt`` 0.7.0 ``MCLP.from_cost_matrix`` solved by PuLP/CBC, given the
  same sites and the cells that still have demand (its dense distance matrix built with SciPy's
  ``cdist``), CBC given a time limit (900 s; 60 s with ``--quick``). Each side's time includes
  building its own matrix and model (``a_spopt_build_seconds``: spopt's share spent building the
  dense matrix and the PuLP model before CBC starts). ``a_spopt_optimal`` is 1 when CBC proved
  optimality within its limit.
- (b) 100 m grid (~60,000 cells), 20,000 candidate sites, 3,000 new cameras, 150 m radius: the
  planner's objective, the upper bound it proves (LP relaxation in HiGHS), the gap between them
  and the time (limit 120 s), plus the gap of the lazy greedy alone.

``--quick`` runs the same steps on small instances (a few seconds): 600 m grid, 300 sites, 30
cameras, 600 m radius for (a); 200 m grid, 3,000 sites, 300 cameras, 250 m radius for (b), the
latter forced through the greedy + bound path. Without spopt installed (``make bench`` installs
it; CI's ``make test`` does not) the spopt figures are null and stderr says why. Objectives are
resident equivalents newly covered.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from smartseoul.safety.cctv.seed import demo_camera_points
from smartseoul.safety.placement import planner, solver

DEMO_SEED = 20151
SITE_SEED = 7


@dataclass(frozen=True)
class Size:
    cell_m: float
    candidates: int
    cameras: int
    radius_m: float


FULL_A, QUICK_A = Size(200, 5000, 500, 200), Size(600, 300, 30, 600)
FULL_B, QUICK_B = Size(100, 20000, 3000, 150), Size(200, 3000, 300, 250)
SPOPT_LIMIT_FULL, SPOPT_LIMIT_QUICK = 900.0, 60.0
PLANNER_LIMIT = 120.0


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def instance(size: Size, existing: planner.Existing) -> planner.Instance:
    request = planner.PlanRequest(
        cameras=size.cameras,
        radius_m=size.radius_m,
        cell_m=size.cell_m,
        candidates=size.candidates,
        seed=SITE_SEED,
    )
    built, _quotas = planner.build(request, existing)
    return built


def ours(built: planner.Instance, radius_m: float, **options: Any) -> tuple[solver.Result, float]:
    """The planner from the sites and cells (the coverage matrix rebuilt inside the timing)."""
    started = time.perf_counter()
    cover = solver.coverage_matrix(built.sites_xy, built.grid.xy, radius_m)
    problem = solver.Problem(built.problem.weights, cover, built.problem.cameras)
    result = solver.solve(problem, time_limit_s=PLANNER_LIMIT, **options)
    return result, time.perf_counter() - started


def spopt_run(built: planner.Instance, radius_m: float, limit_s: float) -> dict[str, float | None]:
    """spopt's MCLP on the same sites and the cells that still have demand; None if not installed."""
    empty: dict[str, float | None] = {
        "objective": None,
        "seconds": None,
        "build_seconds": None,
        "optimal": None,
    }
    try:
        import pulp
        from scipy.spatial.distance import cdist
        from spopt.locate import MCLP
    except ImportError as error:
        note(f"spopt skipped: {error} (install the bench extra: make bench, or pip install spopt==0.7.0)")
        return empty
    demand_cells = np.flatnonzero(built.problem.weights > 0)
    started = time.perf_counter()
    costs = cdist(built.grid.xy[demand_cells], built.sites_xy)
    model = MCLP.from_cost_matrix(costs, built.problem.weights[demand_cells], radius_m, built.problem.cameras)
    build_seconds = time.perf_counter() - started
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit_s), results=False)
    except Exception as error:  # spopt raises when CBC stops without proving optimality
        note(f"spopt: {error}")
    seconds = time.perf_counter() - started
    value = pulp.value(model.problem.objective)
    optimal = model.problem.status == 1 and model.problem.sol_status == 1
    note(
        f"spopt: {'optimal' if optimal else 'stopped'} after {seconds:.1f} s: model built in "
        f"{build_seconds:.1f} s, CBC {seconds - build_seconds:.1f} s (limit {limit_s:.0f} s)"
    )
    return {
        "objective": float(value) if value is not None else None,
        "seconds": seconds,
        "build_seconds": build_seconds,
        "optimal": float(optimal),
    }


def part_a(size: Size, existing: planner.Existing, spopt_limit: float) -> dict[str, float | None]:
    built = instance(size, existing)
    result, seconds = ours(built, size.radius_m)
    note(
        f"(a) planner: {result.method} {result.status} in {seconds:.2f} s, objective {result.objective:,.0f}"
    )
    theirs = spopt_run(built, size.radius_m, spopt_limit)
    figures: dict[str, float | None] = {
        "a_cells": float(built.grid.size),
        "a_candidates": float(built.problem.candidates),
        "a_planner_objective": result.objective,
        "a_planner_gap": result.gap,
        "a_planner_seconds": seconds,
        "a_spopt_objective": theirs["objective"],
        "a_spopt_seconds": theirs["seconds"],
        "a_spopt_build_seconds": theirs["build_seconds"],
        "a_spopt_optimal": theirs["optimal"],
        "ratio_a_spopt_over_planner_seconds": None,
        "ratio_a_planner_over_spopt_objective": None,
    }
    if theirs["seconds"] is not None and theirs["objective"]:
        figures["ratio_a_spopt_over_planner_seconds"] = theirs["seconds"] / seconds
        figures["ratio_a_planner_over_spopt_objective"] = result.objective / theirs["objective"]
    return figures


def part_b(size: Size, existing: planner.Existing, quick: bool) -> dict[str, float | None]:
    built = instance(size, existing)
    options = {"exact_limit": 0} if quick else {}
    result, seconds = ours(built, size.radius_m, **options)
    greedy_objective = float(sum(solver.greedy(solver.reduce(built.problem))[1]))
    note(f"(b) planner: {result.method} in {seconds:.2f} s, gap {result.gap:.4%}, steps {result.steps}")
    return {
        "b_cells": float(built.grid.size),
        "b_candidates": float(built.problem.candidates),
        "b_planner_objective": result.objective,
        "b_planner_bound": result.bound,
        "b_planner_gap": result.gap,
        "b_planner_seconds": seconds,
        "b_greedy_gap": max(0.0, (result.bound - greedy_objective) / result.bound) if result.bound else 0.0,
    }


def run(quick: bool) -> dict[str, float | None]:
    existing = planner.Existing.from_points(demo_camera_points(DEMO_SEED))
    note(f"{int(existing.counts.sum())} demo cameras fixed (cells within 50 m count as covered)")
    figures = part_a(QUICK_A if quick else FULL_A, existing, SPOPT_LIMIT_QUICK if quick else SPOPT_LIMIT_FULL)
    figures.update(part_b(QUICK_B if quick else FULL_B, existing, quick))
    return figures
