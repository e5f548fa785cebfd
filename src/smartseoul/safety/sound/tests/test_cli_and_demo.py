"""The demo as someone runs it: the demo seed puts microphones on demo bells, `smartseoul sound ...`
lists and adds them, `sound classify` runs the SHIPPED model over a recording; and the simulator's
scream near a demo bell is heard by the shipped model (the demo's promise)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

from conftest import run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.safety.incidents import bells
from smartseoul.safety.sound import service, simulate
from smartseoul.safety.sound.detector import StreamDetector, wav_bytes
from smartseoul.safety.sound.features import SAMPLE_RATE
from smartseoul.safety.sound.model import shipped
from smartseoul.safety.sound.tests.test_detector import T0


def test_demo_seed_puts_microphones_on_bells(platform: Platform) -> None:
    with platform.db.session() as session:
        for number in range(8):
            bells.add_bell(session, f"B-DEMO-{number}", 37.5665 + number * 0.001, 126.978, actor="test")
        assert simulate.seed_demo(platform, session) == []
        simulate.seed_demo(platform, session)  # a second seed adds nothing
    with platform.db.session() as session:
        devices = service.list_devices(session)
        assert len(devices) == simulate.DEMO_DEVICES
        assert all(d.kind == "bell" and d.bell_id and d.district_code for d in devices)


def test_the_cli_lists_adds_and_classifies_a_recording(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path), "USER": "sound.admin"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    added = run_cli("sound", "add", "mic-cli-1", "--lat", "37.5665", "--lon", "126.978", env=env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["key"].startswith("snd_")
    devices = json.loads(run_cli("sound", "devices", "--json", env=env).stdout)
    assert [d["id"] for d in devices] == ["mic-cli-1"]
    refused = run_cli("sound", "add", "mic-cli-2", "--bell", "NO-SUCH-BELL", env=env)
    assert refused.returncode == 2
    assert "bell_id" in refused.stderr

    recording = tmp_path / "street.wav"
    rng = np.random.default_rng(4)
    audio = np.concatenate([simulate.scene(rng, None, 3.0), simulate.scene(rng, "scream", 3.0, snr_db=12.0)])
    recording.write_bytes(wav_bytes(audio))
    with wave.open(str(recording)) as check:
        assert check.getnframes() == 6 * SAMPLE_RATE
    result = run_cli("sound", "classify", str(recording), "--json", env=env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["seconds"] == 6.0
    assert [d["label"] for d in found["detections"]] == ["scream"]
    assert 4.0 <= found["detections"][0]["at_s"] <= 5.5  # the scream starts at 4 s


def test_the_shipped_model_hears_each_demo_event_and_not_the_demo_street() -> None:
    model = shipped()
    rng = np.random.default_rng(8)
    for label in ("scream", "shout_help", "gunshot", "glass", "siren"):
        detector = StreamDetector(model, cooldown_s=30)  # the shipped (calibrated) defaults
        hits = detector.feed(simulate.scene(rng, label, 3.0, snr_db=15.0), T0)
        assert label in {h.label for h in hits}, (label, [(h.label, h.confidence) for h in hits])
    quiet = StreamDetector(model)
    assert quiet.feed(simulate.scene(rng, None, 30.0), T0) == []


def test_a_simulated_scream_near_a_demo_bell_turns_the_nearest_camera(platform: Platform) -> None:
    """The demo's promise, with the SHIPPED model and the simulator's own generator."""
    import asyncio
    import random

    from smartseoul.core.events import Event
    from smartseoul.safety.cctv.tests.helpers import JUNG_CENTRE, add_camera, offset
    from smartseoul.safety.sound.tests.test_incident_path import _wait_for

    platform.settings.sound_workers = False
    with platform.db.session() as session:
        near = add_camera(session, at=offset(*JUNG_CENTRE, north_m=25, east_m=0), direction_deg=180.0).id
        bells.add_bell(session, "B-DEMO-SCREAM", *JUNG_CENTRE, actor="test")
        simulate.seed_demo(platform, session)
    aimed: list[Event] = []
    heard: list[Event] = []

    async def scenario() -> None:
        await platform.start()
        try:

            async def on_aimed(event: Event) -> None:
                aimed.append(event)

            async def on_heard(event: Event) -> None:
                heard.append(event)

            await platform.bus.subscribe("safety.cameras.aimed.v1", on_aimed)
            await platform.bus.subscribe("sound.detection.v1", on_heard)
            assert await simulate._stream(platform, random.Random(3), "scream") is None
            await _wait_for(aimed)
            await asyncio.sleep(0.2)
        finally:
            await platform.close()

    run_async(scenario())
    assert [e.data()["label"] for e in heard] == ["scream"]
    assert near in aimed[0].data()["camera_ids"]
