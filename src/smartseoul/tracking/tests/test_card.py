"""The control room's person card: asked why first, no birth date, help nearby from the newest fix."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.city.models import PoliceStation, School
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.geo import haversine_m
from smartseoul.core.models import AuditEntry
from smartseoul.tracking.card import age_years
from smartseoul.tracking.models import Device, LocationProvision, Position
from smartseoul.tracking.tests.test_app_api import _bearer, _person


def _fix_near_a_school(platform: Platform, person_id: int) -> School:
    with platform.db.session() as session:
        school = session.scalars(select(School).order_by(School.id)).first()
        assert school is not None
        device = session.scalar(select(Device.id).where(Device.person_id == person_id))
        session.add(
            Position(
                device_id=device,
                device_time=utcnow() - timedelta(minutes=1),
                lat=school.lat + 0.001,
                lon=school.lon,
                valid=True,
                source="gps",
                protocol="watch",
            )
        )
        session.commit()
        session.expunge(school)
        return school


def test_help_nearby_names_the_nearest_school_and_the_district_police(
    client: Any, platform: Platform
) -> None:
    child = _person(platform, "mother.card", "한지우", "8800000401")
    school = _fix_near_a_school(platform, child)
    operator = make_account(platform.db, "op.card", ["operator"])
    headers = {"Authorization": f"Bearer {token_for(client, operator)}"}

    found = client.get(f"/api/v1/tracking/persons/{child}/nearby?reason=SOS rescue", headers=headers)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["schools"][0]["name_ko"] == school.name_ko
    assert 100 <= body["schools"][0]["distance_m"] <= 125  # 0.001 degree of latitude is about 111 m
    assert body["district_code"] == school.district_code
    with platform.db.session() as session:
        stations = session.scalars(
            select(PoliceStation.name_ko).where(PoliceStation.district_code == school.district_code)
        ).all()
        assert sorted(p["name_ko"] for p in body["police"]) == sorted(stations)
        assert stations
        provision = session.scalars(
            select(LocationProvision).where(LocationProvision.what == "help nearby")
        ).one()
        assert (provision.recipient, provision.purpose) == ("op.card", "SOS rescue")

    # guardians have the app, not the control room's card
    assert (
        client.get(
            f"/api/v1/tracking/persons/{child}/nearby?reason=looking", headers=_bearer(client, "mother.card")
        ).status_code
        == 403
    )


def test_the_card_page_asks_why_then_shows_the_facts_without_the_birth_date(
    client: Any, platform: Platform
) -> None:
    child = _person(platform, "mother.page", "한지호", "8800000402")
    operator = make_account(platform.db, "op.page", ["operator"])
    client.get("/login")
    form = {
        "username": operator.username,
        "password": operator.password,
        "otp": operator.otp(),
        "csrf_token": client.cookies.get("ss_csrf"),
    }
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    ask = client.get(f"/console/persons/{child}")
    assert ask.status_code == 200
    assert 'name="reason"' in ask.text
    assert "한지호" not in ask.text

    shown = client.get(f"/console/persons/{child}", params={"reason": "police request for a missing child"})
    assert shown.status_code == 200
    assert "한지호" in shown.text
    assert "2017" not in shown.text  # the birth year stays in the register
    with platform.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "tracking.person.card")).one()
        assert (entry.actor, entry.reason) == ("op.page", "police request for a missing child")
    assert client.get("/console/persons/999999?reason=whatever").status_code == 404


def test_age_and_distance() -> None:
    assert age_years(date(2017, 3, 3), date(2026, 3, 2)) == 8
    assert age_years(date(2017, 3, 3), date(2026, 3, 3)) == 9
    assert age_years(None, date(2026, 1, 1)) is None
    assert 1110 < haversine_m(37.5, 127.0, 37.51, 127.0) < 1115
