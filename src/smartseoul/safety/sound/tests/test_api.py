"""The sound API as operators, admins, microphones and strangers use it: roles on every endpoint,
bad input named by field, PCM over HTTP and WebSocket, the clip (audited), thresholds, health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from conftest import make_account, run_async, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.safety.sound import runtime
from smartseoul.safety.sound.models import SoundDevice
from smartseoul.safety.sound.service import default_thresholds
from smartseoul.safety.sound.tests.helpers import ScriptedModel, pcm, plain_calibration, tone

CITY_HALL = {"lat": 37.5665, "lon": 126.9780}


@pytest.fixture(autouse=True)
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    """The detector's plumbing under test, not the model: loud means scream."""
    model = ScriptedModel()
    monkeypatch.setattr(runtime, "shipped", lambda: model)
    plain_calibration(monkeypatch)
    return model


@pytest.fixture
def platform(platform: Platform) -> Platform:
    platform.settings.sound_workers = False
    platform.settings.incidents_workers = False
    return platform


def bearer(client: Any, platform: Platform, name: str, roles: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client, make_account(platform.db, name, roles))}"}


def add_mic(client: Any, headers: dict[str, str], device_id: str = "mic-1", **extra: Any) -> dict[str, Any]:
    body = {"id": device_id, **CITY_HALL, **extra}
    response = client.post("/api/v1/sound/devices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def loud_second() -> bytes:
    return pcm(tone(900, 1.0, 0.5))


def test_roles_and_bad_input_on_every_endpoint(client: Any, platform: Platform) -> None:
    admin = bearer(client, platform, "sound-admin", ["admin"])
    operator = bearer(client, platform, "sound-op", ["operator"])
    citizen = bearer(client, platform, "sound-citizen", ["citizen"])
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged"}
    created = add_mic(client, admin)
    assert created["key"].startswith("snd_")
    assert created["district_code"] == "11020"
    calls = [
        ("get", "/api/v1/sound/devices", None),
        ("post", "/api/v1/sound/devices", {"id": "mic-2", **CITY_HALL}),
        ("put", "/api/v1/sound/devices/mic-1/thresholds", {"thresholds": {"scream": 0.7}}),
        ("get", "/api/v1/sound/detections", None),
        ("get", "/api/v1/sound/detections/1/clip.wav", None),
        ("get", "/api/v1/stream/sound", None),
    ]
    for method, url, body in calls:
        for headers, status in (({}, 401), (forged, 401), (citizen, 403)):
            answer = getattr(client, method)(url, headers=headers, **({"json": body} if body else {}))
            assert answer.status_code == status, (method, url, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
    # an operator may tune thresholds but not add microphones
    assert (
        client.post("/api/v1/sound/devices", json={"id": "mic-3", **CITY_HALL}, headers=operator).status_code
        == 403
    )
    bad = [
        ({"id": "mic-1", **CITY_HALL}, "device_id"),
        ({"id": "mic-4", "kind": "bell", "bell_id": "NO-SUCH-BELL"}, "bell_id"),
        ({"id": "mic-5", "kind": "camera", "camera_id": 999999}, "camera_id"),
        ({"id": "mic-6", "lat": 37.5}, "lat/lon"),
    ]
    for body, field in bad:
        answer = client.post("/api/v1/sound/devices", json=body, headers=admin)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
    answer = client.post("/api/v1/sound/devices", json={"id": "bad id!", **CITY_HALL}, headers=admin)
    assert answer.status_code == 422
    assert "id" in answer.json()["detail"]
    for thresholds, field in (({"yelling": 0.5}, "thresholds.yelling"), ({"scream": 2}, "thresholds.scream")):
        answer = client.put(
            "/api/v1/sound/devices/mic-1/thresholds", json={"thresholds": thresholds}, headers=operator
        )
        assert answer.status_code == 422
        assert answer.json()["field"] == field
    answer = client.put("/api/v1/sound/devices/nope/thresholds", json={"thresholds": {}}, headers=operator)
    assert answer.status_code == 404
    answer = client.put(
        "/api/v1/sound/devices/mic-1/thresholds", json={"thresholds": {"siren": 0.95}}, headers=operator
    )
    assert answer.status_code == 200
    assert answer.json()["thresholds"]["siren"] == 0.95
    # the other classes keep their default: the calibrated per-class threshold
    assert answer.json()["thresholds"]["scream"] == default_thresholds(platform.settings)["scream"]


def test_microphones_post_and_stream_pcm_an_auditor_plays_the_clip_and_silence_is_a_fault(
    client: Any, platform: Platform
) -> None:
    admin = bearer(client, platform, "sound-admin2", ["admin"])
    auditor = bearer(client, platform, "sound-auditor", ["auditor"])
    key = add_mic(client, admin, "mic-http", sample_rate=44100)["key"]
    url = "/api/v1/sound/devices/mic-http/audio"
    assert client.post(url, content=loud_second(), headers={"X-Device-Key": "snd_wrong"}).status_code == 401
    assert client.post(url, content=loud_second()).status_code == 401
    assert client.post(url, content=b"\0" * 800_000, headers={"X-Device-Key": key}).status_code == 413
    quiet = client.post(url, content=pcm(tone(300, 1.0, 0.001)), headers={"X-Device-Key": key})
    assert quiet.status_code == 200
    assert quiet.json()["detections"] == []
    torn = loud_second() + b"\x01"  # a torn packet: still heard, counted as corrupt
    found = []
    for _ in range(3):
        found += client.post(url + "?rate=16000", content=torn, headers={"X-Device-Key": key}).json()[
            "detections"
        ]
    assert [d["label"] for d in found] == ["scream"]
    assert runtime.hub_of(platform).states["mic-http"].corrupt_packets == 3
    listed = client.get("/api/v1/sound/detections?device=mic-http", headers=auditor).json()
    assert listed[0]["label"] == "scream"
    assert listed[0]["clip_url"].endswith("/clip.wav")
    clip = client.get(listed[0]["clip_url"], headers=auditor)
    assert clip.status_code == 200
    assert clip.headers["content-type"] == "audio/wav"
    assert clip.content[:4] == b"RIFF"
    assert client.get("/api/v1/sound/detections/99999/clip.wav", headers=auditor).status_code == 404
    assert client.get("/api/v1/sound/detections?label=yelling", headers=auditor).status_code == 422
    with platform.db.session() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "sound.clip.read")).all()
        assert [(r.actor, r.target) for r in reads] == [
            ("sound-auditor", f"sound_detection:{listed[0]['id']}")
        ]

    # the same microphones stream over a WebSocket
    key = add_mic(client, admin, "mic-ws")["key"]
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/api/v1/sound/stream/mic-ws?key=snd_wrong") as socket,
    ):
        socket.receive_json()
    assert refused.value.code == 1008
    with client.websocket_connect(f"/api/v1/sound/stream/mic-ws?key={key}") as socket:
        socket.send_bytes(pcm(tone(300, 1.0, 0.001)))
        socket.send_bytes(loud_second())
        answer = socket.receive_json()
    assert answer["detection"]["label"] == "scream"
    assert answer["detection"]["device_id"] == "mic-ws"

    # and one that stops sending gets a health fault, raised once, cleared by audio
    key = add_mic(client, admin, "mic-quiet")["key"]
    client.post(
        "/api/v1/sound/devices/mic-quiet/audio",
        content=pcm(tone(300, 0.5, 0.01)),
        headers={"X-Device-Key": key},
    )
    hub = runtime.hub_of(platform)
    later = utcnow() + timedelta(seconds=platform.settings.sound_silent_after_s + 5)
    events = run_async(hub.check_silent_once(later))
    assert sorted((e.data()["device_id"], e.data()["health"]) for e in events) == [
        ("mic-http", "silent"),
        ("mic-quiet", "silent"),
        ("mic-ws", "silent"),
    ]
    assert run_async(hub.check_silent_once(later)) == []  # raised once, not every sweep
    hub.states["mic-quiet"].last_touch = 0.0
    client.post(
        "/api/v1/sound/devices/mic-quiet/audio",
        content=pcm(tone(300, 0.5, 0.01)),
        headers={"X-Device-Key": key},
    )
    with platform.db.session() as session:
        assert session.get(SoundDevice, "mic-quiet").health == "ok"  # type: ignore[union-attr]
