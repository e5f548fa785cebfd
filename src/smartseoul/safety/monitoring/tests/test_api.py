"""The monitoring API on both databases: roles and sharing on every endpoint, rules refused naming
the field, snapshots as recorded views, verdicts that tune the camera, the share in /metrics, and
the engine turning worker reports into stored detections and health alarms."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.safety.cctv import sharing
from smartseoul.safety.cctv.seed import DEMO_POLICIES
from smartseoul.safety.cctv.tests.helpers import GANGNAM_STATION, add_camera
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.engine import Engine, engine_of
from smartseoul.safety.monitoring.models import Detection
from smartseoul.safety.videowall import service as wall
from smartseoul.safety.videowall.models import HealthAlarm
from smartseoul.safety.videowall.scenes import encode_jpeg

REASON = "incident 12: loitering reported"
ZONE = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]


@pytest.fixture
def client(platform: Platform) -> Iterator[Any]:
    """The app with monitoring off in this process: the API works, no worker process starts."""
    from fastapi.testclient import TestClient

    from smartseoul.web.app import create_app

    platform.settings.monitoring_enabled = False
    with TestClient(create_app(platform), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _setup(platform: Platform) -> dict[str, Any]:
    with platform.db.session() as session:
        for policy in DEMO_POLICIES:
            sharing.add_policy(session, actor="test", **policy)
        shared = add_camera(session, shared=True, name="City Hall plaza")
        private = add_camera(session, at=GANGNAM_STATION, shared=False, name="COEX garage")
        service.watch_camera(session, shared.id, "http://127.0.0.1:9/streams/vtest.mjpeg")
        service.watch_camera(session, private.id, "http://127.0.0.1:9/streams/idle-1.mjpeg")
        return {"shared": shared.id, "private": private.id, "gangnam": private.district_code}


def _headers(
    client: Any, platform: Platform, name: str, roles: list[str], district: str | None = None
) -> Any:
    account = make_account(platform.db, name, roles, district_code=district)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def _ledger(platform: Platform, action: str) -> list[AuditEntry]:
    with platform.db.session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def _detection(platform: Platform, camera_id: int, confidence: float) -> int:
    now = utcnow()
    fired = service.Fired(
        camera_id, None, "loitering", 3, confidence, "in the zone for 31 s", now - timedelta(seconds=31), now
    )
    jpeg = encode_jpeg(np.full((90, 160, 3), 120, np.uint8))
    with platform.db.session() as session:
        return service.record_detection(session, fired, jpeg, platform.settings.data_dir).id


def test_every_endpoint_refuses_no_token_a_forged_one_and_the_wrong_role(
    client: Any, platform: Platform
) -> None:
    cameras = _setup(platform)
    citizen = _headers(client, platform, "citizen1", ["citizen"])
    forged = {"Authorization": "Bearer not-a-real-token"}
    shared = cameras["shared"]
    calls = [
        ("GET", "/api/v1/monitoring/status", None),
        ("GET", f"/api/v1/monitoring/cameras/{shared}/tracks", None),
        ("GET", f"/api/v1/monitoring/tracks?ids={shared}", None),
        ("GET", f"/api/v1/monitoring/cameras/{shared}/rules", None),
        ("POST", f"/api/v1/monitoring/cameras/{shared}/rules", {"kind": "loitering", "zone": ZONE}),
        ("PUT", f"/api/v1/monitoring/cameras/{shared}", {"stream_url": ""}),
        ("GET", "/api/v1/monitoring/detections", None),
        ("GET", f"/api/v1/monitoring/detections/1/snapshot.jpg?reason={REASON}", None),
        ("POST", "/api/v1/monitoring/detections/1/verdict", {"verdict": "correct"}),
    ]
    for method, url, body in calls:
        assert client.request(method, url, json=body).status_code == 401, url
        assert client.request(method, url, json=body, headers=forged).status_code == 401, url
        refused = client.request(method, url, json=body, headers=citizen)
        assert refused.status_code == 403, url
        assert refused.headers["content-type"].startswith("application/problem+json")
    dispatcher = _headers(client, platform, "dispatch1", ["dispatcher"])
    assert (
        client.post(
            f"/api/v1/monitoring/cameras/{shared}/rules",
            json={"kind": "loitering", "zone": ZONE},
            headers=dispatcher,
        ).status_code
        == 403
    )
    denied = [e for e in _ledger(platform, "access.denied") if e.actor in ("citizen1", "dispatch1")]
    assert len(denied) == len(calls) + 1  # every refusal of a signed-in person is in the ledger


def test_cameras_and_rules_are_checked_naming_the_field_and_reach_the_camera(
    client: Any, platform: Platform
) -> None:
    cameras = _setup(platform)
    operator = _headers(client, platform, "op1", ["operator"])
    url = f"/api/v1/monitoring/cameras/{cameras['shared']}/rules"
    bad = [
        ({"kind": "teleport", "zone": ZONE}, "kind"),
        ({"kind": "loitering", "zone": [[0, 0], [2, 0], [1, 1]]}, "zone[1]"),
        ({"kind": "loitering", "zone": ZONE, "params": {"dwell_s": 0}}, "params.dwell_s"),
        ({"kind": "intrusion", "zone": ZONE, "start": "7pm", "end": "06:00"}, "start"),
        (
            {"kind": "vehicle_stopped", "zone": ZONE, "params": {"min_ratio": 4, "max_ratio": 1}},
            "params.max_ratio",
        ),
    ]
    for body, field in bad:
        refused = client.post(url, json=body, headers=operator)
        assert refused.status_code == 422, body
        assert refused.json()["field"] == field
        assert field in refused.json()["detail"]
    missing = client.post(url, json={"zone": ZONE}, headers=operator)
    assert missing.status_code == 422
    assert "kind" in missing.text
    created = client.post(
        url,
        json={"kind": "loitering", "zone": ZONE, "params": {"dwell_s": 20}, "name": "보도"},
        headers=operator,
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["params"] == {"dwell_s": 20.0}
    assert rule["zone"] == ZONE
    assert [r["id"] for r in client.get(url, headers=operator).json()] == [rule["id"]]
    with platform.db.session() as session:
        row = session.get(service.MonitoredCamera, cameras["shared"])
        assert row is not None
        job = service.job_of(session, row)
    assert [r.kind for r in job.rules] == ["loitering"]
    assert job.url.endswith("vtest.mjpeg")
    assert client.delete(f"{url}/{rule['id']}", headers=operator).status_code == 204
    assert client.delete(f"{url}/{rule['id']}", headers=operator).status_code == 404
    assert client.get(url, headers=operator).json() == []
    # the default person detector sees no vehicle, but every pipeline finds stopped objects
    vehicle = client.post(url, json={"kind": "vehicle_stopped", "zone": ZONE}, headers=operator)
    assert vehicle.status_code == 201, vehicle.text
    assert vehicle.json()["params"]["stopped_s"] == 60.0
    assert client.delete(f"{url}/{vehicle.json()['id']}", headers=operator).status_code == 204
    assert _ledger(platform, "monitoring.rule.add")
    assert _ledger(platform, "monitoring.rule.delete")
    # watching a camera: it must exist and its stream must be a URL the workers can read
    assert (
        client.put("/api/v1/monitoring/cameras/999999", json={"stream_url": ""}, headers=operator).status_code
        == 404
    )
    not_a_stream = client.put(
        f"/api/v1/monitoring/cameras/{cameras['shared']}", json={"stream_url": "ftp://x"}, headers=operator
    )
    assert not_a_stream.status_code == 422
    assert not_a_stream.json()["field"] == "stream_url"
    with platform.db.session() as session:
        other = add_camera(session, shared=True).id
    unmonitored = client.post(
        f"/api/v1/monitoring/cameras/{other}/rules",
        json={"kind": "loitering", "zone": ZONE},
        headers=operator,
    )
    assert unmonitored.status_code == 422
    assert unmonitored.json()["field"] == "camera_id"
    ok = client.put(
        f"/api/v1/monitoring/cameras/{other}", json={"stream_url": "rtsp://10.0.0.9/sub"}, headers=operator
    )
    assert ok.status_code == 200
    assert ok.json()["threshold"] == 0.5


def test_snapshots_are_recorded_views_and_verdicts_tune_the_camera(client: Any, platform: Platform) -> None:
    cameras = _setup(platform)
    operator = _headers(client, platform, "op2", ["operator"])
    staff = _headers(client, platform, "staff2", ["district_staff"], district=cameras["gangnam"])
    first = _detection(platform, cameras["shared"], 0.62)
    hidden = _detection(platform, cameras["private"], 0.9)
    listed = client.get("/api/v1/monitoring/detections", headers=operator).json()
    assert {d["id"] for d in listed} == {first, hidden}  # operators see every detection
    assert (
        client.get(f"/api/v1/monitoring/detections?camera_id={cameras['shared']}", headers=staff).status_code
        == 403
    )
    assert [d["id"] for d in client.get("/api/v1/monitoring/detections", headers=staff).json()] == [hidden]
    url = f"/api/v1/monitoring/detections/{first}/snapshot.jpg"
    assert client.get(url, headers=operator).status_code == 422  # a view needs a reason
    picture = client.get(url, params={"reason": REASON}, headers=operator)
    assert picture.status_code == 200
    assert picture.content.startswith(b"\xff\xd8")
    views = _ledger(platform, "cctv.view.snapshot")
    assert [(v.actor, v.target, v.reason) for v in views] == [("op2", f"camera:{cameras['shared']}", REASON)]
    assert client.get(url, params={"reason": REASON}, headers=staff).status_code == 403
    assert (
        client.get(
            "/api/v1/monitoring/detections/99999/snapshot.jpg", params={"reason": REASON}, headers=operator
        ).status_code
        == 404
    )
    verdict_url = f"/api/v1/monitoring/detections/{first}/verdict"
    bad = client.post(verdict_url, json={"verdict": "maybe"}, headers=operator)
    assert bad.status_code == 422
    assert bad.json()["field"] == "verdict"
    judged = client.post(verdict_url, json={"verdict": "false_positive"}, headers=operator)
    assert judged.status_code == 200
    assert judged.json()["camera_threshold"] == 0.63
    with platform.db.session() as session:
        assert session.get(service.MonitoredCamera, cameras["shared"]).threshold == 0.63  # type: ignore[union-attr]
        assert session.get(Detection, first).verdict_by == "op2"  # type: ignore[union-attr]


def _login(client: Any, platform: Platform, name: str, roles: list[str]) -> None:
    """A browser-style sign-in (session cookie), with the one-time code where the role needs it."""
    account = make_account(platform.db, name, roles)
    client.get("/login")
    form = {"username": name, "password": account.password, "csrf_token": client.cookies.get("ss_csrf")}
    if account.totp_secret:
        form["otp"] = account.otp()
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_status_page_and_metrics_show_the_share(client: Any, platform: Platform) -> None:
    cameras = _setup(platform)
    _login(client, platform, "op3", ["operator"])
    status = client.get("/api/v1/monitoring/status").json()
    assert status["cameras_listed"] == 2
    with platform.db.session() as session:  # the plan's denominator: every shared active camera
        shared = service.shared_camera_count(session)
    assert shared >= 1
    assert status["cameras_shared"] == shared
    # at most the cameras under monitoring count, however many the registry shares
    assert 0.0 <= status["shared_monitored_share"] <= status["cameras_listed"] / shared
    assert status["monitored_share"] == 1.0
    assert "smartseoul_monitoring_monitored_share 1.0" in client.get("/metrics").text
    page = client.get("/console/monitoring", headers={"accept-language": "ko"})
    assert page.status_code == 200
    assert f"#{cameras['shared']} City Hall plaza" in page.text
    assert "영상 자동감시" in page.text
    assert "규칙 저장" in page.text
    assert '<option value="vehicle_stopped">차량 정차</option>' in page.text  # back in the editor
    assert f"#{cameras['private']}" not in page.text  # not shared with operators
    client.cookies.clear()
    _login(client, platform, "citizen3", ["citizen"])
    assert client.get("/console/monitoring", headers={"accept": "text/html"}).status_code == 403


def test_the_engine_stores_what_workers_report(platform: Platform) -> None:
    cameras = _setup(platform)
    engine = Engine(platform)
    now = utcnow()
    jpeg = encode_jpeg(np.full((90, 160, 3), 80, np.uint8))
    tracks = [(4, "person", 0.81, (0.1, 0.2, 0.3, 0.9))]
    hits = [(None, "crowding", 0, 0.7, now.timestamp() - 5, "6 people (limit 5)")]
    engine.handle(("analysis", cameras["shared"], now.isoformat(), tracks, hits, [], jpeg))
    engine.handle(("health", cameras["shared"], [("offline", False, "cannot connect: ConnectError")]))
    live = engine.tracks(cameras["shared"])
    assert live["tracks"] == [
        {"id": 4, "label": "person", "score": 0.81, "box": [0.1, 0.2, 0.3, 0.9], "hits": []}
    ]
    assert live["alerts"] == ["crowding"]  # a crowd is about the whole picture, not one box
    with platform.db.session() as session:
        stored = service.list_detections(session, cameras["shared"])
        assert [(d.kind, d.detail) for d in stored] == [("crowding", "6 people (limit 5)")]
        assert 4.5 <= (stored[0].ended_at - stored[0].started_at).total_seconds() <= 5.5
        assert service.snapshot_bytes(stored[0], platform.settings.data_dir) == jpeg
        alarm = session.scalars(select(HealthAlarm).where(HealthAlarm.camera_id == cameras["shared"])).one()
        assert (alarm.problem, alarm.detail) == ("offline", "cannot connect: ConnectError")
    loiter = [(None, "loitering", 4, 0.8, now.timestamp() - 12, "in the zone for 12 s")]
    engine.handle(("analysis", cameras["shared"], now.isoformat(), tracks, loiter, [], jpeg))
    engine.handle(("analysis", cameras["shared"], now.isoformat(), tracks, [], [], jpeg))
    assert engine.tracks(cameras["shared"])["tracks"][0]["hits"] == ["loitering"]  # while it lives


def test_the_wall_gets_the_boxes_of_all_its_tiles_in_one_answer(client: Any, platform: Platform) -> None:
    cameras = _setup(platform)
    with platform.db.session() as session:
        plain = add_camera(session, shared=True, name="Not monitored").id
    engine = engine_of(platform)  # as if the workers held both monitored cameras
    engine.supervisor = cast(Any, SimpleNamespace(jobs=dict.fromkeys(cameras.values()), stop=lambda: None))
    tracks = [(4, "person", 0.81, (0.1, 0.2, 0.3, 0.9)), (5, "person", 0.7, (0.5, 0.2, 0.6, 0.8))]
    engine.handle(("analysis", cameras["shared"], utcnow().isoformat(), tracks, [], [], None))
    _login(client, platform, "op.tiles", ["operator"])
    ids = f"{cameras['shared']},{cameras['private']},{plain}"
    answer = client.get("/api/v1/monitoring/tracks", params={"ids": ids}).json()
    watched = answer[str(cameras["shared"])]
    assert watched["monitored"] is True
    assert [(t["id"], t["box"]) for t in watched["tracks"]] == [
        (4, [0.1, 0.2, 0.3, 0.9]),
        (5, [0.5, 0.2, 0.6, 0.8]),
    ]
    assert answer[str(plain)] == {
        "camera_id": plain,
        "monitored": False,
        "analysed_at": None,
        "tracks": [],
        "alerts": [],
    }
    assert str(cameras["private"]) not in answer  # not shared with operators: no boxes either
    bad = client.get("/api/v1/monitoring/tracks", params={"ids": "1,two"})
    assert bad.status_code == 422


def test_the_demo_watches_shared_cameras_on_the_stream_server_with_rules(platform: Platform) -> None:
    from smartseoul.safety.monitoring.seed import WALL_GROUP, seed_demo

    with platform.db.session() as session:
        shared = [add_camera(session, shared=True).id for _ in range(5)]
        add_camera(session, shared=False)
        assert seed_demo(platform, session) == []
        rows = service.monitored(session)
        assert [r.camera_id for r in rows] == shared
        port = platform.settings.monitoring_stream_port
        assert rows[0].stream_url == f"http://127.0.0.1:{port}/streams/vtest.mjpeg?offset=0"
        assert rows[3].stream_url.endswith(f"/streams/scene-{shared[3]}.mjpeg")
        assert rows[4].stream_url.endswith(f"/streams/idle-{shared[4]}.mjpeg")
        kinds = [sorted(r.kind for r in service.rules_of(session, c)) for c in shared]
        groups = {g.name: wall.group_cameras(session, g.id) for g in wall.list_groups(session)}
        tile = wall.camera_info(session, shared[0])
        assert seed_demo(platform, session) == []  # a second seed adds no second group
        assert len(wall.list_groups(session)) == 1
    assert kinds[0] == ["crowding", "intrusion", "loitering", "running"]
    assert kinds[3] == kinds[4] == []
    assert groups == {WALL_GROUP: shared}  # the wall opens on the monitored cameras
    assert tile is not None
    assert tile.stream_url == rows[0].stream_url
