"""The pipeline on real pictures: vtest.avi's pedestrians (Debian opencv-doc), an empty street, a
black picture; the stream server and readers over real sockets; bad streams; a worker crash."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
import pytest

from smartseoul.safety.monitoring.detectors import HogDetector, SsdLiteDetector
from smartseoul.safety.monitoring.pipeline import CameraPipeline
from smartseoul.safety.monitoring.rules import Rule
from smartseoul.safety.monitoring.sources import StreamReader, redact
from smartseoul.safety.monitoring.streams import StreamServer, idle_frames, vtest_path
from smartseoul.safety.monitoring.worker import CameraJob, Supervisor, WorkerConfig, WorkerLoop

START = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
WHOLE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


@pytest.fixture(scope="module")
def detector() -> SsdLiteDetector:
    cv2.setNumThreads(1)
    return SsdLiteDetector()


@pytest.fixture(scope="module")
def vtest() -> list[np.ndarray]:
    """Every second frame of the first 6 s of vtest.avi (5 fps, as analysed)."""
    capture = cv2.VideoCapture(str(vtest_path()))
    frames = []
    for index in range(60):
        ok, image = capture.read()
        assert ok
        if index % 2 == 0:
            frames.append(image)
    capture.release()
    return frames


@pytest.fixture(scope="module")
def server() -> Any:
    started = StreamServer().start()
    yield started
    started.stop()


def _decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)


def test_pedestrians_are_detected_tracked_and_a_crowd_rule_fires_with_a_snapshot(
    detector: SsdLiteDetector, vtest: list[np.ndarray]
) -> None:
    pipeline = CameraPipeline(1, detector, [Rule(1, "crowding", WHOLE, {"max_people": 2.0})])
    results = [pipeline.analyse(frame, START + timedelta(seconds=i / 5)) for i, frame in enumerate(vtest)]
    assert sum(r.detector_called for r in results) >= len(results) - 2  # people walk: motion everywhere
    assert max(len(r.tracks) for r in results) >= 4
    ids = [{t.track_id for t in r.tracks} for r in results[22:28]]
    assert len(set.intersection(*ids)) >= 3  # the same people keep their ids for over a second
    hits = [h for r in results for h in r.hits]
    assert [h.rule.kind for h in hits][:1] == ["crowding"]
    snapshot = next(r.snapshot for r in results if r.hits)
    assert snapshot is not None
    assert _decode(snapshot).shape[1] == 480


def test_an_empty_street_costs_no_detector_call_and_raises_nothing(detector: SsdLiteDetector) -> None:
    pipeline = CameraPipeline(2, detector, [Rule(1, "intrusion", WHOLE)])
    frames = idle_frames(7)
    results = [
        pipeline.analyse(_decode(frames[i % len(frames)]), START + timedelta(seconds=2 * i))
        for i in range(12)
    ]
    assert sum(r.detector_called for r in results) == 0
    assert all(not r.tracks and not r.hits for r in results)
    assert all(not r.health for r in results)  # noise is not a fault


def test_a_black_picture_is_a_health_alarm_and_is_not_searched_for_people(detector: SsdLiteDetector) -> None:
    pipeline = CameraPipeline(3, detector)
    street = _decode(idle_frames(3)[0])
    pipeline.analyse(street, START)
    raised = []
    for i in range(1, 8):
        dark = np.random.default_rng(i).integers(0, 8, street.shape).astype(np.uint8)  # sensor noise
        result = pipeline.analyse(dark, START + timedelta(seconds=i))
        raised += [(t.problem, t.ok) for t in result.health]
        assert not result.detector_called
    assert raised == [("black", False)]
    assert [(t.problem, t.ok) for t in pipeline.no_frame(START + timedelta(seconds=9), "cannot connect")] == [
        ("black", True),
        ("offline", False),
    ]


def test_the_hog_fallback_finds_people_in_vtest(vtest: list[np.ndarray]) -> None:
    found = HogDetector().detect(vtest[0], 0.5)
    assert len(found) >= 2
    assert all(0 <= d.x1 < d.x2 <= 768 and 0 <= d.y1 < d.y2 <= 576 for d in found)


def test_streams_decode_over_http_and_bad_streams_say_why(server: StreamServer) -> None:
    readers = {
        name: StreamReader(i, url).start()
        for i, (name, url) in enumerate(
            [
                ("vtest", server.url("vtest")),
                ("idle", server.url("idle-4")),
                ("refused", "http://127.0.0.1:9/none.mjpeg"),
                ("not mjpeg", f"http://127.0.0.1:{server.port}/nothing-here"),
                ("no file", "file:///nonexistent/camera.avi"),
            ]
        )
    }
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not (readers["vtest"].latest and readers["idle"].latest):
        time.sleep(0.1)
    time.sleep(0.5)
    try:
        vtest = readers["vtest"].latest
        assert vtest is not None
        assert vtest.decode() is not None
        assert vtest.decode().shape == (288, 384, 3)
        assert readers["idle"].ok
        assert readers["refused"].reason == "cannot connect: ConnectError"
        assert (
            readers["not mjpeg"].reason == "HTTP 404 from " + f"http://127.0.0.1:{server.port}/nothing-here"
        )
        assert readers["no file"].reason == "no such file camera.avi"
    finally:
        for reader in readers.values():
            reader.stop()
    assert redact("rtsp://admin:secret@10.0.0.5:554/sub") == "rtsp://10.0.0.5:554/sub"


def test_a_worker_reports_corrupt_frames_and_dead_streams_without_stalling_the_good_camera(
    server: StreamServer, detector: SsdLiteDetector
) -> None:
    sent: list[tuple[Any, ...]] = []
    loop = WorkerLoop(WorkerConfig(offline_after_s=2.0), sent.append, detector)
    loop.set(CameraJob(1, server.url("idle-1")))
    assert _wait(lambda: loop.cameras[1].reader.latest is not None, 10)  # the good one is streaming
    loop.set(CameraJob(2, server.url("corrupt")))
    loop.set(CameraJob(3, "http://127.0.0.1:9/none.mjpeg"))
    deadline = time.monotonic() + 5.0
    try:
        while time.monotonic() < deadline:
            if not loop.step():
                time.sleep(0.01)
        status = loop.status()
    finally:
        loop.stop()
    assert status[1]["analysed"] >= 2
    assert status[1]["reason"] == ""
    assert status[2]["analysed"] == 0
    assert status[2]["reason"].startswith("corrupt frame")
    assert status[3]["reason"] == "cannot connect: ConnectError"
    health = {message[1]: message[2] for message in sent if message[0] == "health"}
    assert health[2][0][:2] == ("offline", False)
    assert "corrupt frame" in health[2][0][2]
    assert health[3] == [("offline", False, "cannot connect: ConnectError")]
    assert 1 not in health


def test_a_killed_worker_is_restarted_and_gets_its_cameras_back(server: StreamServer) -> None:
    messages: list[tuple[Any, ...]] = []
    supervisor = Supervisor(WorkerConfig(detector="hog"), 1, messages.append).start()
    try:
        supervisor.assign(CameraJob(5, server.url("idle-5")))
        assert _wait(lambda: supervisor.monitored() == [5], 30)
        supervisor.kill_worker(0)
        assert _wait(lambda: any(m[0] == "crashed" for m in messages), 10)
        assert supervisor.workers[0].crashes == 1
        assert "exited with code -9" in supervisor.workers[0].last_exit
        assert _wait(
            lambda: sum(m[0] == "started" for m in messages) == 2 and supervisor.monitored() == [5], 30
        )
    finally:
        supervisor.stop()


def _wait(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_incident_desk_maps_a_detection() -> None:
    from smartseoul.safety.incidents.intake import MAPPERS

    intake = MAPPERS["monitoring.detection.v1"](
        {"detection_id": 4, "camera_id": 12, "rule": "person_down", "confidence": 0.8}, START
    )
    assert intake is not None
    assert intake.priority == 1
    assert intake.family == "emergency"
    assert intake.camera_ids == (12,)
    assert intake.ref == "monitoring.detection:4"
    assert "쓰러짐" in intake.title_ko
    assert "person down" in intake.title_en
