"""Smoke test of ``smartseoul bench wall``: it runs (``--quick``) and reports its figures.

It checks the shape of the output (names, positive numbers), never a speed: this machine is shared
and timings vary. It goes through the real command in a subprocess, as ``make bench`` does.
"""

from __future__ import annotations

from tests.test_bench import assert_positive, figures_of

WALL_KEYS = (
    "encode_frames_per_s",
    "served_frames_per_s",
    "served_encoded_frames_per_s",
    "viewers",
    "ratio_served_over_encode",
    "ratio_served_over_served_encoded",
    "health_looks_per_s",
    "ratio_health_over_encode",
)


def test_bench_wall_reports_served_frames_against_the_encode_rate() -> None:
    figures = figures_of("wall")
    assert_positive(figures, WALL_KEYS)
    assert figures["viewers"] == 64
