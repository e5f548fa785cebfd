"""The health detectors on real frames: each fault of a camera is found, a healthy street is not.

Frames go through JPEG and back, as the monitor sees them from a camera.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartseoul.safety.videowall.health import (
    HealthState,
    Measures,
    Reference,
    Thresholds,
    Transition,
    classify,
    make_reference,
    measure,
)
from smartseoul.safety.videowall.scenes import Frame, Scene, decode_jpeg, encode_jpeg

START = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
THRESHOLDS = Thresholds()


def _seen(scene: Scene, when: datetime) -> Frame:
    image = scene.render(when)
    assert image is not None
    decoded = decode_jpeg(encode_jpeg(image))
    assert decoded is not None
    return decoded


def _verdicts(scene: Scene, reference: Reference, looks: int, start: datetime = START) -> list[str]:
    previous = None
    found = []
    for second in range(looks):
        measures, previous = measure(_seen(scene, start + timedelta(seconds=second)), previous, reference)
        found.append(classify(measures, reference, THRESHOLDS)[0])
    return found


@pytest.mark.parametrize("camera_id", [3, 1234, 29_000])
def test_a_healthy_moving_street_raises_nothing(camera_id: int) -> None:
    scene = Scene(camera_id, "Sejong-daero 12")
    reference = make_reference(_seen(scene, START - timedelta(minutes=5)))
    assert set(_verdicts(scene, reference, 40)) == {"ok"}


def test_the_scene_moves_and_the_overlay_shows_the_korea_time() -> None:
    scene = Scene(7, "Gangnam-daero")
    first, later = scene.render(START), scene.render(START + timedelta(seconds=1))
    assert first is not None
    assert later is not None
    assert first.shape == (360, 640, 3)
    assert (first != later).mean() > 0.001  # people and cars moved
    again = Scene(7, "Gangnam-daero").render(START)
    assert again is not None
    assert (again == first).all()


@pytest.mark.parametrize(
    ("fault", "problem"),
    [("black", "black"), ("covered", "covered"), ("blur", "blurred"), ("moved", "moved")],
)
def test_each_picture_fault_is_found(fault: str, problem: str) -> None:
    scene = Scene(42, "Mapo-daero")
    reference = make_reference(_seen(scene, START))
    scene.set_fault(fault)  # type: ignore[arg-type]
    verdicts = _verdicts(scene, reference, 5, START + timedelta(seconds=30))
    assert verdicts == [problem] * 5
    scene.set_fault(None)
    assert set(_verdicts(scene, reference, 3, START + timedelta(seconds=60))) == {"ok"}


def test_a_frozen_picture_is_found_from_the_unchanging_frames() -> None:
    scene = Scene(42, "Mapo-daero")
    reference = make_reference(_seen(scene, START))
    scene.set_fault("freeze")
    verdicts = _verdicts(scene, reference, 4, START + timedelta(seconds=10))
    assert verdicts[0] == "ok"  # the first look has nothing to compare with yet
    assert verdicts[1:] == ["frozen"] * 3


def test_an_offline_scene_sends_nothing() -> None:
    scene = Scene(5)
    scene.set_fault("offline")
    assert scene.render(START) is None
    with pytest.raises(ValueError, match="unknown fault"):
        scene.set_fault("melted")  # type: ignore[arg-type]


def test_blur_is_judged_against_the_cameras_own_sharpness() -> None:
    """A soft camera is not blurred by itself; only a fall from its own sharpness counts."""
    soft = Scene(11)
    soft.set_fault("blur")
    reference = make_reference(_seen(soft, START))  # this camera is always this soft
    assert set(_verdicts(soft, reference, 3)) == {"ok"}


def _m(**fields: float | None) -> Measures:
    values: dict[str, float | None] = {
        "p5": 50.0,
        "p95": 200.0,
        "sharpness": 100.0,
        "change": 3.0,
        "shift_px": 0.0,
        "similarity": 0.95,
    }
    values.update(fields)
    return Measures(**values)  # type: ignore[arg-type]


def test_without_a_reference_only_the_basic_faults_are_judged() -> None:
    assert classify(_m(sharpness=0.1, similarity=0.0), None, THRESHOLDS)[0] == "ok"
    assert classify(_m(p95=5.0, p5=0.0), None, THRESHOLDS)[0] == "black"
    assert classify(_m(change=0.0), None, THRESHOLDS)[0] == "frozen"


def _run(state: HealthState, verdicts: list[str], step_s: float = 1.0) -> list[Transition]:
    changes: list[Transition] = []
    for index, verdict in enumerate(verdicts):
        now = START + timedelta(seconds=index * step_s)
        changes += state.observe(verdict, f"{verdict} seen", now, THRESHOLDS)  # type: ignore[arg-type]
    return changes


def test_a_problem_is_raised_only_after_it_held_and_cleared_only_after_the_camera_was_fine() -> None:
    state = HealthState()
    changes = _run(state, ["black"] * 5 + ["ok"] * 7)
    assert changes == [Transition("black", False, "black seen"), Transition("black", True, "cleared")]
    assert state.active == "ok"


def test_a_flickering_picture_does_not_flap_the_alarm() -> None:
    state = HealthState()
    assert _run(state, ["black", "ok"] * 10) == []
    state = HealthState(active="covered", candidate="covered", candidate_since=START)
    assert _run(state, ["ok", "ok", "covered"] * 5) == []  # never fine long enough to clear


def test_one_problem_turning_into_another_clears_the_first() -> None:
    state = HealthState()
    changes = _run(state, ["black"] * 4 + ["covered"] * 4)
    assert [(c.problem, c.ok) for c in changes] == [("black", False), ("black", True), ("covered", False)]


def test_offline_is_raised_at_once_because_its_wait_is_in_the_verdict() -> None:
    state = HealthState()
    assert [(c.problem, c.ok) for c in _run(state, ["offline"])] == [("offline", False)]


def test_the_demo_faults_only_a_grouped_camera_nobody_watches_one_at_a_time(tmp_path: Path) -> None:
    from conftest import make_settings, run_async
    from smartseoul.core.bootstrap import bootstrap
    from smartseoul.core.db import utcnow
    from smartseoul.safety.videowall.feeds import CameraInfo
    from smartseoul.safety.videowall.plugin import hub_of, monitor_of
    from smartseoul.safety.videowall.simulate import DEMO_FAULTS, camera_fault

    platform = bootstrap(make_settings(tmp_path))
    hub, monitor = hub_of(platform), monitor_of(platform)
    monitor._grouped = [1, 2]
    on_screen = hub.feed(CameraInfo(1, "watched"))
    on_screen.last_viewed_at = utcnow()  # camera 1 is on a wall

    async def twice() -> None:
        assert await camera_fault(platform, random.Random(5)) is None
        assert await camera_fault(platform, random.Random(6)) is None

    run_async(twice())
    assert list(hub.faults) == [2]  # never the watched camera, and only one fault
    assert hub.faults[2] in DEMO_FAULTS
    platform.db.dispose()
