"""Plans on the real city grid: coverage, equity at least cost, year-by-year rollout, bad requests."""

from __future__ import annotations

import numpy as np
import pytest

from smartseoul.safety.placement import demand, planner
from smartseoul.safety.placement.solver import Infeasible

NO_REGISTRY = planner.Existing.from_points([])  # the 2016 counts per district, no coverage
SMALL = {"cell_m": 400.0, "candidates": 800}


def test_grid_covers_the_city_with_the_citys_population() -> None:
    grid = demand.city_grid(200.0)
    assert 14_000 < grid.size < 16_500  # Seoul is about 605 km2
    weights = demand.cell_weights(grid, demand.Weights())
    assert weights.sum() == pytest.approx(sum(d.population for d in demand.districts()))
    assert set(np.unique(grid.district)) == set(range(25))


def test_crime_and_school_weights_move_demand() -> None:
    grid = demand.city_grid(400.0)
    schools = [(37.5172, 127.0473)]  # one school in Gangnam
    by_school = demand.cell_weights(grid, demand.Weights(population=0, schools=1), schools)
    near = demand.covered_by(demand.to_xy([37.5172], [127.0473]), grid, demand.SCHOOL_ZONE_M + grid.cell_m)
    assert by_school[~near].sum() == 0
    assert by_school.sum() == pytest.approx(by_school[near].sum())
    by_crime = demand.cell_weights(grid, demand.Weights(population=0, crime=1))
    gangnam = grid.codes.index("11230")
    dobong = grid.codes.index("11100")
    assert by_crime[grid.district == gangnam].sum() > by_crime[grid.district == dobong].sum()


def test_coverage_plan_adds_coverage_and_reports_each_sites_gain() -> None:
    planned = planner.plan(planner.PlanRequest(cameras=40, radius_m=300, per_year=15, **SMALL), NO_REGISTRY)
    result, made = planned.result, planned.outcome
    assert result.status == "optimal"
    assert len(made.sites) == 40
    assert made.figures["covered_share_after"] > made.figures["covered_share_before"]
    assert sum(site["gain"] for site in made.sites) == pytest.approx(result.objective, rel=1e-6)
    assert [y["cameras_installed"] for y in made.years] == [15, 30, 40]
    gains = [site["gain"] for site in made.sites]
    assert gains[0] == max(gains)  # the first camera installed is the one that covers most
    located = demand.district_of(
        np.array([s["lat"] for s in made.sites]), np.array([s["lon"] for s in made.sites])
    )
    assert (located >= 0).all()


def test_existing_cameras_that_cover_everything_leave_nothing_to_add() -> None:
    grid = demand.city_grid(400.0)
    jongno = grid.codes.index("11010")
    everywhere = list(zip(grid.lat[grid.district == jongno], grid.lon[grid.district == jongno], strict=True))
    existing = planner.Existing.from_points(everywhere)
    request = planner.PlanRequest(
        cameras=5, districts=("11010",), existing_range_m=300, cell_m=400, candidates=20
    )
    made = planner.plan(request, existing).outcome
    assert made.figures["covered_share_before"] == pytest.approx(1.0)
    assert made.sites == []


def test_equity_plan_meets_the_target_with_the_fewest_cameras() -> None:
    target = 3.0
    quotas = planner.equity_quotas(NO_REGISTRY.counts, target)
    assert planner.disparity_ratio(NO_REGISTRY.counts + quotas) <= target + 1e-9
    for district in np.flatnonzero(quotas):  # one camera fewer anywhere misses the target
        fewer = quotas.copy()
        fewer[district] -= 1
        assert planner.disparity_ratio(NO_REGISTRY.counts + fewer) > target
    request = planner.PlanRequest(cameras=20000, mode="equity", target_ratio=target, per_year=500, cell_m=400)
    made = planner.plan(request, NO_REGISTRY).outcome
    assert made.figures["cameras_used"] == int(quotas.sum()) == len(made.sites)
    # Songpa needs more cameras than it has 400 m cells: some sites take a second camera
    assert any(site["shares_site"] for site in made.sites)
    assert made.figures["disparity_after"] <= target
    ratios = [y["disparity_ratio"] for y in made.years]
    assert ratios == sorted(ratios, reverse=True)  # every year narrows the gap
    added = {d["code"]: d["cameras_added"] for d in made.figures["districts"]}
    assert added == {code: int(q) for code, q in zip(demand.city_grid(400.0).codes, quotas, strict=True)}


@pytest.mark.parametrize(
    ("request_values", "parameter", "words"),
    [
        ({"cameras": 100, "mode": "equity", "target_ratio": 2.0}, "cameras", "needs at least"),
        ({"cameras": 10, "mode": "equity", "target_ratio": 9.0}, "target_ratio", "already"),
        ({"cameras": 10, "mode": "equity"}, "target_ratio", "needs a target"),
        ({"cameras": 10, "radius_m": 0.0}, "radius_m", "more than 0"),
        ({"cameras": 900, "candidates": 800, "cell_m": 400.0}, "cameras", "only 800 candidate sites"),
        (
            {"cameras": 600, "candidates": 99_999, "districts": ("11100",)},
            "cameras",
            "only 519 candidate sites",
        ),
        ({"cameras": 5, "districts": ("99999",)}, "districts", "unknown"),
    ],
)
def test_impossible_requests_name_the_parameter(request_values: dict, parameter: str, words: str) -> None:
    with pytest.raises(Infeasible) as refused:
        planner.plan(planner.PlanRequest(**request_values), NO_REGISTRY)
    assert refused.value.parameter == parameter
    assert words in str(refused.value)
