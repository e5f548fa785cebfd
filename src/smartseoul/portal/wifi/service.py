"""The WiFi domain's service API: registry, health from status reports, outages, coverage, usage.

Health changes are conditional UPDATEs (``... WHERE health <> 'down'``): whichever process flips
the row raises the outage event, the others change nothing, so an outage is announced once even
with several web processes and the MQTT subscriber reporting at the same time.

Coverage is the plan's measure: the share of public facilities with at least one working access
point (active and up). An access point that never reported is not counted as working.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Update, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.portal.wifi.events import WifiOutageCleared, WifiOutageRaised
from smartseoul.portal.wifi.models import WifiAccessPoint, WifiAccounting, WifiFacility, WifiOutage
from smartseoul.portal.wifi.radius import AccountingRecord

SEOUL = ZoneInfo("Asia/Seoul")
STAFF_ROLES = ("admin", "operator", "district_staff")
READ_ROLES = (*STAFF_ROLES, "auditor")
REPORTER_ROLES = ("admin", "operator")
INSERT_CHUNK = 500


class UnknownAccessPoint(LookupError):
    """No access point has that code or MAC address."""


# ---------------------------------------------------------------- registry


def access_point(session: Session, ref: str) -> WifiAccessPoint:
    """The access point whose code or MAC address is ``ref``."""
    ref = ref.strip()
    found = session.scalar(
        select(WifiAccessPoint).where((WifiAccessPoint.code == ref) | (WifiAccessPoint.mac == ref.lower()))
    )
    if found is None:
        raise UnknownAccessPoint(ref)
    return found


def ap_dict(ap: WifiAccessPoint, facility: WifiFacility | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": ap.id,
        "code": ap.code,
        "mac": ap.mac,
        "facility_id": ap.facility_id,
        "district_code": ap.district_code,
        "lat": ap.lat,
        "lon": ap.lon,
        "ssids": list(ap.ssids),
        "backhaul": ap.backhaul,
        "vendor": ap.vendor,
        "status": ap.status,
        "health": ap.health,
        "last_report_at": ap.last_report_at.isoformat() if ap.last_report_at else None,
        "clients": ap.clients,
    }
    if facility is not None:
        found |= {
            "facility_kind": facility.kind,
            "facility_ko": facility.name_ko,
            "facility_en": facility.name_en,
        }
    return found


def list_access_points(
    session: Session, *, district: str | None = None, working_only: bool = False
) -> list[tuple[WifiAccessPoint, WifiFacility]]:
    query = (
        select(WifiAccessPoint, WifiFacility)
        .join(WifiFacility, WifiFacility.id == WifiAccessPoint.facility_id)
        .order_by(WifiAccessPoint.district_code, WifiAccessPoint.code)
    )
    if district:
        query = query.where(WifiAccessPoint.district_code == district)
    if working_only:
        query = query.where(WifiAccessPoint.status == "active", WifiAccessPoint.health == "up")
    return [(row[0], row[1]) for row in session.execute(query)]


class RegistryError(ValueError):
    """A registry change refused; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.status = field, status


def add_access_point(
    session: Session,
    *,
    code: str,
    mac: str,
    facility_id: int,
    lat: float,
    lon: float,
    ssids: list[str],
    backhaul: str,
    vendor: str,
) -> WifiAccessPoint:
    """Register an access point at a facility; its district is the facility's."""
    facility = session.get(WifiFacility, facility_id)
    if facility is None:
        raise RegistryError(f"no facility {facility_id}", "facility_id")
    mac = mac.lower().replace("-", ":")
    clash = session.scalar(
        select(WifiAccessPoint.code).where((WifiAccessPoint.code == code) | (WifiAccessPoint.mac == mac))
    )
    if clash is not None:
        raise RegistryError(f"access point {clash} already has that code or MAC", "code", 409)
    ap = WifiAccessPoint(
        code=code,
        mac=mac,
        facility_id=facility.id,
        district_code=facility.district_code,
        lat=lat,
        lon=lon,
        ssids=ssids,
        backhaul=backhaul,
        vendor=vendor,
        status="active",
        health="unknown",
    )
    session.add(ap)
    session.flush()
    return ap


# ---------------------------------------------------------------- health


@dataclass(frozen=True)
class StatusReport:
    """What an access point (or its controller) says about itself."""

    ap: str
    at: datetime
    up: bool = True
    clients: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0


@dataclass
class ReportOutcome:
    accepted: int = 0
    stale: int = 0
    unknown: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def ingest_reports(session: Session, reports: Iterable[StatusReport]) -> ReportOutcome:
    """Apply a batch of status reports; a report older than the last one kept changes nothing."""
    outcome = ReportOutcome()
    for report in reports:
        try:
            ap = access_point(session, report.ap)
        except UnknownAccessPoint:
            outcome.unknown.append(report.ap)
            continue
        if ap.last_report_at is not None and report.at <= ap.last_report_at:
            outcome.stale += 1
            continue
        ap.last_report_at, ap.clients = report.at, report.clients
        ap.rx_bytes, ap.tx_bytes = report.rx_bytes, report.tx_bytes
        session.flush()
        if report.up:
            outcome.events += _mark_up(session, ap, report.at)
        else:
            outcome.events += _mark_down(session, ap, report.at, "reported_down")
        outcome.accepted += 1
    return outcome


