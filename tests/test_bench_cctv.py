"""Smoke tests of ``smartseoul bench coverage`` and ``bench nearest``: each runs (``--quick``) and
reports its figures. Shape only, never a speed (this machine is shared and timings vary); through
the real command in a subprocess, as ``make bench`` runs them."""

from __future__ import annotations

from typing import Any

from tests.test_bench import assert_positive, figures_of

COVERAGE_KEYS = (
    "cameras",
    "neighbourhoods",
    "coverage_s",
    "cameras_per_s",
    "naive_sample_s",
    "naive_estimated_s",
    "ratio_naive_over_indexed",
)
NEAREST_KEYS = (
    "cameras",
    "index_queries_per_s",
    "bruteforce_queries_per_s",
    "ratio_index_over_bruteforce",
    "service_queries_per_s",
)


def test_coverage_figures() -> None:
    figures: dict[str, Any] = figures_of("coverage")
    assert_positive(figures, COVERAGE_KEYS)
    assert (figures["cameras"], figures["neighbourhoods"]) == (29_477, 423)


def test_nearest_figures() -> None:
    figures: dict[str, Any] = figures_of("nearest")
    assert_positive(figures, NEAREST_KEYS)
    assert figures["cameras"] == 29_477
