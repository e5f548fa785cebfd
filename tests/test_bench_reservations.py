"""Smoke test of ``smartseoul bench reservations`` (``--quick``): the race ran on both engines,
every slot was sold exactly once (no double booking) and the figures are sane. Never a speed."""

from __future__ import annotations

import pytest

from conftest import require_service, services_required
from tests.test_bench import assert_positive, figures_of


def test_reservations_figures() -> None:
    figures = figures_of("reservations")
    assert figures["sqlite_bookings"] == figures["slots"]
    assert figures["sqlite_double_bookings"] == 0
    assert_positive(figures, ("sqlite_bookings_per_s", "sqlite_naive_bookings_per_s", "sqlite_attempts"))
    if figures["postgresql_bookings"] is None:
        assert "postgresql skipped" in figures["_stderr"]
        if services_required():
            pytest.fail("PostgreSQL required: " + figures["_stderr"].strip()[-300:])
        pytest.skip("PostgreSQL not reachable: its figures skipped")
    require_service("postgres")
    assert figures["postgresql_bookings"] == figures["slots"]
    assert figures["postgresql_double_bookings"] == 0
    assert_positive(figures, ("postgresql_bookings_per_s", "postgresql_naive_bookings_per_s"))
    assert figures["postgresql_attempts"] >= figures["slots"]
