"""Reading a person's location over the API: guardians see only their own, every read is recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from conftest import make_account, run_async, token_for
from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.tracking import consent, service
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.protocols import Fix, Message


def _child_with_guardian(platform: Platform, guardian: str, device: str) -> int:
    account = make_account(platform.db, guardian, ["guardian"])
    with platform.db.session() as session:
        user = auth.get_user(session, account.username)
        assert user is not None
        child = service.add_person(
            session, display_name="정다은", category="child", actor="test", birth_date=date(2017, 9, 9)
        )
        service.add_guardian(
            session, child, user.id, relation="father", actor="test", legal_representative=True
        )
        consent.give(session, child, given_by="guardian", guardian_user_id=user.id, recorded_by="test")
        service.register_device(session, device, "watch", actor="test", person_id=child.id)
        return child.id


def _report(platform: Platform, device: str, lat: float, lon: float) -> None:
    message = Message("watch", device, "position", 0, fix=Fix(utcnow(), lat, lon, True))

    async def run() -> None:
        await Ingestor(platform).accept(message)

    run_async(run())


def _bearer(client: Any, username: str) -> dict[str, str]:
    from conftest import PASSWORD, Account

    return {"Authorization": f"Bearer {token_for(client, Account(username, PASSWORD, ['guardian'], None))}"}


def test_a_guardian_reads_their_child_and_the_read_is_in_the_access_ledger(
    client: Any, platform: Platform
) -> None:
    child = _child_with_guardian(platform, "father.jung", "8800000101")
    _report(platform, "8800000101", 37.5443, 127.0557)
    headers = _bearer(client, "father.jung")
    latest = client.get(
        f"/api/v1/tracking/persons/{child}/latest",
        params={"reason": "checking the way home"},
        headers=headers,
    )
    assert latest.status_code == 200
    assert (latest.json()["latest"]["lat"], latest.json()["latest"]["valid"]) == (37.5443, True)
    path = client.get(
        f"/api/v1/tracking/persons/{child}/path", params={"reason": "today's route"}, headers=headers
    )
    assert path.json()["path"]["coordinates"] == [[127.0557, 37.5443]]
    ledger = client.get(f"/api/v1/tracking/persons/{child}/access-ledger", headers=headers).json()
    assert [(row["recipient"], row["what"], row["purpose"]) for row in ledger] == [
        ("father.jung", "path", "today's route"),
        ("father.jung", "latest", "checking the way home"),
    ]


def test_another_guardian_gets_404_and_the_attempt_is_audited(client: Any, platform: Platform) -> None:
    child = _child_with_guardian(platform, "father.kang", "8800000102")
    make_account(platform.db, "stranger.oh", ["guardian"])
    response = client.get(
        f"/api/v1/tracking/persons/{child}/latest",
        params={"reason": "curious"},
        headers=_bearer(client, "stranger.oh"),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_person"
    missing = client.get(
        "/api/v1/tracking/persons/999999/latest",
        params={"reason": "curious"},
        headers=_bearer(client, "stranger.oh"),
    )
    assert missing.json()["detail"] == response.json()["detail"].replace(str(child), "999999")
    with platform.db.session() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
    assert [row.actor for row in denied] == ["stranger.oh", "stranger.oh"]


def test_a_read_needs_a_reason(client: Any, platform: Platform) -> None:
    child = _child_with_guardian(platform, "mother.yoo", "8800000103")
    response = client.get(f"/api/v1/tracking/persons/{child}/latest", headers=_bearer(client, "mother.yoo"))
    assert response.status_code == 422
