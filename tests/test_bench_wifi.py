"""Smoke test of ``smartseoul bench wifi --quick``: it runs and reports every figure (never a speed)."""

from __future__ import annotations

from tests.test_bench import assert_positive, figures_of

KEYS = (
    "records",
    "parse_records_per_s",
    "store_records_per_s",
    "reimport_records_per_s",
    "baseline_insert_rows_per_s",
    "ratio_store_over_baseline",
    "udp_requests_per_s",
)


def test_wifi_figures() -> None:
    figures = figures_of("wifi")
    assert_positive(figures, KEYS)
    assert figures["records"] == 6000
