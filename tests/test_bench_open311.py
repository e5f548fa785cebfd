"""Smoke test of ``smartseoul bench open311 --quick``: it runs and reports every figure, and the
figures agree with each other (never a speed: this machine is shared)."""

from __future__ import annotations

import pytest

from tests.test_bench import assert_positive, figures_of, smartseoul

OPEN311_KEYS = (
    "healthz_rps",
    "get_rps",
    "get_p99_ms",
    "get_rows",
    "post_rps",
    "post_p99_ms",
    "ratio_healthz_over_get_rps",
    "ratio_healthz_over_post_rps",
)


def test_open311_benchmark_is_listed() -> None:
    result = smartseoul("bench", "--list", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "open311" in {line.split("\t")[0] for line in result.stdout.splitlines()}


def test_open311_figures() -> None:
    figures = figures_of("open311")
    assert_positive(figures, OPEN311_KEYS)
    assert figures["get_rows"] == 300  # the demo's complaints, all within the 90-day window
    # the ratio is of the unrounded rates: it agrees with the printed ones within their rounding
    expected = figures["healthz_rps"] / figures["post_rps"]
    assert figures["ratio_healthz_over_post_rps"] == pytest.approx(expected, rel=0.2)
