"""Smoke test of ``smartseoul bench sound --quick``: synthetic signals only (no download), every
figure reported and in its range; never a claim about accuracy (the full bench is that)."""

from __future__ import annotations

from tests.test_bench import assert_positive, figures_of, smartseoul

SOUND_KEYS = (
    "test_windows",
    "background_hours",
    "latency_ms_p50",
    "latency_ms_max",
    "streams_per_core_gate_on",
    "streams_per_core_gate_off",
    "ratio_gate_on_over_off",
)


def test_sound_benchmark_is_listed() -> None:
    result = smartseoul("bench", "--list", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "sound" in {line.split("\t")[0] for line in result.stdout.splitlines()}


def test_sound_figures() -> None:
    figures = figures_of("sound")
    assert_positive(figures, SOUND_KEYS)
    for key, value in figures.items():
        if key.split("_")[0] in ("f1", "precision", "recall"):
            assert 0.0 <= value <= 1.0, (key, value)
    assert figures["latency_detected_share"] > 0
    assert figures["latency_ms_p50"] < 5_000  # onset to the bus: one hop plus compute, never seconds
    assert figures["false_alarms_per_hour"] >= 0
    # the gate skips the quiet 40% of a street day: cheaper than classifying everything
    assert figures["windows_gated_share_gate_on"] > 0.3
    assert figures["windows_gated_share_gate_off"] == 0
    assert figures["ratio_gate_on_over_off"] > 1.0
