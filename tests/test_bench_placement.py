"""Smoke test of ``smartseoul bench placement``: it runs (``--quick``) and reports its figures.

Shape only, never speed: the machine is shared. spopt is in the ``bench`` extra, which CI's
``make test`` does not install; without it the spopt figures are null and stderr says why.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from tests.test_bench import assert_positive, figures_of

PLANNER_KEYS = (
    "a_cells",
    "a_candidates",
    "a_planner_objective",
    "a_planner_seconds",
    "b_cells",
    "b_candidates",
    "b_planner_objective",
    "b_planner_bound",
    "b_planner_seconds",
)
SPOPT_KEYS = (
    "a_spopt_objective",
    "a_spopt_seconds",
    "a_spopt_build_seconds",
    "ratio_a_spopt_over_planner_seconds",
    "ratio_a_planner_over_spopt_objective",
)


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return figures_of("placement")


def test_planner_figures_and_proven_gaps(figures: dict[str, Any]) -> None:
    assert_positive(figures, PLANNER_KEYS)
    for key in ("a_planner_gap", "b_planner_gap", "b_greedy_gap"):
        assert 0.0 <= figures[key] < 0.05, f"{key} = {figures[key]!r}"
    assert figures["b_planner_objective"] <= figures["b_planner_bound"] * (1 + 1e-9)


def test_spopt_figures_or_a_stated_reason(figures: dict[str, Any]) -> None:
    assert set(SPOPT_KEYS) | {"a_spopt_optimal"} <= set(figures)
    if importlib.util.find_spec("spopt") is None:
        assert all(figures[key] is None for key in SPOPT_KEYS)
        assert "spopt skipped" in figures["_stderr"]
        return
    assert_positive(figures, SPOPT_KEYS)
    assert figures["a_spopt_optimal"] in (0.0, 1.0)
    if figures["a_spopt_optimal"] == 1.0:  # both proved optimality: the same optimum
        assert figures["ratio_a_planner_over_spopt_objective"] == pytest.approx(1.0, rel=1e-6)
