"""Sign-up, staff work and the targets over HTTP, as citizens and staff use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.portal.education.tests.helpers import GANGNAM, course_session


def setup(platform: Platform, capacity: int = 1) -> int:
    with platform.db.session() as session:
        return course_session(session, datetime.now(UTC) + timedelta(days=2), capacity=capacity).id


def body(session_id: int, **changes: Any) -> dict[str, Any]:
    found = {
        "session_id": session_id,
        "name": "박순자",
        "phone": "010-2345-6789",
        "target_group": "elderly",
        "district_code": GANGNAM,
        "consent": True,
    }
    return found | changes


def bearer(client: Any, platform: Platform, name: str, roles: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, make_account(platform.db, name, roles, mfa=False))}"}


def test_anyone_signs_up_and_bad_input_names_the_field(client: Any, platform: Platform) -> None:
    chosen = setup(platform)
    sessions = client.get(f"/api/v1/education/sessions?district={GANGNAM}").json()
    assert [(s["id"], s["seats_left"]) for s in sessions] == [(chosen, 1)]
    first = client.post("/api/v1/education/enrolments", json=body(chosen))
    assert first.status_code == 201, first.text
    assert (first.json()["state"], first.json()["waitlist_position"]) == ("enrolled", None)
    second = client.post(
        "/api/v1/education/enrolments", json=body(chosen, name="이영호", phone="01098765432")
    )
    assert (second.json()["state"], second.json()["waitlist_position"]) == ("waitlisted", 1)
    again = client.post("/api/v1/education/enrolments", json=body(chosen))
    assert again.status_code == 409

    for bad, field in (
        (body(chosen, phone="12345"), "phone"),
        (body(chosen, consent=False), "consent"),
        (body(chosen, target_group="alien"), "target_group"),
        (body(chosen, district_code="99999"), "district_code"),
        (body(chosen) | {"session_id": "x"}, "session_id"),
    ):
        answer = client.post("/api/v1/education/enrolments", json=bad)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text
    assert client.post("/api/v1/education/enrolments", json=body(99999)).status_code == 404


def test_staff_see_masked_rosters_and_full_details_only_with_a_recorded_reason(
    client: Any, platform: Platform
) -> None:
    chosen = setup(platform, capacity=3)
    staff = bearer(client, platform, "edu.staff", ["district_staff"])
    by_phone = client.post("/api/v1/education/enrolments", json=body(chosen), headers=staff)
    assert by_phone.status_code == 201
    citizen = bearer(client, platform, "citizen.kim", ["citizen"])
    assert client.get(f"/api/v1/education/sessions/{chosen}/roster", headers=citizen).status_code == 403
    assert client.get(f"/api/v1/education/sessions/{chosen}/roster").status_code == 401
    assert (
        client.get(
            f"/api/v1/education/sessions/{chosen}/roster", headers={"Authorization": "Bearer forged"}
        ).status_code
        == 401
    )

    roster = client.get(f"/api/v1/education/sessions/{chosen}/roster", headers=staff).json()
    assert [(p["name"], p["phone"], p["state"]) for p in roster] == [("박*자", "010-****-6789", "enrolled")]
    learner_id = roster[0]["learner_id"]
    assert (
        client.get(f"/api/v1/education/learners/{learner_id}", headers=staff).status_code == 422
    )  # no reason
    full = client.get(
        f"/api/v1/education/learners/{learner_id}?reason=call back about the class", headers=staff
    ).json()
    assert (full["phone"], full["channel"], full["consent_by"]) == ("010-2345-6789", "phone", "edu.staff")
    with platform.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "edu.staff")).all()
    assert {"education.enrol_by_phone", "education.roster.read", "education.learner.read"} <= set(actions)


def test_attendance_completion_certificate_and_cancel(client: Any, platform: Platform) -> None:
    chosen = setup(platform, capacity=1)
    staff = bearer(client, platform, "edu.teacher", ["district_staff"])
    enrolment = client.post("/api/v1/education/enrolments", json=body(chosen)).json()["enrolment_id"]
    waiting = client.post(
        "/api/v1/education/enrolments", json=body(chosen, name="최민수", phone="010-1111-2222")
    ).json()
    certificate = f"/api/v1/education/enrolments/{enrolment}/certificate.pdf"
    assert client.get(certificate, headers=staff).status_code == 409
    for lesson in (1, 2, 3):
        marked = client.post(
            f"/api/v1/education/enrolments/{enrolment}/attendance", json={"lesson": lesson}, headers=staff
        )
        assert marked.status_code == 200, marked.text
    assert marked.json()["state"] == "completed"
    pdf = client.get(certificate, headers=staff)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    bad = client.post(
        f"/api/v1/education/enrolments/{enrolment}/attendance", json={"lesson": 0}, headers=staff
    )
    assert bad.status_code == 422
    assert "lesson" in bad.text

    assert client.post(f"/api/v1/education/enrolments/{waiting['enrolment_id']}/cancel").status_code == 401
    cancelled = client.post(f"/api/v1/education/enrolments/{waiting['enrolment_id']}/cancel", headers=staff)
    assert cancelled.json() == {"cancelled": waiting["enrolment_id"], "promoted": None}


def test_the_public_summary_and_pages(client: Any, platform: Platform) -> None:
    chosen = setup(platform)
    progress = client.get("/api/v1/education/progress").json()
    assert (progress["target_per_year"], progress["target_total"]) == (200_000, 1_000_000)
    page = client.get(f"/learn?district={GANGNAM}")
    assert page.status_code == 200
    assert f'value="{chosen}"' in page.text
    csrf = client.cookies.get("ss_csrf")
    form = {
        "csrf_token": csrf,
        "session_id": str(chosen),
        "name": "",
        "phone": "1",
        "target_group": "elderly",
        "district_code": GANGNAM,
    }
    refused = client.post("/learn", data=form)
    assert refused.status_code == 422  # every problem named at once, nothing typed lost
    assert 'id="e-target_group"' not in refused.text
    assert 'value="1"' in refused.text
    assert 'id="e-name"' in refused.text
    assert 'id="e-phone"' in refused.text
    assert 'id="e-consent"' in refused.text
    form |= {"name": "한옥순", "phone": "010-3333-4444", "consent": "yes"}
    done = client.post("/learn", data=form)
    assert done.status_code == 200
    assert 'id="edu-done"' in done.text
    assert client.post("/learn", data=form | {"csrf_token": "forged"}).status_code == 403
    assert client.get("/console/education", follow_redirects=False).status_code in (302, 303, 307)
