"""The demo's agencies and bells, and the simulator's presses, heartbeats and bursts."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from conftest import make_settings, run_async
from smartseoul.city import service as city
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.geo import haversine_m
from smartseoul.safety.incidents import bells, handovers, service
from smartseoul.safety.incidents.events import IncidentOpened
from smartseoul.safety.incidents.models import Agency, Bell, Incident
from smartseoul.safety.incidents.seed import BELLS_PER_DISTRICT, PILOT_SCHOOLS, seed_demo
from smartseoul.safety.incidents.simulate import burst, generators, quiet_bell


@pytest.fixture
def platform(platform: Platform) -> Platform:
    platform.settings.incidents_workers = False
    return platform


def test_the_demo_has_every_kind_of_agency_and_bells_in_every_district(db: Session) -> None:
    agencies, bell_count = seed_demo(db, 20151)
    kinds = dict(db.execute(select(Agency.kind, func.count()).group_by(Agency.kind)).all())
    assert kinds == {
        "police": len(city.police_stations(db)),
        "fire": 1,
        "school_guard": PILOT_SCHOOLS,
        "district": 25,
    }
    assert bell_count == 25 * BELLS_PER_DISTRICT
    assert agencies == sum(kinds.values())
    # every police station sits inside its own district
    index = service.city_index(db)
    for agency in db.scalars(select(Agency).where(Agency.kind == "police")):
        assert agency.lat is not None
        assert agency.lon is not None
        assert index.district_at(agency.lat, agency.lon) == agency.district_codes[0]
    assert seed_demo(db, 20151) == (agencies, bell_count)  # a second run adds nothing


def test_an_escalation_finds_the_police_of_the_incidents_district(db: Session) -> None:
    seed_demo(db, 20151)
    bell = db.scalars(select(Bell).order_by(Bell.id)).first()
    assert bell is not None
    incident = Incident(
        source="bell",
        kind="bell_press",
        priority=1,
        title_ko="t",
        title_en="t",
        lat=bell.lat,
        lon=bell.lon,
        district_code=bell.district_code,
    )
    police = handovers.agency_for(db, "police", incident)
    assert police is not None
    assert bell.district_code in police.district_codes


def test_a_burst_is_close_in_space_and_time_and_folds_into_few_incidents(db: Session, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    centre = (37.5665, 126.9780)
    items = burst(random.Random(3), centre, 8)
    assert len(items) == 8
    assert all(haversine_m(i.lat or 0, i.lon or 0, *centre) <= 100.5 for i in items)
    assert (items[-1].at - items[0].at) <= timedelta(seconds=90)
    opened = {service.intake(db, settings, item).incident.id for item in items}
    # 8 alarms over a 200 m wide spot: 150 m correlation (single linkage) leaves one or two incidents
    assert len(opened) <= 2


def test_the_generators_press_beat_and_burst(platform: Platform) -> None:
    with platform.db.session() as session:
        seed_demo(session, 7)
        long_ago = utcnow() - timedelta(days=1)
        session.execute(update(Bell).values(last_heartbeat_at=long_ago, created_at=long_ago))
    rng = random.Random(1)
    made = {g.name: g for g in generators(platform)}
    assert set(made) == {"bell_press", "bell_heartbeats", "alarm_burst"}
    for name in ("bell_press", "alarm_burst", "bell_heartbeats"):
        assert run_async(made[name].make(platform, rng)) is None
    with platform.db.session() as session:
        sources = set(session.scalars(select(Incident.source)))
        assert "bell" in sources
        assert len(sources) >= 2
        quiet = quiet_bell(list(session.scalars(select(Bell.id).order_by(Bell.id))))
        events = bells.check_heartbeats(session, platform.settings)
    # every bell beat just now except the simulator's quiet one, which becomes the one fault
    assert [e.kind for e in events if isinstance(e, IncidentOpened)] == ["bell_fault"]
    with platform.db.session() as session:
        assert list(session.scalars(select(Bell.id).where(Bell.status == "fault"))) == [quiet]
