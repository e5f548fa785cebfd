"""The registry's HTTP API as operators, district staff and outsiders use it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.safety.cctv import sharing
from smartseoul.safety.cctv.seed import DEMO_POLICIES
from smartseoul.safety.cctv.tests.helpers import (
    CITY_HALL,
    GANGNAM_STATION,
    JUNG_CENTRE,
    add_camera,
    national_csv,
    national_row,
    offset,
)


def bearer(
    client: Any, platform: Platform, username: str, roles: list[str], district: str | None = None
) -> dict[str, str]:
    account = make_account(platform.db, username, roles, district_code=district)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def ledger(platform: Platform, action: str) -> list[AuditEntry]:
    with platform.db.session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def upload(client: Any, headers: dict[str, str], data: bytes, **params: str) -> Any:
    return client.post(
        "/api/v1/cameras/import",
        params=params,
        headers=headers,
        files={"file": ("cctv.csv", data, "text/csv")},
    )


def test_an_operator_imports_a_cp949_file_and_finds_the_cameras(client: Any, platform: Platform) -> None:
    headers = bearer(client, platform, "op.lee", ["operator"])
    data = national_csv(
        national_row(cameras="2"), national_row(37.5126, 127.059, cameras="1"), encoding="cp949"
    )
    imported = upload(client, headers, data, encoding="cp949")
    assert imported.status_code == 201, imported.text
    assert imported.json() == {"sites": 2, "cameras": 3}
    listed = client.get("/api/v1/cameras", params={"district": "11020"}, headers=headers).json()
    assert listed["total"] == 2
    assert {c["owner"] for c in listed["items"]} == {"서울특별시 중구청"}
    camera = client.get(f"/api/v1/cameras/{listed['items'][0]['id']}", headers=headers).json()
    assert camera["district_code"] == "11020"
    assert "onvif_password" not in camera
    spot = offset(*CITY_HALL, north_m=20, east_m=0)
    near = client.get("/api/v1/cameras/near", params={"lat": spot[0], "lon": spot[1]}, headers=headers).json()
    assert near["items"]
    assert near["items"][0]["covers"] is True
    exported = client.get("/api/v1/cameras/export.csv", params={"encoding": "cp949"}, headers=headers)
    assert exported.status_code == 200
    assert "서울특별시 중구청" in exported.content.decode("cp949")
    assert [e.actor for e in ledger(platform, "cctv.import")] == ["op.lee"]


def test_a_bad_file_gets_a_row_by_row_problem_and_nothing_is_stored(client: Any, platform: Platform) -> None:
    headers = bearer(client, platform, "op.park", ["operator"])
    data = national_csv(
        national_row(), national_row(35.1796, 129.0756), national_row(37.57, 126.98, cameras="x")
    )
    refused = upload(client, headers, data)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "import_rejected"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "WGS84위도"), (4, "카메라대수")]
    assert client.get("/api/v1/cameras", headers=headers).json()["total"] == 0
    empty = client.post("/api/v1/cameras/import", headers=headers, content=b"")
    assert (empty.status_code, empty.json()["code"]) == (422, "no_file")


def test_district_staff_see_only_their_district(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        mine = add_camera(session, at=CITY_HALL).id
        theirs = add_camera(session, at=GANGNAM_STATION).id
    headers = bearer(client, platform, "staff.jung", ["district_staff"], district="11020")
    listed = client.get("/api/v1/cameras", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [mine]
    other = client.get("/api/v1/cameras", params={"district": "11230"}, headers=headers)
    assert (other.status_code, other.json()["code"]) == (403, "other_district")
    assert client.get(f"/api/v1/cameras/{theirs}", headers=headers).status_code == 404
    denials = ledger(platform, "access.denied")
    assert [d.actor for d in denials] == ["staff.jung", "staff.jung"]
    viewed = client.post(
        f"/api/v1/cameras/{mine}/views", json={"reason": "graffiti report 17"}, headers=headers
    )
    assert viewed.status_code == 201
    spot = offset(*GANGNAM_STATION, north_m=20, east_m=0)
    near = client.get("/api/v1/cameras/near", params={"lat": spot[0], "lon": spot[1]}, headers=headers).json()
    assert near["items"] == []  # Gangnam's camera sees the spot, but it is not theirs to see
    operator = bearer(client, platform, "op.seo", ["operator"])
    seen = client.get(
        "/api/v1/cameras/near", params={"lat": spot[0], "lon": spot[1]}, headers=operator
    ).json()
    assert [c["camera_id"] for c in seen["items"]] == [theirs]


def test_views_follow_the_sharing_policy_and_are_audited(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        for policy in DEMO_POLICIES:
            sharing.add_policy(session, actor="test", **policy)
        shared = add_camera(session, shared=True).id
        private = add_camera(session, shared=False).id
    headers = bearer(client, platform, "op.choi", ["operator"])
    granted = client.post(
        f"/api/v1/cameras/{shared}/views", json={"reason": "incident 7", "kind": "playback"}, headers=headers
    )
    assert granted.status_code == 201, granted.text
    refused = client.post(f"/api/v1/cameras/{private}/views", json={"reason": "curious"}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_shared")
    views = ledger(platform, "cctv.view.playback")
    assert [(v.actor, v.target, v.reason) for v in views] == [("op.choi", f"camera:{shared}", "incident 7")]
    assert ledger(platform, "access.denied")[-1].target == f"POST /api/v1/cameras/{private}/views"
    no_reason = client.post(f"/api/v1/cameras/{shared}/views", json={"kind": "live"}, headers=headers)
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["detail"]


def test_outsiders_are_refused_and_the_refusal_is_recorded(client: Any, platform: Platform) -> None:
    headers = bearer(client, platform, "citizen.kim", ["citizen"])
    assert client.get("/api/v1/cameras", headers=headers).status_code == 403
    assert client.get("/api/v1/cameras/coverage", headers=headers).status_code == 403
    assert client.get("/api/v1/cameras").status_code == 401
    assert [d.actor for d in ledger(platform, "access.denied")] == ["citizen.kim", "citizen.kim"]


def test_malformed_parameters_name_the_parameter(client: Any, platform: Platform) -> None:
    headers = bearer(client, platform, "op.han", ["operator"])
    bad = client.get("/api/v1/cameras/near", params={"lat": 999, "lon": 127}, headers=headers)
    assert bad.status_code == 422
    assert "lat" in bad.json()["detail"]
    box = client.get(
        "/api/v1/cameras/clusters",
        params={"zoom": 11, "south": 37.7, "west": 126.8, "north": 37.4, "east": 127.2},
        headers=headers,
    )
    assert (box.status_code, box.json()["code"]) == (422, "invalid_bbox")


def test_coverage_figures_reports_and_clusters(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        for k in range(30):
            add_camera(
                session,
                at=offset(*JUNG_CENTRE, north_m=30 * (k // 6), east_m=30 * (k % 6)),
                fov_deg=360.0,
                range_m=40.0,
            )
        add_camera(session, at=GANGNAM_STATION)
    headers = bearer(client, platform, "auditor.yoon", ["auditor"])
    figures = client.get("/api/v1/cameras/coverage", params={"level": "district"}, headers=headers).json()
    assert len(figures["districts"]) == 25
    jung = next(d for d in figures["districts"] if d["code"] == "11020")
    assert jung["cameras"] == 30
    assert 0 < jung["coverage_area_pct"] < 100
    assert figures["city"]["cameras"] == 31
    assert set(figures["disparity"]) == {
        "cameras_per_1000",
        "cameras_per_km2",
        "coverage_area_pct",
        "coverage_population_pct",
    }
    csv_report = client.get("/api/v1/cameras/coverage/report.csv", headers=headers)
    assert csv_report.status_code == 200
    assert "coverage_area_pct" in csv_report.content.decode("utf-8-sig").splitlines()[0]
    pdf = client.get("/api/v1/cameras/coverage/report.pdf", headers=headers)
    assert (pdf.headers["content-type"], pdf.content[:5]) == ("application/pdf", b"%PDF-")
    shapes = client.get(
        "/api/v1/cameras/coverage.geojson", params={"level": "neighbourhood"}, headers=headers
    ).json()
    assert len(shapes["features"]) == 423
    whole_city = {"zoom": 11, "south": 37.4, "west": 126.7, "north": 37.75, "east": 127.2}
    clustered = client.get("/api/v1/cameras/clusters", params=whole_city, headers=headers).json()
    assert len(clustered["cameras"]) == 31  # few enough to draw one by one
    assert clustered["total"] == 31


def test_an_operator_turns_a_ptz_camera_over_onvif(client: Any, platform: Platform) -> None:
    from smartseoul.safety.cctv.tests.onvif_camera import SimulatedOnvifCamera

    with SimulatedOnvifCamera("ptzadmin", "s3cret-Pw") as device:
        with platform.db.session() as session:
            ptz = add_camera(
                session,
                at=JUNG_CENTRE,
                ptz=True,
                range_m=100.0,
                onvif_url=device.url,
                onvif_username="ptzadmin",
                onvif_password="s3cret-Pw",
                onvif_profile="Profile_1",
            ).id
            fixed = add_camera(session, at=JUNG_CENTRE).id
        headers = bearer(client, platform, "op.ptz", ["operator"])
        east = offset(*JUNG_CENTRE, north_m=0, east_m=60)
        turned = client.post(
            f"/api/v1/cameras/{ptz}/ptz", json={"lat": east[0], "lon": east[1]}, headers=headers
        )
        assert turned.status_code == 200, turned.text
        assert turned.json()["onvif"] is True
        assert device.state.pan == pytest.approx(0.5, abs=0.01)  # east of a camera whose home is north
        far = offset(*JUNG_CENTRE, north_m=500, east_m=0)
        out = client.post(f"/api/v1/cameras/{ptz}/ptz", json={"lat": far[0], "lon": far[1]}, headers=headers)
        assert (out.status_code, out.json()["code"]) == (422, "out_of_reach")
        fixed_turn = client.post(
            f"/api/v1/cameras/{fixed}/ptz", json={"lat": east[0], "lon": east[1]}, headers=headers
        )
        assert (fixed_turn.status_code, fixed_turn.json()["code"]) == (409, "not_ptz")
    gone = client.post(f"/api/v1/cameras/{ptz}/ptz", json={"lat": east[0], "lon": east[1]}, headers=headers)
    assert (gone.status_code, gone.json()["code"]) == (502, "ptz_failed")
    assert [m.outcome for m in ledger(platform, "cctv.ptz.move")] == ["ok", "failed"]
