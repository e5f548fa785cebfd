"""The health monitor on both databases: real frames from a camera's feed, raised and cleared
problems stored as alarms and published as ``safety.camera.health.v1``, resumed after a restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_settings, run_async
from smartseoul.core.bus import InProcessBus
from smartseoul.core.events import Event
from smartseoul.safety.cctv.tests.helpers import add_camera
from smartseoul.safety.videowall.feeds import FeedHub
from smartseoul.safety.videowall.models import CameraHealth, HealthAlarm, ReferenceFrame
from smartseoul.safety.videowall.monitor import HealthMonitor
from smartseoul.safety.videowall.scenes import Fault, Scene, encode_jpeg

START = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _monitor(db: Session, tmp_path: Path, hub: FeedHub | None = None, bus: Any = None) -> HealthMonitor:
    settings = make_settings(tmp_path)
    platform: Any = SimpleNamespace(settings=settings, bus=bus or InProcessBus())

    def sessions() -> AbstractContextManager[Session]:
        return nullcontext(db)

    return HealthMonitor(platform, hub or FeedHub(settings), sessions=sessions)


def _looks(monitor: HealthMonitor, camera_id: int, seconds: Iterator[int] | range) -> list[tuple[str, bool]]:
    async def run() -> list[tuple[str, bool]]:
        found = []
        for second in seconds:
            for change in await monitor.check(camera_id, START + timedelta(seconds=second)):
                found.append((change.problem, change.ok))
        return found

    result: list[tuple[str, bool]] = run_async(run())
    return result


def _events(monitor: HealthMonitor) -> list[Event]:
    bus = monitor.platform.bus
    assert isinstance(bus, InProcessBus)
    return [event for _sequence, event in bus.log if event.type == "safety.camera.health.v1"]


def _fault(monitor: HealthMonitor, camera_id: int, fault: Fault | None) -> None:
    monitor.hub.set_fault(camera_id, fault)


def test_a_healthy_camera_raises_nothing_and_gets_its_reference_frame(db: Session, tmp_path: Path) -> None:
    camera = add_camera(db, shared=True)
    monitor = _monitor(db, tmp_path)
    assert _looks(monitor, camera.id, range(15)) == []
    assert _events(monitor) == []
    reference = db.get(ReferenceFrame, camera.id)
    assert reference is not None
    assert reference.jpeg[:2] == b"\xff\xd8"
    assert db.scalars(select(HealthAlarm)).all() == []


def test_a_frozen_picture_raises_an_alarm_that_clears_when_it_moves_again(
    db: Session, tmp_path: Path
) -> None:
    camera = add_camera(db, shared=True, name="frozen street")
    monitor = _monitor(db, tmp_path)
    assert _looks(monitor, camera.id, range(4)) == []
    _fault(monitor, camera.id, "freeze")
    assert _looks(monitor, camera.id, range(4, 14)) == [("frozen", False)]
    _fault(monitor, camera.id, None)
    assert _looks(monitor, camera.id, range(14, 25)) == [("frozen", True)]
    raised, cleared = _events(monitor)
    assert raised.data()["camera_id"] == camera.id
    assert (raised.data()["problem"], raised.data()["ok"], cleared.data()["ok"]) == ("frozen", False, True)
    assert raised.data()["district_code"] == camera.district_code
    assert raised.data()["lat"] == camera.lat
    alarm = db.scalars(select(HealthAlarm).where(HealthAlarm.camera_id == camera.id)).one()
    assert (alarm.problem, alarm.camera_name) == ("frozen", "frozen street")
    assert alarm.cleared_at is not None
    state = db.get(CameraHealth, camera.id)
    assert state is not None
    assert state.problem == "ok"


def test_a_camera_that_sends_nothing_is_offline_after_the_set_time(db: Session, tmp_path: Path) -> None:
    camera = add_camera(db, shared=True)
    monitor = _monitor(db, tmp_path)
    _looks(monitor, camera.id, range(2))
    _fault(monitor, camera.id, "offline")
    assert _looks(monitor, camera.id, range(2, 11)) == []  # 10 s of silence is not reached yet
    assert _looks(monitor, camera.id, range(11, 13)) == [("offline", False)]
    assert "no picture for" in _events(monitor)[0].data()["detail"]


def test_a_black_picture_and_a_moved_view_are_each_an_alarm(db: Session, tmp_path: Path) -> None:
    camera = add_camera(db, shared=True)
    monitor = _monitor(db, tmp_path)
    _looks(monitor, camera.id, range(5))  # takes the reference frame
    _fault(monitor, camera.id, "moved")
    assert _looks(monitor, camera.id, range(5, 10)) == [("moved", False)]
    _fault(monitor, camera.id, "black")
    assert _looks(monitor, camera.id, range(10, 15)) == [("moved", True), ("black", False)]
    open_alarms = db.scalars(select(HealthAlarm).where(HealthAlarm.cleared_at.is_(None))).all()
    assert [a.problem for a in open_alarms] == ["black"]


def test_after_a_restart_a_raised_problem_is_not_raised_again_but_still_clears(
    db: Session, tmp_path: Path
) -> None:
    camera = add_camera(db, shared=True)
    hub = FeedHub(make_settings(tmp_path))
    first = _monitor(db, tmp_path, hub)
    _looks(first, camera.id, range(3))
    hub.set_fault(camera.id, "covered")
    assert _looks(first, camera.id, range(3, 8)) == [("covered", False)]
    second = _monitor(db, tmp_path, hub)  # a new process: state from the table
    assert _looks(second, camera.id, range(8, 14)) == []
    hub.set_fault(camera.id, None)
    assert _looks(second, camera.id, range(14, 21)) == [("covered", True)]
    assert len(db.scalars(select(HealthAlarm)).all()) == 1


def test_an_unknown_camera_is_skipped(db: Session, tmp_path: Path) -> None:
    monitor = _monitor(db, tmp_path)
    assert _looks(monitor, 10**8, range(3)) == []


class _SnapshotCamera(BaseHTTPRequestHandler):
    """A real camera's snapshot endpoint: a new JPEG of a street on each request, until it breaks."""

    scene = Scene(77, "IP camera")
    broken = False
    served = 0

    def do_GET(self) -> None:
        cls = type(self)
        if cls.broken:
            self.send_error(500)
            return
        cls.served += 1
        image = cls.scene.render(START + timedelta(seconds=cls.served))
        assert image is not None
        body = encode_jpeg(image)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_real_camera_is_read_from_its_snapshot_url_and_goes_offline_when_it_fails(
    db: Session, tmp_path: Path
) -> None:
    _SnapshotCamera.served, _SnapshotCamera.broken = 0, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SnapshotCamera)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/snapshot.jpg"
        camera = add_camera(db, shared=True, snapshot_url=url)
        monitor = _monitor(db, tmp_path)
        assert _looks(monitor, camera.id, range(5)) == []
        assert _SnapshotCamera.served == 5  # every look fetched a picture from the camera
        _SnapshotCamera.broken = True
        assert _looks(monitor, camera.id, range(5, 16)) == [("offline", False)]
        _SnapshotCamera.broken = False
        assert _looks(monitor, camera.id, range(16, 24)) == [("offline", True)]
    finally:
        server.shutdown()
        _SnapshotCamera.broken = False
