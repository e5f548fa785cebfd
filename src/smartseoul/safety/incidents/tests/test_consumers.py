"""Events from other domains reach the desk once each: an SOS, a camera fault, a guardian's "find
now", the cameras the cctv domain turned, and a guardian's acknowledgement in the app."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from conftest import run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event, GenericEvent
from smartseoul.safety.incidents import runtime
from smartseoul.safety.incidents.models import Incident, TimelineEntry

CITY_HALL = {"lat": 37.5665, "lon": 126.9780}


@pytest.fixture
def platform(platform: Platform) -> Platform:
    platform.settings.incidents_workers = False
    return platform


def event(type_name: str, **payload: Any) -> GenericEvent:
    """The event as a process that does not import the other domain receives it."""
    return GenericEvent(event_type=type_name, payload=payload)


def sos(alarm_id: int = 41, person_id: int = 7) -> GenericEvent:
    return event(
        "tracking.alarm.raised.v1",
        alarm_id=alarm_id,
        kind="sos",
        device_id=3,
        person_id=person_id,
        district_code="11020",
        position_is_last_known=False,
        position_age_s=2.0,
        emergency=True,
        **CITY_HALL,
    )


async def _deliver(platform: Platform, *events: Event) -> None:
    for item in events:
        if item.type in ("safety.cameras.aimed.v1",):
            await runtime.on_cameras_aimed(platform, item)
        elif item.type == "tracking.alarm.acknowledged.v1":
            await runtime.on_alarm_acknowledged(platform, item)
        else:
            await runtime.on_intake_event(platform, item)


def _incidents(platform: Platform) -> list[Incident]:
    with platform.db.session() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_a_redelivered_sos_opens_one_incident(platform: Platform) -> None:
    alarm = sos()
    run_async(_deliver(platform, alarm, alarm, alarm))
    (incident,) = _incidents(platform)
    assert incident.priority == 1
    assert incident.alarm_count == 1
    assert incident.kind == "sos"


def test_the_cameras_turned_and_the_guardians_acknowledgement_land_on_the_timeline(
    platform: Platform,
) -> None:
    run_async(_deliver(platform, sos()))
    (incident,) = _incidents(platform)
    aimed = event(
        "safety.cameras.aimed.v1",
        incident_id=incident.id,
        camera_ids=[31, 32],
        ptz_camera_ids=[32],
        **CITY_HALL,
    )
    acked = event("tracking.alarm.acknowledged.v1", alarm_id=41, person_id=7, user_id=12, role="guardian")
    run_async(_deliver(platform, aimed, aimed, acked, acked))
    (incident,) = _incidents(platform)
    assert incident.camera_ids == [31, 32]
    assert incident.status == "acknowledged"
    assert incident.acknowledged_by == "guardian:12"
    assert incident.ack_deadline is None  # no escalation any more
    with platform.db.session() as session:
        kinds = session.scalars(
            select(TimelineEntry.kind)
            .where(TimelineEntry.incident_id == incident.id)
            .order_by(TimelineEntry.id)
        ).all()
    assert kinds == ["opened", "cameras", "ack_guardian", "status"]


def test_camera_faults_and_find_now_requests_become_incidents(platform: Platform) -> None:
    fault = event(
        "safety.camera.health.v1",
        camera_id=9,
        problem="covered",
        ok=False,
        district_code="11010",
        detail="lens",
        **CITY_HALL,
    )
    healthy = event(
        "safety.camera.health.v1", camera_id=9, problem="ok", ok=True, district_code="11010", detail=""
    )
    find = event(
        "tracking.findnow.requested.v1",
        request_id=5,
        person_id=8,
        user_id=12,
        position_age_s=30.0,
        district_code="11020",
        **CITY_HALL,
    )
    run_async(_deliver(platform, fault, healthy, find))
    camera, findnow = _incidents(platform)
    assert (camera.source, camera.kind, camera.priority, camera.camera_ids) == (
        "camera",
        "camera_covered",
        4,
        [9],
    )
    assert findnow.kind == "find_now"
    assert findnow.priority <= 2


def test_the_timer_pass_escalates_an_unacknowledged_sos_to_the_police(platform: Platform) -> None:
    from datetime import timedelta

    from smartseoul.core.db import utcnow
    from smartseoul.safety.incidents import handovers

    with platform.db.session() as session:
        handovers.add_agency(
            session,
            code="police-jung",
            kind="police",
            name_ko="중부경찰서",
            name_en="Jung police",
            district_codes=["11020"],
            actor="test",
        )
    run_async(_deliver(platform, sos()))
    timeout = platform.settings.incidents_ack_timeout_s
    first = run_async(runtime.tick(platform, utcnow() + timedelta(seconds=timeout + 1)))
    second = run_async(runtime.tick(platform, utcnow() + timedelta(seconds=2 * timeout + 2)))
    changes = [getattr(e, "change", "") for e in [*first, *second]]
    assert "escalated to supervisor" in changes
    assert "escalated to police" in changes
    with platform.db.session() as session:
        (handover,) = handovers.list_handovers(session)
        assert handover.reason == "escalation: not acknowledged"
