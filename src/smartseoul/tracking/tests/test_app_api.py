"""The API behind the guardian's app: the guardian's own persons, and a person's recent alarms."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import PASSWORD, Account, make_account, token_for
from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.tracking import consent, service
from smartseoul.tracking.models import Alarm, LocationProvision

REASON = "guardian app"


def _person(platform: Platform, guardian: str, name: str, device: str, *, battery: int | None = None) -> int:
    """A child linked to ``guardian`` (created when new), with one device heard from a minute ago."""
    with platform.db.session() as session:
        user = auth.get_user(session, guardian)
        if user is None:
            make_account(session, guardian, ["guardian"])
            user = auth.get_user(session, guardian)
        assert user is not None
        child = service.add_person(
            session, display_name=name, category="child", actor="test", birth_date=date(2017, 3, 3)
        )
        service.add_guardian(
            session, child, user.id, relation="mother", actor="test", legal_representative=True
        )
        consent.give(session, child, given_by="guardian", guardian_user_id=user.id, recorded_by="test")
        registered = service.register_device(session, device, "watch", actor="test", person_id=child.id)
        if battery is not None:
            registered.battery_pct, registered.last_seen_at = battery, utcnow() - timedelta(minutes=1)
        return child.id


def _bearer(client: Any, username: str, roles: list[str] | None = None) -> dict[str, str]:
    account = Account(username, PASSWORD, roles or ["guardian"], None)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def test_my_persons_lists_only_the_guardians_own_and_no_location(client: Any, platform: Platform) -> None:
    first = _person(platform, "mother.han", "한지우", "8800000201", battery=76)
    second = _person(platform, "mother.han", "한지호", "8800000202")
    _person(platform, "father.seo", "서민준", "8800000203", battery=40)
    make_account(platform.db, "nobody.kim", ["guardian"])

    mine = client.get("/api/v1/tracking/my/persons", headers=_bearer(client, "mother.han"))
    assert mine.status_code == 200
    rows = mine.json()
    assert [(row["id"], row["display_name"], row["category"]) for row in rows] == [
        (first, "한지우", "child"),
        (second, "한지호", "child"),
    ]
    assert rows[0]["battery_pct"] == 76
    assert rows[0]["last_seen_at"] is not None
    assert rows[1]["battery_pct"] is None
    assert rows[1]["last_seen_at"] is None
    assert not any(key in row for row in rows for key in ("lat", "lon", "latest", "position"))

    none = client.get("/api/v1/tracking/my/persons", headers=_bearer(client, "nobody.kim"))
    assert none.status_code == 200
    assert none.json() == []
    assert client.get("/api/v1/tracking/my/persons").status_code == 401


def test_my_persons_is_for_guardians(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "op.app", ["operator"])
    response = client.get(
        "/api/v1/tracking/my/persons",
        headers={"Authorization": f"Bearer {token_for(client, operator)}"},
    )
    assert response.status_code == 403


def test_alarms_are_a_recorded_read_and_strangers_get_404(client: Any, platform: Platform) -> None:
    child = _person(platform, "father.moon", "문서아", "8800000204")
    make_account(platform.db, "stranger.ahn", ["guardian"])
    with platform.db.session() as session:
        device = service.get_device(session, "8800000204")
        now = utcnow()
        session.add(Alarm(device_id=device.id, kind="low_battery", raised_at=now - timedelta(hours=1)))
        session.add(
            Alarm(
                device_id=device.id,
                kind="sos",
                raised_at=now,
                lat=37.5,
                lon=127.0,
                position_is_last_known=True,
                position_age_s=300.0,
            )
        )

    response = client.get(
        f"/api/v1/tracking/persons/{child}/alarms",
        params={"reason": REASON},
        headers=_bearer(client, "father.moon"),
    )
    assert response.status_code == 200
    alarms = response.json()
    assert [a["type"] for a in alarms] == ["sos", "low_battery"]
    assert alarms[0]["position_is_last_known"] is True
    assert alarms[0]["position_age_s"] == 300.0

    stranger = client.get(
        f"/api/v1/tracking/persons/{child}/alarms",
        params={"reason": REASON},
        headers=_bearer(client, "stranger.ahn"),
    )
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "unknown_person"
    missing = client.get(
        "/api/v1/tracking/persons/999999/alarms",
        params={"reason": REASON},
        headers=_bearer(client, "stranger.ahn"),
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == stranger.json()["detail"].replace(str(child), "999999")

    with platform.db.session() as session:
        provisions = session.scalars(
            select(LocationProvision).where(LocationProvision.person_id == child)
        ).all()
        denied = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.denied", AuditEntry.actor == "stranger.ahn")
        ).all()
    assert [(p.recipient, p.what, p.purpose) for p in provisions] == [("father.moon", "alarms", REASON)]
    assert provisions[0].details == {"count": 2}
    assert len(denied) == 2


def test_alarms_need_a_reason(client: Any, platform: Platform) -> None:
    child = _person(platform, "mother.bae", "배하린", "8800000205")
    response = client.get(f"/api/v1/tracking/persons/{child}/alarms", headers=_bearer(client, "mother.bae"))
    assert response.status_code == 422


@pytest.mark.parametrize("person_id", ["0", "abc", "999999"])
def test_a_malformed_or_unknown_person_page_is_the_same_404_page(
    client: Any, platform: Platform, person_id: str
) -> None:
    guardian = make_account(platform.db, f"page.guardian.{person_id}", ["guardian"])
    client.get("/login")
    client.post(
        "/login",
        data={
            "username": guardian.username,
            "password": guardian.password,
            "csrf_token": client.cookies.get("ss_csrf"),
        },
    )
    response = client.get(f"/app/persons/{person_id}", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
