"""The desk's HTTP API as operators, dispatchers, district officers and bells use it, including the
refusals (wrong role, another district, a wrong bell key, malformed input) and their audit rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.safety.incidents import bells

GWANGHWAMUN = {"lat": 37.5759, "lon": 126.9769}  # Jongno-gu (11010)


def _auth(client: Any, platform: Platform, username: str, roles: list[str], **kwargs: Any) -> dict[str, str]:
    account = make_account(platform.db, username, roles, **kwargs)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def _denials(platform: Platform) -> list[AuditEntry]:
    with platform.db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")))


def test_an_operator_runs_an_incident_through_its_lifecycle(client: Any, platform: Platform) -> None:
    op = _auth(client, platform, "desk.op", ["operator"])
    opened = client.post(
        "/api/v1/incidents",
        json={"kind": "fight", "title": "fight at the station", **GWANGHWAMUN, "priority": 2},
        headers=op,
    )
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]
    assert opened.json()["district_code"] == "11010"
    assert opened.json()["status"] == "new"
    for status in ("acknowledged", "dispatched", "on_scene", "resolved", "closed"):
        moved = client.post(
            f"/api/v1/incidents/{incident_id}/status", json={"status": status, "note": ""}, headers=op
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()[f"{status}_by"] == "desk.op"
    backwards = client.post(
        f"/api/v1/incidents/{incident_id}/status", json={"status": "dispatched"}, headers=op
    )
    assert backwards.status_code == 422
    assert "cannot become dispatched" in backwards.json()["detail"]
    note = client.post(
        f"/api/v1/incidents/{incident_id}/notes", json={"text": "patrol 3 reports calm"}, headers=op
    )
    assert note.status_code == 201
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers=op).json()
    # (the cctv domain may add a "cameras" entry when it turns cameras to the spot)
    kinds = [e["kind"] for e in shown["timeline"] if e["kind"] != "cameras"]
    assert kinds == ["opened", *["status"] * 5, "note"]
    with platform.db.session() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "incident.read")).all()
        assert [r.target for r in reads] == [f"incident:{incident_id}"]


def test_malformed_input_names_the_field(client: Any, platform: Platform) -> None:
    op = _auth(client, platform, "desk.op", ["operator"])
    bad = client.post("/api/v1/incidents", json={"kind": "fight", "title": "x", "lat": 99}, headers=op)
    assert bad.status_code == 422
    locations = {error["location"] for error in bad.json()["errors"]}
    assert {"body.title", "body.lat"} <= locations
    status = client.post("/api/v1/incidents/1/status", json={"status": "teleported"}, headers=op)
    assert status.status_code == 422
    assert "body.status" in status.text
    agency = client.post("/api/v1/incidents", json={"kind": "fight", "title": "fight"}, headers=op).json()
    unknown = client.post(
        f"/api/v1/incidents/{agency['id']}/handovers", json={"agency": "nobody"}, headers=op
    )
    assert unknown.status_code == 422
    assert "agency" in unknown.json()["detail"]


def test_the_wrong_role_is_refused_and_audited(client: Any, platform: Platform) -> None:
    citizen = _auth(client, platform, "citizen.kim", ["citizen"])
    refused = client.get("/api/v1/incidents", headers=citizen)
    assert refused.status_code == 403
    assert client.post("/api/v1/handovers/1/acknowledge", headers=citizen).status_code == 403
    assert client.get("/api/v1/stream/incidents", headers=citizen).status_code == 403
    assert [d.actor for d in _denials(platform)] == ["citizen.kim"] * 3
    # a citizen may report, and the report is a normal-priority citizen incident
    report = client.post(
        "/api/v1/incidents",
        json={"kind": "fight", "title": "fight outside", "priority": 1, **GWANGHWAMUN},
        headers=citizen,
    )
    assert report.status_code == 201
    assert report.json()["source"] == "citizen"
    assert report.json()["priority"] >= 2


def test_district_staff_get_404_for_another_district_and_it_is_audited(
    client: Any, platform: Platform
) -> None:
    op = _auth(client, platform, "desk.op", ["operator"])
    incident_id = client.post(
        "/api/v1/incidents", json={"kind": "fight", "title": "fight in Jongno", **GWANGHWAMUN}, headers=op
    ).json()["id"]
    gangnam = _auth(client, platform, "gangnam.staff", ["district_staff"], district_code="11230")
    jongno = _auth(client, platform, "jongno.staff", ["district_staff"], district_code="11010")
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=gangnam).status_code == 404
    assert client.get("/api/v1/incidents", headers=gangnam).json() == []
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=jongno).status_code == 200
    assert [d.actor for d in _denials(platform)] == ["gangnam.staff"]


def test_a_dispatcher_acknowledges_a_hand_over(client: Any, platform: Platform) -> None:
    admin = _auth(client, platform, "admin.lee", ["admin"])
    created = client.post(
        "/api/v1/agencies",
        json={
            "code": "police-jongno",
            "kind": "police",
            "name_ko": "종로경찰서",
            "name_en": "Jongno police",
            "district_codes": ["11010"],
        },
        headers=admin,
    )
    assert created.status_code == 201
    assert len(created.json()["secret"]) > 20
    again = client.post("/api/v1/agencies", json={**created.json(), "secret": None}, headers=admin)
    assert again.status_code == 422
    op = _auth(client, platform, "desk.op", ["operator"])
    incident_id = client.post(
        "/api/v1/incidents", json={"kind": "fight", "title": "fight", **GWANGHWAMUN}, headers=op
    ).json()["id"]
    handed = client.post(
        f"/api/v1/incidents/{incident_id}/handovers", json={"agency": "police-jongno"}, headers=op
    )
    assert handed.status_code == 202
    assert handed.json()["status"] == "delivered"
    dispatcher = _auth(client, platform, "jongno.dispatch", ["dispatcher"])
    listed = client.get("/api/v1/handovers?status=open", headers=dispatcher).json()
    assert [h["agency"] for h in listed] == ["police-jongno"]
    acked = client.post(f"/api/v1/handovers/{listed[0]['id']}/acknowledge", headers=dispatcher)
    assert acked.status_code == 200
    assert acked.json()["acknowledged_by"] == "jongno.dispatch"
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=op).json()["status"] == "dispatched"


def test_a_bell_that_posts_needs_its_own_key(client: Any, platform: Platform) -> None:
    admin = _auth(client, platform, "admin.lee", ["admin"])
    added = client.post(
        "/api/v1/bells",
        json={"id": "B-HTTP-1", **GWANGHWAMUN, "camera_ids": [5], "http": True},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    key = added.json()["http_key"]
    wrong = client.post("/api/v1/bells/B-HTTP-1/press", headers={"X-Bell-Key": "bell_B-HTTP-1_guess"})
    unknown = client.post("/api/v1/bells/B-NOBODY/press", headers={"X-Bell-Key": key})
    assert wrong.status_code == unknown.status_code == 401
    assert len(_denials(platform)) == 2
    pressed = client.post("/api/v1/bells/B-HTTP-1/press", headers={"X-Bell-Key": key})
    assert pressed.status_code == 202
    assert pressed.json()["incident_id"]
    op = _auth(client, platform, "desk.op", ["operator"])
    shown = client.get(f"/api/v1/incidents/{pressed.json()['incident_id']}", headers=op).json()
    assert shown["bell_id"] == "B-HTTP-1"
    assert shown["camera_ids"] == [5]
    assert shown["priority"] == 1


def test_the_intercom_over_the_api(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        bells.add_bell(session, "B-TALK", GWANGHWAMUN["lat"], GWANGHWAMUN["lon"], actor="test")
    op = _auth(client, platform, "desk.op", ["operator"])
    talk = client.post("/api/v1/bells/B-TALK/intercom", headers=op)
    assert talk.status_code == 201
    assert talk.json()["state"] == "requested"
    sid = talk.json()["id"]
    conflict = client.post(f"/api/v1/intercom/{sid}", json={"action": "connect"}, headers=op)
    assert conflict.status_code == 409
    assert "requested" in conflict.json()["detail"]
    for action, state in (("ring", "ringing"), ("connect", "connected"), ("end", "ended")):
        moved = client.post(f"/api/v1/intercom/{sid}", json={"action": action}, headers=op)
        assert moved.status_code == 200
        assert moved.json()["state"] == state
    assert client.post("/api/v1/intercom/999", json={"action": "end"}, headers=op).status_code == 404


def test_an_agencys_own_key_sees_and_acknowledges_only_its_hand_overs(
    client: Any, platform: Platform
) -> None:
    admin = _auth(client, platform, "admin.lee", ["admin"])
    keys = {}
    for code in ("police-jongno", "fire-119"):
        body = {"code": code, "kind": code.split("-")[0], "name_ko": code, "name_en": code, "api_key": True}
        created = client.post("/api/v1/agencies", json=body, headers=admin)
        assert created.status_code == 201, created.text
        keys[code] = {"Authorization": f"Bearer {created.json()['api_key']}"}
    op = _auth(client, platform, "desk.op", ["operator"])
    incident_id = client.post(
        "/api/v1/incidents", json={"kind": "fire", "title": "smoke", **GWANGHWAMUN}, headers=op
    ).json()["id"]
    ids = {
        code: client.post(
            f"/api/v1/incidents/{incident_id}/handovers", json={"agency": code}, headers=op
        ).json()["id"]
        for code in keys
    }
    police_sees = client.get("/api/v1/handovers", headers=keys["police-jongno"]).json()
    assert [h["agency"] for h in police_sees] == ["police-jongno"]
    meddling = client.post(f"/api/v1/handovers/{ids['fire-119']}/acknowledge", headers=keys["police-jongno"])
    assert meddling.status_code == 404
    assert [d.actor for d in _denials(platform)] == ["apikey:agency:police-jongno"]
    own = client.post(f"/api/v1/handovers/{ids['police-jongno']}/acknowledge", headers=keys["police-jongno"])
    assert own.status_code == 200
    assert own.json()["acknowledged_by"] == "apikey:agency:police-jongno"
    as_cap = client.get(f"/api/v1/handovers/{ids['police-jongno']}.cap", headers=keys["police-jongno"])
    assert as_cap.status_code == 200
    assert b"<addresses>police-jongno</addresses>" in as_cap.content
