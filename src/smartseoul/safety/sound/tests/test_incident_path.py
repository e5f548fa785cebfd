"""End to end on the in-process bus: a scream at a bell's microphone becomes ``sound.detection.v1``,
the incident desk opens an incident at the bell, and the cctv domain turns the nearest camera.
Also the bell microphones' MQTT path against the real Mosquitto."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from conftest import require_service, run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event
from smartseoul.safety.cctv.tests.helpers import JUNG_CENTRE, add_camera, offset
from smartseoul.safety.incidents import bells
from smartseoul.safety.incidents.models import Incident
from smartseoul.safety.sound import runtime, service
from smartseoul.safety.sound.tests.helpers import ScriptedModel, pcm, plain_calibration, tone


@pytest.fixture(autouse=True)
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    model = ScriptedModel()
    monkeypatch.setattr(runtime, "shipped", lambda: model)
    plain_calibration(monkeypatch)
    return model


def _bell_with_microphone(platform: Platform, bell_id: str) -> tuple[int, int]:
    with platform.db.session() as session:
        near = add_camera(session, at=offset(*JUNG_CENTRE, north_m=30, east_m=0), direction_deg=180.0).id
        far = add_camera(session, at=offset(*JUNG_CENTRE, north_m=900, east_m=900), direction_deg=0.0).id
        lat, lon = offset(*JUNG_CENTRE, north_m=5, east_m=5)
        bells.add_bell(session, bell_id, lat, lon, actor="test", camera_ids=[])
        service.add_device(
            session, service.DeviceSpec(device_id=f"mic-{bell_id}", kind="bell", bell_id=bell_id), "test"
        )
    return near, far


async def _wait_for(found: list[Event], count: int = 1, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if len(found) >= count:
            return
        await asyncio.sleep(0.05)


def test_a_scream_at_a_bell_opens_an_incident_and_turns_the_nearest_camera(platform: Platform) -> None:
    platform.settings.sound_workers = False
    near, far = _bell_with_microphone(platform, "B-SND-1")
    seen: dict[str, list[Event]] = {
        "sound.detection.v1": [],
        "safety.incident.opened.v1": [],
        "safety.cameras.aimed.v1": [],
    }

    async def scenario() -> None:
        await platform.start()
        try:
            for name, bucket in seen.items():

                async def collect(event: Event, bucket: list[Event] = bucket) -> None:
                    bucket.append(event)

                await platform.bus.subscribe(name, collect)
            hub = runtime.hub_of(platform)
            await hub.feed_pcm("mic-B-SND-1", pcm(tone(300, 2.0, 0.005)))
            await hub.feed_pcm("mic-B-SND-1", pcm(tone(900, 1.0, 0.5)))
            await _wait_for(seen["safety.cameras.aimed.v1"])
        finally:
            await platform.close()

    run_async(scenario())
    detection: dict[str, Any] = seen["sound.detection.v1"][0].data()
    assert (detection["label"], detection["bell_id"]) == ("scream", "B-SND-1")
    opened = seen["safety.incident.opened.v1"][0].data()
    assert (opened["kind"], opened["priority"], opened["origin"]) == ("sound_scream", 1, "sound")
    aimed = seen["safety.cameras.aimed.v1"][0].data()
    assert near in aimed["camera_ids"]
    assert far not in aimed["camera_ids"]
    with platform.db.session() as session:
        incident = session.scalars(select(Incident).where(Incident.source == "sound")).one()
        assert incident.bell_id == "B-SND-1"
        assert near in incident.camera_ids


def test_bell_microphones_stream_over_mqtt(platform: Platform) -> None:
    require_service("mqtt")
    import aiomqtt

    platform.settings.sound_mqtt_url = "mqtt://127.0.0.1:1883"
    platform.settings.sound_workers = True
    _bell_with_microphone(platform, "B-SND-MQTT")
    found: list[Event] = []

    async def scenario() -> None:
        await platform.start()
        try:

            async def collect(event: Event) -> None:
                found.append(event)

            await platform.bus.subscribe("sound.detection.v1", collect)
            await asyncio.sleep(0.5)  # the hub subscribes in the background
            async with aiomqtt.Client("127.0.0.1", 1883, identifier="sound-test-bell") as bell:
                for packet in (
                    pcm(tone(300, 1.0, 0.005)),
                    pcm(tone(900, 1.0, 0.5)),
                    pcm(tone(900, 0.5, 0.5)),
                ):
                    await bell.publish("smartseoul/bells/B-SND-MQTT/audio", packet, qos=1)
                await bell.publish("smartseoul/bells/NOT-REGISTERED/audio", pcm(tone(900, 1.0, 0.5)), qos=1)
            await _wait_for(found)
            await asyncio.sleep(0.3)
        finally:
            await platform.close()

    run_async(scenario())
    assert [(e.data()["device_id"], e.data()["label"]) for e in found] == [("mic-B-SND-MQTT", "scream")]


def test_a_camera_microphone_is_read_from_its_stream_and_names_the_camera(
    platform: Platform, tmp_path: Any
) -> None:
    from smartseoul.safety.sound.tests.test_ingest import _write_media

    platform.settings.sound_workers = False
    media = tmp_path / "camera.m4a"
    _write_media(media, 44100, 2.0)  # a 1 kHz tone at half scale: loud, so the scripted model hears a scream
    with platform.db.session() as session:
        camera = add_camera(session, at=JUNG_CENTRE, direction_deg=0.0).id
        spec = service.DeviceSpec(device_id="mic-cam", kind="camera", camera_id=camera, stream_url=str(media))
        service.add_device(session, spec, "test")
    found: list[Event] = []

    async def scenario() -> None:
        await platform.bus.start()
        try:

            async def collect(event: Event) -> None:
                found.append(event)

            await platform.bus.subscribe("sound.detection.v1", collect)
            reader = asyncio.create_task(runtime.hub_of(platform).read_camera("mic-cam", str(media)))
            await _wait_for(found)
            reader.cancel()
        finally:
            await platform.bus.close()

    run_async(scenario())
    data = found[0].data()
    assert (data["device_kind"], data["camera_id"], data["label"]) == ("camera", camera, "scream")