def _changed(session: Session, statement: Update) -> int:
    """Rows an UPDATE changed: the database's answer to "did this call make the change?"."""
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount)


def _mark_down(session: Session, ap: WifiAccessPoint, at: datetime, reason: str) -> list[Event]:
    flipped = _changed(
        session,
        update(WifiAccessPoint)
        .where(WifiAccessPoint.id == ap.id, WifiAccessPoint.health != "down")
        .values(health="down")
        .execution_options(synchronize_session=False),
    )
    session.refresh(ap)
    if flipped != 1:
        return []
    session.add(WifiOutage(ap_id=ap.id, started_at=at, reason=reason))
    session.flush()
    return [
        WifiOutageRaised(
            ap_id=ap.id,
            ap_code=ap.code,
            facility_id=ap.facility_id,
            district_code=ap.district_code,
            reason=reason,
            since=at,
        )
    ]


def _mark_up(session: Session, ap: WifiAccessPoint, at: datetime) -> list[Event]:
    was_down = _changed(
        session,
        update(WifiAccessPoint)
        .where(WifiAccessPoint.id == ap.id, WifiAccessPoint.health == "down")
        .values(health="up")
        .execution_options(synchronize_session=False),
    )
    if was_down != 1:
        if ap.health != "up":
            session.execute(
                update(WifiAccessPoint)
                .where(WifiAccessPoint.id == ap.id, WifiAccessPoint.health == "unknown")
                .values(health="up")
                .execution_options(synchronize_session=False)
            )
        session.refresh(ap)
        return []
    session.refresh(ap)
    outage = session.scalar(
        select(WifiOutage)
        .where(WifiOutage.ap_id == ap.id, WifiOutage.ended_at.is_(None))
        .order_by(WifiOutage.id.desc())
    )
    down_seconds = 0
    if outage is not None:
        outage.ended_at = max(at, outage.started_at)
        down_seconds = int((outage.ended_at - outage.started_at).total_seconds())
    session.flush()
    return [
        WifiOutageCleared(
            ap_id=ap.id,
            ap_code=ap.code,
            facility_id=ap.facility_id,
            district_code=ap.district_code,
            down_seconds=down_seconds,
        )
    ]


def sweep(session: Session, now: datetime, interval_s: int, missed: int) -> list[Event]:
    """Mark down every active access point silent for ``missed`` report intervals."""
    deadline = now - timedelta(seconds=interval_s * missed)
    silent = session.scalars(
        select(WifiAccessPoint).where(
            WifiAccessPoint.status == "active",
            WifiAccessPoint.health != "down",
            WifiAccessPoint.last_report_at.is_not(None),
            WifiAccessPoint.last_report_at < deadline,
        )
    ).all()
    events: list[Event] = []
    for ap in silent:
        assert ap.last_report_at is not None
        events += _mark_down(session, ap, ap.last_report_at + timedelta(seconds=interval_s), "missed_reports")
    return events


def outages(session: Session, *, open_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    query = (
        select(WifiOutage, WifiAccessPoint)
        .join(WifiAccessPoint, WifiAccessPoint.id == WifiOutage.ap_id)
        .order_by(WifiOutage.started_at.desc(), WifiOutage.id.desc())
        .limit(limit)
    )
    if open_only:
        query = query.where(WifiOutage.ended_at.is_(None))
    return [
        {
            "id": outage.id,
            "ap_id": ap.id,
            "ap_code": ap.code,
            "district_code": ap.district_code,
            "reason": outage.reason,
            "started_at": outage.started_at,
            "ended_at": outage.ended_at,
        }
        for outage, ap in session.execute(query).all()
    ]


# ---------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    facilities: int
    covered: int

    @property
    def ratio(self) -> float:
        return round(self.covered / self.facilities, 4) if self.facilities else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"facilities": self.facilities, "covered": self.covered, "ratio": self.ratio}


def coverage(session: Session) -> tuple[Coverage, dict[str, Coverage]]:
    """City-wide and per-district share of facilities with at least one working access point."""
    working = (
        select(WifiAccessPoint.facility_id)
        .where(WifiAccessPoint.status == "active", WifiAccessPoint.health == "up")
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(
            WifiFacility.district_code,
            func.count(WifiFacility.id),
            func.count(working.c.facility_id),
        )
        .outerjoin(working, working.c.facility_id == WifiFacility.id)
        .group_by(WifiFacility.district_code)
        .order_by(WifiFacility.district_code)
    ).all()
    districts = {str(code): Coverage(int(total), int(covered)) for code, total, covered in rows}
    city = Coverage(sum(c.facilities for c in districts.values()), sum(c.covered for c in districts.values()))
    return city, districts


