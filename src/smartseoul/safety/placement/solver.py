"""Maximal covering (MCLP) solvers: exact sparse MILP in HiGHS, and lazy greedy with a proven bound.

The model: choose at most ``cameras`` of the candidate sites (exactly ``quotas[g]`` in group
``g`` when quotas are given, the equity mode's cameras per district) to maximise the weight of
the demand cells within reach of a chosen site::

    max  sum_i w_i y_i
    s.t. y_i <= sum_{j covers i} x_j     for every cell i
         sum_j x_j <= cameras             (or sum_{j in g} x_j = quotas[g])
         x_j in {0, 1},  0 <= y_i <= 1

``y`` may stay continuous: with positive weights an optimum always sets ``y_i = min(1, ...)``,
so HiGHS branches on the sites only. Before solving, cells nobody can reach are dropped and cells
reached by exactly the same sites are merged (their weights add up): on a city grid this shrinks
the model several times over without changing any solution.

For instances too large to solve exactly in time, :func:`solve` runs the lazy greedy (a
(1 - 1/e)-approximation, usually within a few per cent), proves its quality against the LP
relaxation's optimum (an upper bound on every integer solution), and then searches a MILP
restricted to the sites the LP relaxation and the greedy use; the gap reported is always measured
against the full LP bound, so it is a proof, not an estimate.
"""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

log = logging.getLogger("smartseoul.placement")
TOLERANCE = 1e-9


class Infeasible(ValueError):
    """The request cannot be met; ``parameter`` names the request field to change."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One MCLP instance: ``cover`` is candidates x cells (True where the site reaches the cell)."""

    weights: NDArray[np.float64]
    cover: sparse.csr_matrix
    cameras: int
    groups: NDArray[np.int32] | None = None  # group (district) of each candidate
    quotas: dict[int, int] | None = None  # exact number of sites per group

    @property
    def candidates(self) -> int:
        return int(self.cover.shape[0])


@dataclass
class Result:
    """A solution (site indices in the order a greedy would install them) and its proven quality."""

    chosen: list[int]
    gains: list[float]  # marginal covered weight of each chosen site, in that order
    objective: float
    bound: float
    method: str
    status: str  # "optimal", or "feasible" (its gap to the optimum is proven by ``bound``)
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """(bound - objective) / bound: how far from the optimum this solution can at most be."""
        if self.bound <= TOLERANCE:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)


def coverage_matrix(
    sites_xy: NDArray[np.float64], cells_xy: NDArray[np.float64], radius_m: float
) -> sparse.csr_matrix:
    """Sparse sites x cells matrix of "within ``radius_m``", from a KD-tree (no dense distances)."""
    if radius_m <= 0:
        raise Infeasible("radius_m", "must be more than 0 metres")
    tree = cKDTree(cells_xy)
    reached = tree.query_ball_point(sites_xy, radius_m, workers=-1)
    lengths = np.fromiter((len(r) for r in reached), dtype=np.int64, count=len(reached))
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    indices = np.fromiter((c for r in reached for c in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float64)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(sites_xy), len(cells_xy)))
    matrix.sort_indices()
    return matrix


def reduce(problem: Problem) -> Problem:
    """Drop cells of no weight or out of reach, and merge cells reached by the same sites."""
    cover = problem.cover.tocsc()
    reach = np.diff(cover.indptr)
    keep = np.flatnonzero((reach > 0) & (problem.weights > TOLERANCE))
    merged: dict[bytes, int] = {}
    column_of = np.empty(len(keep), dtype=np.int64)
    first: list[int] = []
    for position, cell in enumerate(keep):
        key = cover.indices[cover.indptr[cell] : cover.indptr[cell + 1]].tobytes()
        column = merged.setdefault(key, len(first))
        if column == len(first):
            first.append(int(cell))
        column_of[position] = column
    weights = np.bincount(column_of, weights=problem.weights[keep], minlength=len(first)).astype(np.float64)
    reduced = cover[:, first].tocsr()
    reduced.sort_indices()
    return Problem(weights, reduced, problem.cameras, problem.groups, problem.quotas)


