"""The covering solvers against brute force on instances small enough to enumerate."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from smartseoul.safety.placement import solver
from smartseoul.safety.placement.solver import Infeasible, Problem


def random_problem(seed: int, sites: int = 12, cells: int = 40, cameras: int = 3) -> Problem:
    rng = np.random.default_rng(seed)
    cells_xy = rng.uniform(0, 1000, size=(cells, 2))
    sites_xy = rng.uniform(0, 1000, size=(sites, 2))
    cover = solver.coverage_matrix(sites_xy, cells_xy, 260.0)
    return Problem(rng.uniform(1, 10, size=cells), cover, cameras)


def brute_force(problem: Problem) -> float:
    return max(
        solver.objective_of(problem, list(chosen))
        for chosen in itertools.combinations(range(problem.candidates), problem.cameras)
    )


@pytest.mark.parametrize("seed", range(5))
def test_exact_milp_finds_the_brute_force_optimum(seed: int) -> None:
    problem = random_problem(seed)
    result = solver.solve(problem)
    assert result.method == "milp"
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_force(problem))
    assert len(result.chosen) <= problem.cameras
    assert sum(result.gains) == pytest.approx(result.objective)


@pytest.mark.parametrize("seed", range(5))
def test_greedy_path_proves_its_gap_against_a_true_upper_bound(seed: int) -> None:
    problem = random_problem(seed, sites=14, cameras=4)
    optimum = brute_force(problem)
    result = solver.solve(problem, exact_limit=0, target_gap=0.0)
    assert result.objective <= optimum + 1e-6
    assert result.bound >= optimum - 1e-6  # the LP bound never cuts off the optimum
    assert result.gap == pytest.approx((result.bound - result.objective) / result.bound)
    assert result.objective == pytest.approx(solver.objective_of(problem, result.chosen))


def test_merging_cells_keeps_every_objective() -> None:
    problem = random_problem(7, sites=10, cells=200)
    reduced = solver.reduce(problem)
    assert len(reduced.weights) < len(problem.weights)
    for chosen in ([0], [1, 2, 3], list(range(10))):
        assert solver.objective_of(reduced, chosen) == pytest.approx(solver.objective_of(problem, chosen))


def test_quotas_place_exactly_that_many_sites_per_group() -> None:
    base = random_problem(3, sites=12)
    groups = np.array([0] * 6 + [1] * 6, dtype=np.int32)
    problem = Problem(base.weights, base.cover, 3, groups, {0: 1, 1: 2})
    for result in (solver.solve(problem), solver.solve(problem, exact_limit=0)):
        picked = groups[result.chosen]
        assert (np.count_nonzero(picked == 0), np.count_nonzero(picked == 1)) == (1, 2)


def test_nothing_left_to_cover_places_no_camera() -> None:
    base = random_problem(1)
    problem = Problem(np.zeros_like(base.weights), base.cover, 2)
    result = solver.solve(problem)
    assert result.chosen == []
    assert result.objective == 0.0
    assert result.gap == 0.0


def test_absurd_requests_name_the_parameter() -> None:
    with pytest.raises(Infeasible) as zero_radius:
        solver.coverage_matrix(np.zeros((1, 2)), np.zeros((1, 2)), 0.0)
    assert zero_radius.value.parameter == "radius_m"
    base = random_problem(2, sites=5)
    with pytest.raises(Infeasible) as too_many:
        solver.solve(Problem(base.weights, base.cover, 6))
    assert too_many.value.parameter == "cameras"
    assert "only 5 candidate sites" in str(too_many.value)


def test_coverage_matrix_is_within_radius_exactly() -> None:
    cells = np.array([[0.0, 0.0], [100.0, 0.0], [100.1, 0.0], [0.0, -99.0]])
    matrix = solver.coverage_matrix(np.array([[0.0, 0.0]]), cells, 100.0)
    assert isinstance(matrix, sparse.csr_matrix)
    assert sorted(matrix.indices.tolist()) == [0, 1, 3]


def test_a_milp_out_of_time_still_answers_with_a_proven_gap() -> None:
    rng = np.random.default_rng(11)
    cells_xy = rng.uniform(0, 20_000, size=(20_000, 2))
    sites_xy = rng.uniform(0, 20_000, size=(3_000, 2))
    problem = Problem(rng.uniform(1, 10, size=20_000), solver.coverage_matrix(sites_xy, cells_xy, 250.0), 300)
    result = solver.solve(problem, time_limit_s=0.1)
    assert len(result.chosen) == 300
    assert result.objective == pytest.approx(solver.objective_of(problem, result.chosen))
    assert result.objective <= result.bound + 1e-6
    assert result.gap < 0.05
