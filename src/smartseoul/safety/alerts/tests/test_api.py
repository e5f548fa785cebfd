"""Public alerts over the API as operators, citizens and other systems use them."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.core.tests.push_service import Browser, PushService
from smartseoul.safety.alerts.cap import CAP_NS, validation_errors

NS = {"cap": CAP_NS, "atom": "http://www.w3.org/2005/Atom"}
GANGNAM, SEOCHO, NOWON, JONGNO = "11230", "11220", "11110", "11010"
CITY_HALL = (37.5665, 126.9780)  # Jung-gu


def alert_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": "Flood",
        "category": "Met",
        "severity": "Severe",
        "urgency": "Immediate",
        "certainty": "Observed",
        "headline_ko": "강남역 일대 침수, 지하도 통행 금지",
        "headline_en": "Flooding around Gangnam station: underpasses closed",
        "description_ko": "시간당 80mm 폭우",
        "description_en": "80 mm of rain an hour",
        "instruction_ko": "지하 공간에서 대피하세요",
        "instruction_en": "Leave underground spaces",
        "area": {"districts": [GANGNAM, SEOCHO]},
    }
    body.update(changes)
    return body


def operator(client: Any, platform: Platform, name: str, roles: list[str] | None = None) -> dict[str, str]:
    account = make_account(platform.db, name, roles or ["operator"])
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def cap_of(client: Any, alert_id: int) -> ET.Element:
    response = client.get(f"/api/v1/alerts/{alert_id}.cap")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    assert validation_errors(response.content) == []
    return ET.fromstring(response.content)  # noqa: S314


def test_an_operator_issues_a_district_alert_with_a_valid_cap_in_korean_and_english(
    client: Any, platform: Platform
) -> None:
    headers = operator(client, platform, "op.kim")
    issued = client.post("/api/v1/alerts", json=alert_body(), headers=headers)
    assert issued.status_code == 201, issued.text
    alert = issued.json()
    assert (alert["state"], alert["district_codes"], alert["city_wide"]) == (
        "active",
        [SEOCHO, GANGNAM],
        False,
    )

    root = cap_of(client, alert["id"])
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:identifier", namespaces=NS) == alert["identifier"]
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["ko-KR", "en-US"]
    assert infos[0].findtext("cap:headline", namespaces=NS) == "강남역 일대 침수, 지하도 통행 금지"
    areas = infos[1].findall("cap:area", NS)
    assert [a.findtext("cap:areaDesc", namespaces=NS) for a in areas] == ["Seocho-gu", "Gangnam-gu"]
    assert areas[1].findtext("cap:geocode/cap:value", namespaces=NS) == GANGNAM
    ring = areas[1].findtext("cap:polygon", namespaces=NS).split()
    assert len(ring) >= 4
    assert ring[0] == ring[-1]

    feed = ET.fromstring(client.get("/api/v1/alerts/feed.atom").content)  # noqa: S314
    links = [e.find("atom:link", NS).get("href") for e in feed.findall("atom:entry", NS)]
    assert links == [f"http://127.0.0.1/api/v1/alerts/{alert['id']}.cap"]

    banner = client.get("/api/v1/alerts/active", params={"district": GANGNAM}).json()
    assert [a["id"] for a in banner] == [alert["id"]]
    assert client.get("/api/v1/alerts/active", params={"district": NOWON}).json() == []
    audit = client.app.state.platform.db
    with audit.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.issue")).all()
        assert [(r.actor, r.target) for r in rows] == [("op.kim", f"alert:{alert['id']}")]


def test_updates_and_cancels_reference_the_original_message(client: Any, platform: Platform) -> None:
    headers = operator(client, platform, "op.lee")
    alert = client.post(
        "/api/v1/alerts", json=alert_body(area={"circle": "37.5665,126.9780 1.5"}), headers=headers
    ).json()
    original = cap_of(client, alert["id"])
    sent = original.findtext("cap:sent", namespaces=NS)
    first_ref = f"safety@smartseoul.seoul.kr,{alert['identifier']},{sent}"
    assert original.findtext("cap:info/cap:area/cap:circle", namespaces=NS) == "37.56650,126.97800 1.5"
    assert [
        a["id"] for a in client.get("/api/v1/alerts/active", params={"lat": 37.567, "lon": 126.979}).json()
    ] == [alert["id"]]
    assert client.get("/api/v1/alerts/active", params={"lat": 37.65, "lon": 127.06}).json() == []

    updated = client.patch(f"/api/v1/alerts/{alert['id']}", json={"severity": "Extreme"}, headers=headers)
    assert updated.status_code == 200, updated.text
    update = cap_of(client, alert["id"])
    assert update.findtext("cap:msgType", namespaces=NS) == "Update"
    assert update.findtext("cap:references", namespaces=NS) == first_ref
    assert update.findtext("cap:info/cap:severity", namespaces=NS) == "Extreme"

    cancelled = client.post(
        f"/api/v1/alerts/{alert['id']}/cancel", json={"reason": "water receded"}, headers=headers
    )
    assert cancelled.status_code == 200
    cancel = cap_of(client, alert["id"])
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"
    references = cancel.findtext("cap:references", namespaces=NS).split()
    assert references[0] == first_ref
    assert len(references) == 2
    assert client.get("/api/v1/alerts").json() == []
    again = client.post(f"/api/v1/alerts/{alert['id']}/cancel", json={}, headers=headers)
    assert again.status_code == 409


def test_a_city_wide_alert_needs_a_second_person_and_self_approval_is_refused(
    client: Any, platform: Platform
) -> None:
    issuer = operator(client, platform, "op.park")
    everything = [d["code"] for d in client.get("/api/v1/districts").json()]
    pending = client.post(
        "/api/v1/alerts", json=alert_body(area={"districts": everything}), headers=issuer
    ).json()
    assert (pending["state"], pending["city_wide"]) == ("pending", True)
    assert client.get(f"/api/v1/alerts/{pending['id']}.cap").status_code == 404  # nothing public yet
    assert client.get("/api/v1/alerts").json() == []

    own = client.post(f"/api/v1/alerts/{pending['id']}/approve", headers=issuer)
    assert own.status_code == 403
    assert own.json()["code"] == "own_alert"
    with platform.db.session() as session:
        denials = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
        assert any(d.actor == "op.park" and "approval of own alert" in d.reason for d in denials)

    second = operator(client, platform, "op.choi")
    approved = client.post(f"/api/v1/alerts/{pending['id']}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["approved_by"]) == ("active", "op.choi")
    assert len(cap_of(client, pending["id"]).findall("cap:info[1]/cap:area", NS)) == 25


def test_only_operators_issue_and_refusals_are_audited(client: Any, platform: Platform) -> None:
    assert client.post("/api/v1/alerts", json=alert_body()).status_code == 401
    citizen = make_account(platform.db, "citizen.han", ["citizen"])
    headers = {"Authorization": f"Bearer {token_for(client, citizen)}"}
    refused = client.post("/api/v1/alerts", json=alert_body(), headers=headers)
    assert refused.status_code == 403
    with platform.db.session() as session:
        denial = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).one()
        assert (denial.actor, denial.target) == ("citizen.han", "POST /api/v1/alerts")
    assert client.get("/api/v1/alerts").json() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"area": {"districts": [GANGNAM, "11999"]}}, "area.districts[1]"),
        ({"area": {"circle": "37.5,127.0"}}, "area.circle"),
        ({"area": {"circle": "37.5,127.0 0"}}, "area.circle"),
        ({"area": {"polygon": "35.1,129.0 35.2,129.0 35.2,129.1 35.1,129.0"}}, "area.polygon"),
        ({"area": {"polygon": [[37.5, 127.0], [37.6]]}}, "area.polygon[1]"),
        ({"area": {"districts": [GANGNAM], "circle": "37.5,127.0 1"}}, "area"),
        ({"area": {"county": ["x"]}}, "area.county"),
        ({"severity": "Apocalyptic"}, "severity"),
        ({"headline_ko": "  "}, "headline_ko"),
    ],
)
def test_invalid_alerts_are_refused_naming_the_field(
    client: Any, platform: Platform, changes: dict[str, Any], field: str
) -> None:
    headers = operator(client, platform, "op.yoon")
    refused = client.post("/api/v1/alerts", json=alert_body(**changes), headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == field
    assert client.get("/api/v1/alerts/recent", headers=headers).json() == []


def test_a_missing_field_is_named(client: Any, platform: Platform) -> None:
    headers = operator(client, platform, "op.jang")
    body = alert_body()
    del body["headline_en"]
    refused = client.post("/api/v1/alerts", json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == "body.headline_en"


def test_phones_inside_the_area_get_the_push_and_others_do_not(client: Any, platform: Platform) -> None:
    platform.settings.alerts_push_allow_loopback = True
    key = client.get("/api/v1/push/vapid-public-key").json()["public_key"]
    assert len(key) == 87
    with PushService() as push_service:
        phones = {name: Browser() for name in ("gangnam", "nowon", "city_hall", "far_point")}
        places: dict[str, dict[str, Any]] = {
            "gangnam": {"district_codes": [GANGNAM]},
            "nowon": {"district_codes": [NOWON], "language": "en"},
            "city_hall": {"lat": CITY_HALL[0], "lon": CITY_HALL[1], "language": "en"},
            "far_point": {"lat": 37.65, "lon": 127.06},
        }
        endpoints = {}
        for name, browser in phones.items():
            endpoints[name] = push_service.endpoint("ok", browser)
            answer = client.post(
                "/api/v1/push/subscriptions",
                json={
                    "endpoint": endpoints[name],
                    "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
                    **places[name],
                },
            )
            assert answer.status_code == 201, answer.text
        headers = operator(client, platform, "op.seo")
        district_alert = client.post("/api/v1/alerts", json=alert_body(), headers=headers).json()
        circle_alert = client.post(
            "/api/v1/alerts", json=alert_body(area={"circle": "37.5665,126.9780 1"}), headers=headers
        ).json()
        deadline = time.monotonic() + 10
        while len(push_service.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
    got = {(r.path, r.payload["tag"] if r.payload else None) for r in push_service.received}
    path = {name: endpoint.removeprefix(push_service.base) for name, endpoint in endpoints.items()}
    assert got == {
        (path["gangnam"], f"alert-{district_alert['id']}"),
        (path["city_hall"], f"alert-{circle_alert['id']}"),
    }
    english = next(r.payload for r in push_service.received if r.path == path["city_hall"])
    assert english is not None
    assert english["title"].startswith("[Severe] Flooding")
    assert english["url"] == f"/lang/en?next=%2Falerts%3Falert%3D{circle_alert['id']}"
    opened = client.get(english["url"], follow_redirects=False)
    assert opened.headers["location"] == f"/alerts?alert={circle_alert['id']}"
    assert opened.cookies.get("ss_lang") == "en"


def test_malformed_push_subscriptions_are_refused(client: Any, platform: Platform) -> None:
    browser = Browser()
    keys = {"p256dh": browser.p256dh, "auth": browser.auth}
    cases = [
        ({"endpoint": "https://push.example/1", "keys": keys}, "district_codes"),
        (
            {"endpoint": "https://push.example/1", "keys": keys, "district_codes": ["11999"]},
            "district_codes[0]",
        ),
        (
            {
                "endpoint": "https://push.example/1",
                "keys": {**keys, "auth": "AAAAAAAAAAAA"},
                "lat": 37.5,
                "lon": 127.0,
            },
            "keys.auth",
        ),
        ({"endpoint": "http://10.0.0.1/internal", "keys": keys, "district_codes": [GANGNAM]}, "endpoint"),
    ]
    for body, field in cases:
        refused = client.post("/api/v1/push/subscriptions", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == field


def test_the_service_worker_may_control_the_whole_site(client: Any) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/"
    assert "showNotification" in worker.text
    assert "notificationclick" in worker.text