def objective_of(problem: Problem, chosen: list[int]) -> float:
    """Covered weight of a set of sites."""
    if not chosen:
        return 0.0
    reached = np.unique(problem.cover[chosen].indices)
    return float(problem.weights[reached].sum())


def _check(problem: Problem) -> None:
    if problem.cameras < 1:
        raise Infeasible("cameras", "must be at least 1")
    if problem.cameras > problem.candidates:
        raise Infeasible(
            "cameras", f"{problem.cameras} asked but there are only {problem.candidates} candidate sites"
        )
    if problem.quotas is not None and problem.groups is not None:
        available = np.bincount(problem.groups, minlength=max(problem.quotas, default=0) + 1)
        for group, quota in problem.quotas.items():
            if quota > available[group]:
                raise Infeasible("cameras", f"group {group} needs {quota} sites but has {available[group]}")


# ---------------------------------------------------------------- greedy


def greedy(problem: Problem) -> tuple[list[int], list[float]]:
    """Lazy greedy (CELF): a site's gain only shrinks, so a stale gain is an upper bound and most
    sites are never re-evaluated. Honours the quotas when given (zero-gain sites fill a quota)."""
    cover, weights = problem.cover, problem.weights
    left = dict(problem.quotas) if problem.quotas is not None else None
    groups = problem.groups
    budget = sum(left.values()) if left is not None else problem.cameras
    covered = np.zeros(len(weights), dtype=bool)
    heap = [(-float(g), j) for j, g in enumerate(cover @ weights)]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    while heap and len(chosen) < budget:
        _, site = heapq.heappop(heap)
        if left is not None and groups is not None and left.get(int(groups[site]), 0) <= 0:
            continue
        cells = cover.indices[cover.indptr[site] : cover.indptr[site + 1]]
        gain = float(weights[cells[~covered[cells]]].sum())
        if heap and gain < -heap[0][0] - TOLERANCE:
            heapq.heappush(heap, (-gain, site))
            continue
        if gain <= TOLERANCE and left is None:
            break  # nothing left to gain: fewer cameras already cover all they can
        chosen.append(site)
        gains.append(gain)
        covered[cells] = True
        if left is not None and groups is not None:
            left[int(groups[site])] -= 1
    return chosen, gains


def install_order(problem: Problem, chosen: list[int]) -> tuple[list[int], list[float]]:
    """Order a chosen set as the greedy would install it: biggest marginal gain first."""
    sub = Problem(problem.weights, problem.cover[chosen], len(chosen))
    order, gains = greedy(sub)
    rest = [j for j in range(len(chosen)) if j not in set(order)]
    return [chosen[j] for j in order + rest], gains + [0.0] * len(rest)


# ---------------------------------------------------------------- HiGHS models


def _constraints(problem: Problem, sites: NDArray[np.int64]) -> list[LinearConstraint]:
    n, m = len(sites), len(problem.weights)
    cover_t = problem.cover[sites].T.tocsr()
    link = sparse.hstack([-cover_t, sparse.identity(m, format="csr")], format="csr")
    rows = [LinearConstraint(link, -np.inf, 0.0)]
    if problem.quotas is not None and problem.groups is not None:
        groups = problem.groups[sites]
        keys = sorted(set(problem.quotas) | {int(g) for g in np.unique(groups)})  # no quota: none there
        member = sparse.csr_matrix(
            (np.ones(n), (np.searchsorted(keys, groups), np.arange(n))), shape=(len(keys), n)
        )
        quota = np.array([problem.quotas.get(k, 0) for k in keys], dtype=np.float64)
        rows.append(
            LinearConstraint(sparse.hstack([member, sparse.csr_matrix((len(keys), m))]), quota, quota)
        )
    else:
        total = sparse.hstack([sparse.csr_matrix(np.ones((1, n))), sparse.csr_matrix((1, m))])
        rows.append(LinearConstraint(total, 0.0, float(problem.cameras)))
    return rows


def lp_bound(problem: Problem) -> tuple[float, NDArray[np.float64]]:
    """The LP relaxation's optimum (an upper bound on every integer solution) and its site values."""
    n, m = problem.candidates, len(problem.weights)
    result = milp(
        np.concatenate([np.zeros(n), -problem.weights]),
        constraints=_constraints(problem, np.arange(n)),
        integrality=np.zeros(n + m),
        bounds=Bounds(0.0, 1.0),
    )
    if result.x is None:
        raise Infeasible("cameras", f"the LP relaxation has no solution ({result.message})")
    return float(-result.fun), np.asarray(result.x[:n], dtype=np.float64)


