"""Paths drawn for guardians leave out fixes that would need an impossible speed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartseoul.tracking.models import Position
from smartseoul.tracking.service import without_jumps

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _fix(seconds: int, lat: float, lon: float) -> Position:
    return Position(
        device_id=1,
        device_time=START + timedelta(seconds=seconds),
        lat=lat,
        lon=lon,
        valid=True,
        source="gps",
        protocol="watch",
    )


def test_a_one_report_jump_across_town_is_left_out() -> None:
    walk = [
        _fix(0, 37.5000, 127.0000),
        _fix(30, 37.5003, 127.0000),
        _fix(60, 37.5200, 127.0300),
        _fix(90, 37.5006, 127.0000),
        _fix(120, 37.5009, 127.0000),
    ]
    kept, dropped = without_jumps(walk)
    assert dropped == 1
    assert [p.lat for p in kept] == [37.5000, 37.5003, 37.5006, 37.5009]


def test_a_car_ride_is_kept() -> None:
    ride = [_fix(0, 37.50, 127.00), _fix(60, 37.505, 127.00), _fix(120, 37.51, 127.00)]  # ~33 km/h
    assert without_jumps(ride) == (ride, 0)