def health_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(WifiAccessPoint.health, func.count())
        .where(WifiAccessPoint.status == "active")
        .group_by(WifiAccessPoint.health)
    ).all()
    counts = {"up": 0, "down": 0, "unknown": 0}
    counts.update({str(health): int(n) for health, n in rows})
    return counts


# ---------------------------------------------------------------- RADIUS usage


def user_hash(secret: str, user_name: str) -> str:
    """A keyed hash of the RADIUS user name: counts unique users without keeping who they are."""
    return hmac.new(secret.encode(), b"wifi-user:" + user_name.encode(), hashlib.sha256).hexdigest()


@dataclass
class ImportResult:
    stored: int = 0
    duplicates: int = 0
    unmatched_ap: int = 0
    malformed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "unmatched_ap": self.unmatched_ap,
            "malformed": self.malformed[:50],
            "malformed_count": len(self.malformed),
        }


def store_accounting(
    session: Session, records: Iterable[AccountingRecord], secret: str, source: str = "file"
) -> ImportResult:
    """Store accounting records once each: a record seen again (re-import, retransmission) is skipped."""
    result = ImportResult()
    ap_ids = dict(session.execute(select(WifiAccessPoint.mac, WifiAccessPoint.id)).all())
    batch: list[dict[str, Any]] = []
    for record in records:
        ap_id = ap_ids.get(record.ap_mac)
        result.unmatched_ap += ap_id is None
        batch.append(
            {
                "session_id": record.session_id,
                "status_type": record.status_type,
                "event_at": record.event_at,
                "user_hash": user_hash(secret, record.user_name),
                "ap_mac": record.ap_mac[:17],
                "ssid": record.ssid,
                "ap_id": ap_id,
                "session_time_s": record.session_time_s,
                "input_octets": record.input_octets,
                "output_octets": record.output_octets,
                "source": source,
            }
        )
        if len(batch) >= INSERT_CHUNK:
            _insert_new(session, batch, result)
            batch = []
    if batch:
        _insert_new(session, batch, result)
    return result


def _insert_new(session: Session, rows: list[dict[str, Any]], result: ImportResult) -> None:
    unique = {(r["session_id"], r["status_type"], r["event_at"]): r for r in rows}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WifiAccounting)
        .on_conflict_do_nothing(index_elements=["session_id", "status_type", "event_at"])
        .returning(WifiAccounting.id)
    )
    # one statement compiled once, sent as multi-row batches (insertmanyvalues) by the driver
    stored = len(session.connection().execute(statement, list(unique.values())).all())
    result.stored += stored
    result.duplicates += len(rows) - stored


@dataclass(frozen=True)
class UsageRow:
    day: date
    key: str
    sessions: int
    unique_users: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "key": self.key,
            "sessions": self.sessions,
            "unique_users": self.unique_users,
            "bytes": self.bytes,
        }


def _session_rows(session: Session, since: datetime, until: datetime) -> list[Any]:
    """One row per accounting session that started in the period: its AP, user and traffic.

    The traffic of a session is its largest counter (the Stop record's, or the last Interim-Update
    when the Stop never came)."""
    return list(
        session.execute(
            select(
                WifiAccounting.session_id,
                WifiAccounting.user_hash,
                WifiAccounting.ap_id,
                func.min(WifiAccounting.event_at).label("started"),
                func.max(WifiAccounting.input_octets + WifiAccounting.output_octets).label("octets"),
                WifiFacility.id.label("facility_id"),
                WifiAccessPoint.district_code,
            )
            .outerjoin(WifiAccessPoint, WifiAccessPoint.id == WifiAccounting.ap_id)
            .outerjoin(WifiFacility, WifiFacility.id == WifiAccessPoint.facility_id)
            .where(and_(WifiAccounting.event_at >= since, WifiAccounting.event_at < until))
            .group_by(
                WifiAccounting.session_id,
                WifiAccounting.user_hash,
                WifiAccounting.ap_id,
                WifiFacility.id,
                WifiAccessPoint.district_code,
            )
        ).all()
    )


def usage(session: Session, since: date, until: date, by: str = "district") -> list[UsageRow]:
    """Sessions, unique users and bytes per Seoul calendar day and per ``by`` (ap, facility,
    district or city) for days ``since`` to ``until`` inclusive."""
    start = datetime.combine(since, datetime.min.time(), SEOUL)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), SEOUL)
    buckets: dict[tuple[date, str], list[Any]] = defaultdict(list)
    for row in _session_rows(session, start, end):
        day = row.started.astimezone(SEOUL).date()
        key = {
            "ap": row.ap_id,
            "facility": row.facility_id,
            "district": row.district_code,
            "city": "city",
        }[by]
        buckets[(day, str(key) if key is not None else "unmatched")].append(row)
    return [
        UsageRow(
            day=day,
            key=key,
            sessions=len(rows),
            unique_users=len({r.user_hash for r in rows}),
            bytes=sum(int(r.octets or 0) for r in rows),
        )
        for (day, key), rows in sorted(buckets.items())
    ]


def today_seoul(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(SEOUL).date()
