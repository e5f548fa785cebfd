"""Health, outages, coverage and usage of the WiFi registry, on both database engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.portal.wifi import service
from smartseoul.portal.wifi.models import WifiAccounting, WifiOutage
from smartseoul.portal.wifi.radius import AccountingRecord
from smartseoul.portal.wifi.tests.helpers import GANGNAM, JONGNO, small_registry

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 in Seoul


def report(ap: str, minutes: int, up: bool = True) -> service.StatusReport:
    return service.StatusReport(ap, NOW + timedelta(minutes=minutes), up=up, clients=3)


def test_a_silent_access_point_goes_down_once_and_comes_back_with_one_recovery(db: Session) -> None:
    small_registry(db, NOW)
    first = service.ingest_reports(
        db, [report("lib-1", 0), report("lib-2", 0), report("02:5E:00:00:02:01", 0)]
    )
    assert (first.accepted, first.unknown, first.events) == (3, [], [])

    # lib-2 keeps reporting; lib-1 falls silent for three 60-second intervals
    service.ingest_reports(db, [report("lib-2", 3), report("jongno-1", 3)])
    assert service.sweep(db, NOW + timedelta(minutes=2, seconds=59), 60, 3) == []
    raised = service.sweep(db, NOW + timedelta(minutes=3, seconds=1), 60, 3)
    assert [(e.type, e.ap_code, e.reason) for e in raised] == [
        ("portal.wifi.outage.v1", "lib-1", "missed_reports")
    ]
    assert service.sweep(db, NOW + timedelta(minutes=3, seconds=30), 60, 3) == []  # de-duplicated
    later = service.sweep(db, NOW + timedelta(minutes=10), 60, 3)  # the others are silent now too
    assert sorted(e.ap_code for e in later) == ["jongno-1", "lib-2"]

    back = service.ingest_reports(db, [report("lib-1", 11)])
    assert [(e.type, e.ap_code) for e in back.events] == [("portal.wifi.recovered.v1", "lib-1")]
    assert back.events[0].down_seconds == 10 * 60
    outage = db.scalars(select(WifiOutage).where(WifiOutage.ended_at.is_not(None))).one()
    assert outage.ended_at == NOW + timedelta(minutes=11)
    assert service.ingest_reports(db, [report("lib-1", 12)]).events == []


def test_a_report_of_a_fault_raises_at_once_and_old_or_unknown_reports_change_nothing(db: Session) -> None:
    small_registry(db, NOW)
    service.ingest_reports(db, [report("jongno-1", 0)])
    down = service.ingest_reports(
        db, [report("jongno-1", 1, up=False), report("jongno-1", 0), report("nope", 1)]
    )
    assert [(e.type, e.reason) for e in down.events] == [("portal.wifi.outage.v1", "reported_down")]
    assert (down.accepted, down.stale, down.unknown) == (1, 1, ["nope"])
    assert service.ingest_reports(db, [report("jongno-1", 2, up=False)]).events == []


def test_coverage_counts_facilities_with_a_working_access_point(db: Session) -> None:
    small_registry(db, NOW)
    city, districts = service.coverage(db)
    assert (city.facilities, city.covered) == (3, 0)  # never reported: not counted as working
    service.ingest_reports(db, [report("lib-1", 0), report("lib-2", 0), report("jongno-1", 0)])
    city, districts = service.coverage(db)
    assert (city.facilities, city.covered, city.ratio) == (3, 2, 0.6667)
    assert (districts[GANGNAM].facilities, districts[GANGNAM].covered) == (2, 1)  # the park has none
    service.ingest_reports(db, [report("lib-1", 1, up=False)])
    assert service.coverage(db)[1][GANGNAM].covered == 1  # lib-2 still serves the library
    service.ingest_reports(db, [report("lib-2", 1, up=False), report("jongno-1", 1, up=False)])
    city, districts = service.coverage(db)
    assert (city.covered, districts[JONGNO].ratio) == (0, 0.0)
    assert service.health_counts(db) == {"up": 0, "down": 3, "unknown": 0}


def accounting(
    session_id: str, status: str, minutes: int, user: str, mac: str, octets: int = 0
) -> AccountingRecord:
    return AccountingRecord(
        status_type=status,
        session_id=session_id,
        user_name=user,
        ap_mac=mac,
        ssid="Seoul_Free_WiFi",
        event_at=NOW + timedelta(minutes=minutes),
        input_octets=octets,
        output_octets=octets,
    )


def test_accounting_is_stored_once_and_usage_counts_sessions_users_and_traffic(db: Session) -> None:
    small_registry(db, NOW)
    lib, jongno = "02:5e:00:00:01:01", "02:5e:00:00:02:01"
    records = [
        accounting("a", "Start", 0, "kim", lib),
        accounting("a", "Interim-Update", 5, "kim", lib, 100),
        accounting("a", "Stop", 10, "kim", lib, 300),
        accounting("b", "Start", 1, "kim", lib),
        accounting("b", "Interim-Update", 6, "kim", lib, 50),  # no Stop yet: the last interim counts
        accounting("c", "Start", 2, "lee", jongno),
        accounting("c", "Stop", 3, "lee", jongno, 7),
        accounting("d", "Start", 2, "park", "aa:bb:cc:dd:ee:ff"),
    ]
    first = service.store_accounting(db, records, "salt")
    assert (first.stored, first.duplicates, first.unmatched_ap) == (8, 0, 1)
    again = service.store_accounting(db, records[:4], "salt")
    assert (again.stored, again.duplicates) == (0, 4)
    assert db.scalar(select(func.count()).select_from(WifiAccounting)) == 8
    hashes = set(db.scalars(select(WifiAccounting.user_hash)))
    assert "kim" not in hashes
    assert service.user_hash("salt", "kim") in hashes

    day = NOW.date()
    by_district = {row.key: row for row in service.usage(db, day, day, "district")}
    assert (by_district[GANGNAM].sessions, by_district[GANGNAM].unique_users, by_district[GANGNAM].bytes) == (
        2,
        1,
        700,
    )
    assert (by_district[JONGNO].sessions, by_district[JONGNO].bytes) == (1, 14)
    assert by_district["unmatched"].sessions == 1
    city = service.usage(db, day, day, "city")
    assert [(r.sessions, r.unique_users, r.bytes) for r in city] == [(4, 3, 714)]
    assert service.usage(db, day + timedelta(days=1), day + timedelta(days=1), "city") == []
