"""The WiFi API and pages as controllers, citizens and staff use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.portal.wifi import service
from smartseoul.portal.wifi.models import WifiFacility
from smartseoul.portal.wifi.tests.helpers import GANGNAM, small_registry
from smartseoul.portal.wifi.tests.test_radius import DETAIL


def setup(platform: Platform) -> str:
    """The small registry and a controller API key (operator role)."""
    with platform.db.session() as session:
        small_registry(session, datetime.now(UTC))
        return auth.create_api_key(session, name="wifi controller", role="operator", actor="test")


def test_a_controller_reports_and_the_public_sees_working_hotspots_and_coverage(
    client: Any, platform: Platform
) -> None:
    key = setup(platform)
    assert client.get("/api/v1/wifi/hotspots").json() == []
    now = datetime.now(UTC)
    body = {
        "reports": [{"ap": "lib-1", "clients": 4}, {"ap": "jongno-1", "at": now.isoformat()}, {"ap": "ghost"}]
    }
    answer = client.post("/api/v1/wifi/reports", json=body, headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 2, "stale": 0, "unknown": ["ghost"], "outages": 0, "recoveries": 0}
    down = client.post(
        "/api/v1/wifi/reports",
        json={"reports": [{"ap": "jongno-1", "up": False}]},
        headers={"X-API-Key": key},
    )
    assert down.json()["outages"] == 1

    hotspots = client.get("/api/v1/wifi/hotspots").json()
    assert [h["code"] for h in hotspots] == ["lib-1"]
    assert hotspots[0]["facility_en"] == "Gangnam Library"
    assert client.get("/api/v1/wifi/hotspots?district=11010").json() == []
    coverage = client.get("/api/v1/wifi/coverage").json()
    assert coverage["city"] == {"facilities": 3, "covered": 1, "ratio": 0.3333}
    metrics = client.get("/metrics").text
    assert 'smartseoul_wifi_facility_coverage_ratio{district="all"} 0.3333' in metrics
    assert f'smartseoul_wifi_facility_coverage_ratio{{district="{GANGNAM}"}} 0.5' in metrics
    assert 'smartseoul_wifi_access_points{health="down"} 1.0' in metrics


def test_reports_need_a_controller_key_and_bad_reports_name_the_field(
    client: Any, platform: Platform
) -> None:
    key = setup(platform)
    body = {"reports": [{"ap": "lib-1"}]}
    assert client.post("/api/v1/wifi/reports", json=body).status_code == 401
    assert (
        client.post("/api/v1/wifi/reports", json=body, headers={"X-API-Key": key[:-2] + "xx"}).status_code
        == 401
    )
    citizen = make_account(platform.db, "citizen.park", ["citizen"])
    headers = {"Authorization": f"Bearer {token_for(client, citizen)}"}
    assert client.post("/api/v1/wifi/reports", json=body, headers=headers).status_code == 403
    assert client.get("/api/v1/wifi/outages", headers=headers).status_code == 403
    assert client.get("/api/v1/wifi/usage").status_code == 401

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for bad, field in (
        ({"reports": [{"ap": "lib-1", "at": future}]}, "at"),
        ({"reports": [{"ap": "lib-1", "clients": -1}]}, "clients"),
        ({"reports": []}, "reports"),
    ):
        answer = client.post("/api/v1/wifi/reports", json=bad, headers={"X-API-Key": key})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text


def test_staff_import_a_detail_file_once_and_read_usage(client: Any, platform: Platform) -> None:
    setup(platform)
    staff = make_account(platform.db, "op.wifi", ["operator"])
    headers = {"Authorization": f"Bearer {token_for(client, staff)}"}
    detail = DETAIL.replace("02-5E-00-00-00-01", "02-5E-00-00-01-01").replace("025e00000001", "025e00000101")
    first = client.post("/api/v1/wifi/accounting/import", content=detail.encode(), headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["stored"], first.json()["malformed_count"]) == (2, 1)
    again = client.post("/api/v1/wifi/accounting/import", content=detail.encode(), headers=headers).json()
    assert (again["stored"], again["duplicates"]) == (0, 2)
    usage = client.get("/api/v1/wifi/usage?since=2026-12-02&until=2026-12-02&by=district", headers=headers)
    assert usage.json() == [
        {"day": "2026-12-02", "key": GANGNAM, "sessions": 1, "unique_users": 1, "bytes": 2**32 + 2100}
    ]
    assert (
        client.get("/api/v1/wifi/usage?since=2026-12-03&until=2026-12-02", headers=headers).status_code == 422
    )
    assert client.post("/api/v1/wifi/accounting/import", content=b"", headers=headers).status_code == 422
    with platform.db.session() as session:
        assert session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "wifi.accounting.import")
        ).all() == [
            "op.wifi",
            "op.wifi",
        ]


def test_the_public_page_lists_hotspots_and_the_staff_page_is_for_staff(
    client: Any, platform: Platform
) -> None:
    key = setup(platform)
    client.post("/api/v1/wifi/reports", json={"reports": [{"ap": "lib-1"}]}, headers={"X-API-Key": key})
    page = client.get(f"/wifi?district={GANGNAM}")
    assert page.status_code == 200
    assert "Gangnam Library" in page.text
    assert 'data-code="lib-1"' in page.text
    assert client.get("/wifi?district=abc").status_code == 422
    assert client.get("/console/wifi", follow_redirects=False).status_code in (302, 303, 307)


def test_the_simulated_controllers_keep_due_access_points_reporting(platform: Platform) -> None:
    import random

    from smartseoul.portal.wifi import simulate

    setup(platform)
    events = simulate._step(platform, random.Random(3))
    with platform.db.session() as session:
        healths = sorted(ap.health for ap, _ in service.list_access_points(session))
    silent = platform.cache[simulate.SILENT_KEY]
    assert healths.count("up") == 3 - len(silent)  # all due APs reported, bar one fault at most
    assert [e.type for e in events] == ["portal.wifi.outage.v1"] * healths.count("down")
    assert simulate._step(platform, random.Random(3)) == []  # nobody is due again yet


def test_staff_register_an_access_point_and_take_it_out_of_service(client: Any, platform: Platform) -> None:
    key = setup(platform)
    staff = make_account(platform.db, "op.registry", ["operator"])
    headers = {"Authorization": f"Bearer {token_for(client, staff)}"}
    with platform.db.session() as session:
        park = session.scalar(select(WifiFacility.id).where(WifiFacility.name_en == "Gangnam Park"))
    body = {"code": "park-1", "mac": "02-5E-00-00-03-01", "facility_id": park, "lat": 37.49, "lon": 127.06}
    citizen = make_account(platform.db, "citizen.reg", ["citizen"])
    refused = client.post(
        "/api/v1/wifi/access-points",
        json=body,
        headers={"Authorization": f"Bearer {token_for(client, citizen)}"},
    )
    assert refused.status_code == 403
    added = client.post("/api/v1/wifi/access-points", json=body, headers=headers)
    assert added.status_code == 201, added.text
    assert (added.json()["mac"], added.json()["district_code"], added.json()["health"]) == (
        "02:5e:00:00:03:01",
        GANGNAM,
        "unknown",
    )
    again = client.post("/api/v1/wifi/access-points", json=body, headers=headers)
    assert again.status_code == 409
    assert "code" in again.text
    unknown = client.post(
        "/api/v1/wifi/access-points", json=body | {"code": "x", "facility_id": 999}, headers=headers
    )
    assert unknown.status_code == 422
    assert "facility_id" in unknown.text

    client.post("/api/v1/wifi/reports", json={"reports": [{"ap": "park-1"}]}, headers={"X-API-Key": key})
    assert client.get("/api/v1/wifi/coverage").json()["city"]["covered"] == 1
    retired = client.post(
        "/api/v1/wifi/access-points/park-1/status", json={"status": "retired"}, headers=headers
    )
    assert retired.json()["status"] == "retired"
    assert client.get("/api/v1/wifi/coverage").json()["city"]["covered"] == 0
    assert (
        client.post(
            "/api/v1/wifi/access-points/nope/status", json={"status": "active"}, headers=headers
        ).status_code
        == 404
    )
