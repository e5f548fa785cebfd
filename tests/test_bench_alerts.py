"""Smoke test of ``smartseoul bench alerts --quick``: it runs and reports every figure (never a speed)."""

from __future__ import annotations

from tests.test_bench import assert_positive, figures_of, smartseoul

ALERT_KEYS = (
    "push_prepared_per_s",
    "push_raw_aesgcm_per_s",
    "ratio_push_over_raw_aesgcm",
    "sse_subscribers",
    "sse_last_ms",
    "sse_p50_ms",
    "sse_baseline_last_ms",
    "ratio_sse_last_over_baseline",
)


def test_alerts_benchmark_is_listed() -> None:
    result = smartseoul("bench", "--list", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "alerts" in {line.split("\t")[0] for line in result.stdout.splitlines()}


def test_alerts_figures() -> None:
    figures = figures_of("alerts")
    assert_positive(figures, ALERT_KEYS)
    assert figures["sse_subscribers"] == 1000
