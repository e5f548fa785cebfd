"""The wall's HTTP API on both databases: live tiles and snapshots only for those the camera is
shared with, each view in the audit ledger once; refusals precise and audited; groups and tours."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.safety.cctv import sharing
from smartseoul.safety.cctv.seed import DEMO_POLICIES
from smartseoul.safety.cctv.tests.helpers import GANGNAM_STATION, add_camera
from smartseoul.safety.monitoring import service as monitoring
from smartseoul.safety.monitoring.streams import SCENE_SIZE, StreamServer, idle_frames
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.feeds import CameraInfo
from smartseoul.safety.videowall.health import Transition
from smartseoul.safety.videowall.models import CameraGroup
from smartseoul.safety.videowall.scenes import decode_jpeg

REASON = "incident 7: fight reported"


def _cameras(platform: Platform) -> dict[str, Any]:
    """A shared camera and a private one at City Hall, a shared one in Gangnam; the demo policies."""
    with platform.db.session() as session:
        for policy in DEMO_POLICIES:
            sharing.add_policy(session, actor="test", **policy)
        shared = add_camera(session, shared=True, name="City Hall plaza")
        private = add_camera(session, shared=False, name="City Hall garage")
        gangnam = add_camera(session, at=GANGNAM_STATION, shared=True, name="COEX north")
        return {
            "shared": shared.id,
            "private": private.id,
            "gangnam": gangnam.id,
            "jung_gu": shared.district_code,
        }


def _headers(
    client: Any, platform: Platform, username: str, roles: list[str], district: str | None = None
) -> Any:
    account = make_account(platform.db, username, roles, district_code=district)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def _ledger(platform: Platform, action: str) -> list[AuditEntry]:
    with platform.db.session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def _parts(response: Any, wanted: int) -> list[tuple[dict[str, str], bytes]]:
    """The first ``wanted`` parts of a multipart/x-mixed-replace stream."""
    buffer, parts = b"", []
    for chunk in response.iter_bytes():
        buffer += chunk
        while b"\r\n\r\n" in buffer:
            head, rest = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            assert lines[0] == "--frame"
            headers = dict(line.lower().split(": ", 1) for line in lines[1:])
            length = int(headers["content-length"])
            if len(rest) < length + 2:
                break
            parts.append((headers, rest[:length]))
            buffer = rest[length + 2 :]
        if len(parts) >= wanted:
            return parts[:wanted]
    raise AssertionError("the stream ended")


def test_a_snapshot_of_a_shared_camera_is_a_picture_and_the_view_is_recorded(
    client: Any, platform: Platform
) -> None:
    cameras = _cameras(platform)
    headers = _headers(client, platform, "op.snap", ["operator"])
    response = client.get(
        f"/api/v1/cameras/{cameras['shared']}/snapshot.jpg", params={"reason": REASON}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    picture = decode_jpeg(response.content)
    assert picture is not None
    assert picture.shape == (360, 640, 3)
    (entry,) = _ledger(platform, "cctv.view.snapshot")
    assert (entry.actor, entry.target, entry.reason) == ("op.snap", f"camera:{cameras['shared']}", REASON)


def test_a_live_tile_streams_jpeg_frames_and_is_one_recorded_view(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    headers = _headers(client, platform, "op.live", ["operator"])
    url = f"/api/v1/cameras/{cameras['shared']}/live.mjpeg"
    with client.stream("GET", url, params={"reason": REASON}, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace; boundary=frame")
        parts = _parts(response, 3)
    pictures = [decode_jpeg(body) for _headers_, body in parts]
    assert all(p is not None for p in pictures)
    assert len(_ledger(platform, "cctv.view.live")) == 1  # one view, however many frames


def test_the_wall_stream_carries_every_tile_in_one_connection(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    headers = _headers(client, platform, "op.wall", ["operator"])
    ids = f"{cameras['shared']},{cameras['gangnam']}"
    with client.stream(
        "GET", "/api/v1/videowall/live", params={"ids": ids, "reason": REASON}, headers=headers
    ) as response:
        assert response.status_code == 200
        parts = _parts(response, 8)
    seen = {int(head["x-camera-id"]) for head, _body in parts}
    assert seen == {cameras["shared"], cameras["gangnam"]}
    assert sorted(e.target for e in _ledger(platform, "cctv.view.live")) == sorted(
        [f"camera:{cameras['shared']}", f"camera:{cameras['gangnam']}"]
    )


def test_refusals_say_why_and_are_in_the_ledger(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    operator = _headers(client, platform, "op.refused", ["operator"])
    staff = _headers(client, platform, "staff.jung", ["district_staff"], district=cameras["jung_gu"])
    citizen = _headers(client, platform, "citizen.lee", ["citizen"])
    snap = "/api/v1/cameras/{}/snapshot.jpg"
    cases = [
        (operator, snap.format(10**7), 404, "unknown_camera"),
        (operator, snap.format(cameras["private"]), 403, "camera_not_shared"),
        (staff, snap.format(cameras["gangnam"]), 403, "camera_not_shared"),
        (citizen, snap.format(cameras["shared"]), 403, "forbidden"),
        (operator, f"/api/v1/cameras/{cameras['private']}/live.mjpeg", 403, "camera_not_shared"),
        (operator, f"/api/v1/cameras/{10**7}/live.mjpeg", 404, "unknown_camera"),
    ]
    for headers, url, status, code in cases:
        response = client.get(url, params={"reason": REASON}, headers=headers)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code
    denials = _ledger(platform, "access.denied")
    assert [d.actor for d in denials] == [
        "op.refused",
        "op.refused",
        "staff.jung",
        "citizen.lee",
        *["op.refused"] * 2,
    ]
    assert f"camera {cameras['private']} not shared" in denials[4].reason
    assert _ledger(platform, "cctv.view.snapshot") == []
    assert _ledger(platform, "cctv.view.live") == []
    # district staff do see their own district's private camera
    own = client.get(snap.format(cameras["private"]), params={"reason": REASON}, headers=staff)
    assert own.status_code == 200
    missing = client.get(snap.format(cameras["shared"]), headers=operator)
    assert missing.status_code == 422
    assert "reason" in missing.json()["detail"]


def test_a_wall_with_one_refused_camera_opens_nothing(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    headers = _headers(client, platform, "op.partial", ["operator"])
    ids = f"{cameras['shared']},{cameras['private']}"
    response = client.get("/api/v1/videowall/live", params={"ids": ids, "reason": REASON}, headers=headers)
    assert response.status_code == 403
    assert str(cameras["private"]) in response.json()["detail"]
    assert _ledger(platform, "cctv.view.live") == []
    bad = client.get("/api/v1/videowall/live", params={"ids": "1;2", "reason": REASON}, headers=headers)
    assert bad.status_code == 422
    assert "ids" in bad.json()["detail"]


def test_groups_and_tours(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    operator = _headers(client, platform, "op.groups", ["operator"])
    body = {"name": "시청 앞", "camera_ids": [cameras["shared"], cameras["gangnam"]]}
    created = client.post("/api/v1/videowall/groups", json=body, headers=operator)
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["camera_ids"] == [cameras["shared"], cameras["gangnam"]]
    wrong = client.post(
        "/api/v1/videowall/groups",
        json={"name": "broken", "camera_ids": [cameras["shared"], 10**7]},
        headers=operator,
    )
    assert wrong.status_code == 422
    assert "camera_ids[1]" in wrong.json()["detail"]
    again = client.post("/api/v1/videowall/groups", json=body, headers=operator)
    assert again.status_code == 422
    assert "name" in again.json()["detail"]
    with platform.db.session() as session:
        assert [g.name for g in session.scalars(select(CameraGroup))] == ["시청 앞"]
    tour = client.post(
        "/api/v1/videowall/tours",
        json={"name": "night round", "group_ids": [group["id"]], "layout": 1, "dwell_s": 10},
        headers=operator,
    )
    assert tour.status_code == 201, tour.text
    pages = client.get(f"/api/v1/videowall/tours/{tour.json()['id']}", headers=operator).json()["pages"]
    assert [p["camera_ids"] for p in pages] == [[cameras["shared"]], [cameras["gangnam"]]]
    bad_layout = client.post(
        "/api/v1/videowall/tours",
        json={"name": "odd", "group_ids": [group["id"]], "layout": 5},
        headers=operator,
    )
    assert bad_layout.status_code == 422
    assert "layout" in bad_layout.json()["detail"]
    dispatcher = _headers(client, platform, "police.park", ["dispatcher"])
    refused = client.post("/api/v1/videowall/groups", json={**body, "name": "x"}, headers=dispatcher)
    assert refused.status_code == 403
    assert _ledger(platform, "access.denied")[-1].actor == "police.park"
    assert client.delete(f"/api/v1/videowall/groups/{group['id']}", headers=operator).status_code == 204
    assert client.get(f"/api/v1/videowall/tours/{tour.json()['id']}", headers=operator).json()["pages"] == []
    assert client.delete("/api/v1/videowall/groups/999999", headers=operator).status_code == 404


def test_camera_search_offers_only_cameras_the_viewer_may_see(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    operator = _headers(client, platform, "op.search", ["operator"])
    found = client.get("/api/v1/videowall/cameras", params={"q": "City Hall"}, headers=operator).json()
    assert [c["id"] for c in found] == [cameras["shared"]]  # the private garage camera is not offered
    in_district = client.get(
        "/api/v1/videowall/cameras", params={"district": cameras["jung_gu"]}, headers=operator
    ).json()
    assert {c["id"] for c in in_district} == {cameras["shared"]}
    bad = client.get("/api/v1/videowall/cameras", params={"district": "Jung"}, headers=operator)
    assert bad.status_code == 422
    assert "district" in bad.json()["detail"]


def test_health_and_alarms_with_district_staff_seeing_their_own(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    with platform.db.session() as session:
        for key in ("shared", "gangnam"):
            info = service.camera_info(session, cameras[key])
            assert isinstance(info, CameraInfo)
            service.record_transitions(session, info, "black", [Transition("black", False, "dark")], utcnow())
    operator = _headers(client, platform, "op.health", ["operator"])
    alarms = client.get("/api/v1/videowall/alarms", headers=operator).json()
    assert {a["camera_id"] for a in alarms} == {cameras["shared"], cameras["gangnam"]}
    staff = _headers(client, platform, "staff.alarms", ["district_staff"], district=cameras["jung_gu"])
    own = client.get("/api/v1/videowall/alarms", headers=staff).json()
    assert [a["camera_id"] for a in own] == [cameras["shared"]]
    states = client.get(
        "/api/v1/videowall/health",
        params={"ids": f"{cameras['shared']},{cameras['private']}"},
        headers=operator,
    ).json()
    assert states[str(cameras["shared"])]["problem"] == "black"
    assert states[str(cameras["private"])] == {"name": "City Hall garage", "problem": "unknown"}


def test_an_operator_can_make_a_demo_scene_fail(client: Any, platform: Platform) -> None:
    cameras = _cameras(platform)
    operator = _headers(client, platform, "op.drill", ["operator"])
    url = f"/api/v1/videowall/cameras/{cameras['shared']}/fault"
    assert client.post(url, json={"fault": "black"}, headers=operator).status_code == 200
    dark = client.get(
        f"/api/v1/cameras/{cameras['shared']}/snapshot.jpg", params={"reason": REASON}, headers=operator
    )
    picture = decode_jpeg(dark.content)
    assert picture is not None
    assert np.percentile(picture, 90) < 30
    wrong = client.post(url, json={"fault": "melted"}, headers=operator)
    assert wrong.status_code == 422
    assert "fault" in wrong.json()["detail"]
    assert _ledger(platform, "videowall.fault.set")[0].actor == "op.drill"


def test_a_monitored_camera_shows_the_stream_its_analysis_reads_as_it_came(
    client: Any, platform: Platform
) -> None:
    """The wall relays the analysed MJPEG stream's own JPEG parts (no decode, no re-encode), so
    the analysis's boxes fit the tile; a camera not monitored keeps its usual picture."""
    cameras = _cameras(platform)
    streams = StreamServer().start()
    try:
        with platform.db.session() as session:
            monitoring.watch_camera(session, cameras["shared"], streams.url("idle-5"), actor="test")
        headers = _headers(client, platform, "op.relay", ["operator"])
        ids = f"{cameras['shared']},{cameras['gangnam']}"
        with client.stream(
            "GET", "/api/v1/videowall/live", params={"ids": ids, "reason": REASON}, headers=headers
        ) as response:
            parts = _parts(response, 10)
        sent = set(idle_frames(5))
        relayed = [body for head, body in parts if int(head["x-camera-id"]) == cameras["shared"]]
        others = [body for head, body in parts if int(head["x-camera-id"]) == cameras["gangnam"]]
        assert relayed
        assert others
        assert all(body in sent for body in relayed)  # byte for byte what the stream sent
        picture = decode_jpeg(relayed[0])
        assert picture is not None
        assert picture.shape[1::-1] == SCENE_SIZE
        other = decode_jpeg(others[0])
        assert other is not None
        assert other.shape[1::-1] != SCENE_SIZE

        snapshot = client.get(
            f"/api/v1/cameras/{cameras['shared']}/snapshot.jpg", params={"reason": REASON}, headers=headers
        )
        assert snapshot.status_code == 200
        assert snapshot.content in sent
        drill = client.post(
            f"/api/v1/videowall/cameras/{cameras['shared']}/fault", json={"fault": "black"}, headers=headers
        )
        assert drill.status_code == 409  # a drill would not change the analysed stream
    finally:
        streams.stop()