def exact(
    problem: Problem, time_limit_s: float, mip_gap: float = 1e-6, sites: NDArray[np.int64] | None = None
) -> tuple[list[int], float, float, bool]:
    """Solve the MILP in HiGHS over ``sites`` (all by default): (chosen, objective, dual bound, optimal)."""
    sites = np.arange(problem.candidates) if sites is None else sites
    n, m = len(sites), len(problem.weights)
    result = milp(
        np.concatenate([np.zeros(n), -problem.weights]),
        constraints=_constraints(problem, sites),
        integrality=np.concatenate([np.ones(n), np.zeros(m)]),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": max(time_limit_s, 0.1), "mip_rel_gap": mip_gap, "disp": False},
    )
    if result.x is None:
        return [], 0.0, float("inf"), False
    chosen = [int(sites[j]) for j in np.flatnonzero(result.x[:n] > 0.5)]
    bound = -float(result.mip_dual_bound) if result.mip_dual_bound is not None else float("inf")
    return chosen, objective_of(problem, chosen), bound, result.status == 0


# ---------------------------------------------------------------- the planner's entry point


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 60.0,
    exact_limit: int = 8_000,
    target_gap: float = 0.005,
) -> Result:
    """The best plan this time allows, with its proven gap.

    Instances whose reduced model has at most ``exact_limit`` sites go straight to the exact
    MILP. Larger ones get greedy + LP bound, then a MILP restricted to the sites the LP relaxation
    or the greedy uses, while the proven gap is above ``target_gap`` and time remains.
    """
    _check(problem)
    started = time.perf_counter()
    steps: dict[str, float] = {}
    reduced = reduce(problem)
    steps["reduce_s"] = time.perf_counter() - started
    if reduced.candidates <= exact_limit:
        chosen, objective, bound, optimal = exact(reduced, time_limit_s)
        steps["milp_s"] = time.perf_counter() - started - steps["reduce_s"]
        if optimal:
            ordered, gains = install_order(reduced, chosen)
            seconds = time.perf_counter() - started
            return Result(ordered, gains, objective, objective, "milp", "optimal", seconds, steps)
        # out of time: the better of the MILP's incumbent and the greedy, the tighter of the bounds
        fallback = _greedy_then_restricted(reduced, started, steps, 0.0, target_gap)
        if objective > fallback.objective:
            fallback.chosen, fallback.gains = install_order(reduced, chosen)
            fallback.objective, fallback.method = objective, "milp"
        fallback.bound = min(fallback.bound, bound)
        fallback.seconds = time.perf_counter() - started
        return fallback
    return _greedy_then_restricted(reduced, started, steps, time_limit_s, target_gap)


def _greedy_then_restricted(
    problem: Problem, started: float, steps: dict[str, float], time_limit_s: float, target_gap: float
) -> Result:
    mark = time.perf_counter()
    chosen, gains = greedy(problem)
    objective = float(sum(gains))
    steps["greedy_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    bound, lp_sites = lp_bound(problem)
    steps["lp_s"] = time.perf_counter() - mark
    method, optimal = "greedy+lp", bound - objective <= TOLERANCE * max(bound, 1.0)
    remaining = time_limit_s - (time.perf_counter() - started)
    if not optimal and (bound - objective) / bound > target_gap and remaining > 1.0:
        mark = time.perf_counter()
        support = np.union1d(np.flatnonzero(lp_sites > 1e-6), np.asarray(chosen, dtype=np.int64))
        better, value, _, _ = exact(problem, remaining, mip_gap=target_gap / 4, sites=support)
        steps["restricted_milp_s"] = time.perf_counter() - mark
        if value > objective:
            chosen, gains = install_order(problem, better)
            objective, method = value, "greedy+lp+restricted_milp"
    return Result(
        chosen,
        gains,
        objective,
        bound,
        method,
        "optimal" if optimal else "feasible",
        time.perf_counter() - started,
        steps,
    )
