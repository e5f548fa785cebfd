"""Smoke test of ``smartseoul bench incidents``: it runs (``--quick``) and reports its figures.

Shape only, never speed: the machine is shared. The latency figures need Mosquitto; without it
they are null and stderr says why, while the correlation figures are always there.
"""

from __future__ import annotations

import pytest

from conftest import require_service, services_required
from tests.test_bench import assert_positive, figures_of

CORRELATION_KEYS = ("burst_alarms", "burst_incidents", "correlation_alarms_per_incident")
LATENCY_KEYS = (
    "press_idle_p50_ms",
    "press_idle_p99_ms",
    "press_load_p50_ms",
    "press_load_p99_ms",
    "ratio_press_load_over_idle_p50",
    "load_events_per_s",
    "intake_alarms_per_s",
)


def test_incidents_figures() -> None:
    figures = figures_of("incidents")
    assert_positive(figures, CORRELATION_KEYS)
    assert figures["burst_alarms"] >= figures["burst_incidents"]
    assert set(LATENCY_KEYS) <= set(figures)
    if figures["press_idle_p50_ms"] is None:
        assert all(figures[key] is None for key in LATENCY_KEYS)
        assert "latency skipped" in figures["_stderr"]
        if services_required():
            pytest.fail("Mosquitto required: " + figures["_stderr"].strip()[-300:])
        pytest.skip("Mosquitto not reachable: latency figures skipped")
    require_service("mqtt")
    assert_positive(figures, LATENCY_KEYS)
    assert figures["press_idle_p99_ms"] >= figures["press_idle_p50_ms"]
