"""The incident desk as an operator notices it: one incident for a burst, priorities that follow the
place and the hour, a lifecycle that only moves forward, and timers that escalate on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.city.models import School
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.settings import Settings
from smartseoul.safety.incidents import handovers, intake, service
from smartseoul.safety.incidents.events import IncidentOpened, IncidentUpdated
from smartseoul.safety.incidents.models import Handover, Incident, TimelineEntry

# 14:00 in Seoul (day) and 23:30 in Seoul (night), on a Wednesday
DAY = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
CITY_HALL = (37.5665, 126.9780)
METRES_PER_DEGREE_LAT = 111_195.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, incidents_school_zone_m=0.0)


def north(metres: float, base: tuple[float, float] = CITY_HALL) -> tuple[float, float]:
    return base[0] + metres / METRES_PER_DEGREE_LAT, base[1]


def sos(alarm_id: int, person: int, where: tuple[float, float] | None, at: datetime) -> service.Intake:
    data = {
        "alarm_id": alarm_id,
        "kind": "sos",
        "device_id": person,
        "person_id": person,
        "district_code": None,
        "lat": where[0] if where else None,
        "lon": where[1] if where else None,
        "position_is_last_known": False,
        "position_age_s": 0.0,
        "emergency": True,
    }
    found = intake.from_tracking_alarm(data, at)
    assert found is not None
    return found


def operator() -> Principal:
    return Principal("user", 1, "op", frozenset({"operator"}))


def test_alarms_close_in_space_and_time_join_one_incident(db: Session, settings: Settings) -> None:
    first = service.intake(db, settings, sos(1, 101, CITY_HALL, DAY))
    second = service.intake(db, settings, sos(2, 102, north(100), DAY + timedelta(seconds=60)))
    assert first.opened
    assert not second.opened
    assert second.incident.id == first.incident.id
    assert second.incident.alarm_count == 2
    assert isinstance(first.events[0], IncidentOpened)
    assert isinstance(second.events[0], IncidentUpdated)


def test_far_or_late_alarms_open_their_own_incident(db: Session, settings: Settings) -> None:
    first = service.intake(db, settings, sos(1, 101, CITY_HALL, DAY))
    far = service.intake(db, settings, sos(2, 102, north(400), DAY + timedelta(seconds=30)))
    late = service.intake(db, settings, sos(3, 103, north(50), DAY + timedelta(minutes=4)))
    assert far.opened
    assert late.opened
    assert len({first.incident.id, far.incident.id, late.incident.id}) == 3


def test_the_same_person_joins_even_without_a_position(db: Session, settings: Settings) -> None:
    first = service.intake(db, settings, sos(1, 101, None, DAY))
    again = service.intake(db, settings, sos(2, 101, CITY_HALL, DAY + timedelta(seconds=20)))
    assert again.incident.id == first.incident.id
    assert again.incident.lat == CITY_HALL[0]  # the first position that came fills the place


def test_camera_faults_never_join_an_emergency(db: Session, settings: Settings) -> None:
    emergency = service.intake(db, settings, sos(1, 101, CITY_HALL, DAY))
    fault = intake.from_camera_health(
        {"camera_id": 7, "problem": "black", "ok": False, "lat": CITY_HALL[0], "lon": CITY_HALL[1]}, DAY
    )
    assert fault is not None
    result = service.intake(db, settings, fault)
    assert result.opened
    assert result.incident.id != emergency.incident.id
    assert result.incident.priority == 4
    assert intake.from_camera_health({"camera_id": 7, "problem": "ok", "ok": True}, DAY) is None


def test_priority_rises_at_night_and_in_a_school_zone(db: Session, tmp_path: Path) -> None:
    school = db.scalars(select(School).order_by(School.id)).first()
    assert school is not None
    settings = make_settings(tmp_path, incidents_school_zone_m=300.0)
    fall = intake.from_tracking_alarm(
        {
            "alarm_id": 9,
            "kind": "fall",
            "device_id": 1,
            "person_id": 1,
            "lat": school.lat + 0.001,
            "lon": school.lon,
            "emergency": False,
        },
        DAY,
    )
    assert fall is not None
    near_school = service.intake(db, settings, fall)
    assert near_school.incident.school_zone
    assert near_school.incident.priority == 1
    assert service.is_night(NIGHT, 22, 6)
    assert not service.is_night(DAY, 22, 6)
    low = intake.from_tracking_alarm(
        {
            "alarm_id": 10,
            "kind": "low_battery",
            "device_id": 2,
            "person_id": 2,
            "lat": None,
            "lon": None,
            "emergency": False,
        },
        NIGHT,
    )
    assert low is not None
    at_night = service.intake(db, settings, low)
    assert at_night.incident.night
    assert at_night.incident.priority == 3


def test_the_lifecycle_moves_forward_with_who_and_when(db: Session, settings: Settings) -> None:
    incident = service.intake(db, settings, sos(1, 101, CITY_HALL, DAY)).incident
    service.transition(
        db, incident, "dispatched", "op", "patrol 3 on the way", now=DAY + timedelta(seconds=30)
    )
    assert incident.acknowledged_by == "op"
    assert incident.dispatched_at == DAY + timedelta(seconds=30)
    assert incident.ack_deadline is None
    with pytest.raises(InvalidInput, match="cannot become acknowledged"):
        service.transition(db, incident, "acknowledged", "op")
    with pytest.raises(InvalidInput, match="status must be one of"):
        service.transition(db, incident, "teleported", "op")
    kinds = db.scalars(select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)).all()
    assert kinds == ["opened", "status"]


def test_an_unacknowledged_sos_escalates_to_supervisor_then_police(db: Session, settings: Settings) -> None:
    police = handovers.add_agency(
        db,
        code="police-test",
        kind="police",
        name_ko="테스트경찰서",
        name_en="Test police",
        district_codes=["11020"],
        actor="test",
        lat=CITY_HALL[0],
        lon=CITY_HALL[1],
    )
    incident = service.intake(db, settings, sos(1, 101, CITY_HALL, DAY)).incident
    assert incident.ack_deadline == DAY + timedelta(seconds=settings.incidents_ack_timeout_s)
    assert service.check_escalations(db, settings, DAY + timedelta(seconds=30)) == []
    first = service.check_escalations(db, settings, DAY + timedelta(seconds=61))
    assert [e.change for e in first if isinstance(e, IncidentUpdated)] == ["escalated to supervisor"]
    second = service.check_escalations(db, settings, DAY + timedelta(seconds=122))
    assert "escalated to police" in [e.change for e in second if isinstance(e, IncidentUpdated)]
    handover = db.scalars(select(Handover).where(Handover.incident_id == incident.id)).one()
    # no webhook: the police read it on their console page, waiting for their acknowledgement
    assert handover.agency_id == police.id
    assert handover.status == "delivered"
    assert incident.status == "dispatched"
    assert service.check_escalations(db, settings, DAY + timedelta(hours=1)) == []


def test_district_staff_see_only_their_district(db: Session, settings: Settings) -> None:
    incident = service.intake(db, settings, sos(1, 101, CITY_HALL, DAY)).incident
    assert incident.district_code == "11020"  # Jung-gu (2013 codes)
    mine = Principal("user", 2, "jung", frozenset({"district_staff"}), district_code="11020")
    other = Principal("user", 3, "gangnam", frozenset({"district_staff"}), district_code="11230")
    assert service.get_incident(db, incident.id, mine) is incident
    with pytest.raises(service.UnknownIncident):
        service.get_incident(db, incident.id, other)
    assert incident.id not in [i.id for i in service.list_incidents(db, other)]
    assert incident.id in [i.id for i in service.list_incidents(db, operator(), "open")]
    assert db.get(Incident, incident.id) is not None


def test_a_low_priority_alarm_is_never_handed_to_the_police(db: Session, settings: Settings) -> None:
    handovers.add_agency(
        db, code="police-x", kind="police", name_ko="경찰", name_en="police", district_codes=[], actor="test"
    )
    low = intake.from_tracking_alarm(
        {"alarm_id": 5, "kind": "low_battery", "device_id": 1, "person_id": 1, "emergency": False}, DAY
    )
    assert low is not None
    incident = service.intake(db, settings, low).incident
    later = DAY + timedelta(seconds=3 * settings.incidents_ack_timeout_low_s)
    service.check_escalations(db, settings, later)
    events = service.check_escalations(
        db, settings, later + timedelta(seconds=settings.incidents_ack_timeout_low_s + 1)
    )
    assert [e.change for e in events if isinstance(e, IncidentUpdated)] == ["still not acknowledged"]
    assert db.scalars(select(Handover).where(Handover.incident_id == incident.id)).all() == []
