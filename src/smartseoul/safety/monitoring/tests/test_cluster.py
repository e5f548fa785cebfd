"""Workers across machines: cameras shared through the NATS bus, a dead worker's cameras move.

The two workers are separate processes that know nothing of each other nor of the supervisor
(as ``smartseoul monitoring worker`` started twice): only the real NATS on 127.0.0.1:4222 links
them, on a stream of the test's own.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing as mp
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import nats
import numpy as np
import pytest

from conftest import require_service
from smartseoul.core.bootstrap import Platform
from smartseoul.core.bus import InProcessBus
from smartseoul.core.events import Event, GenericEvent, decode_event
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.cluster import (
    DEAD_AFTER_S,
    BusSupervisor,
    BusWorker,
    CameraJobs,
    WorkerHeartbeat,
    WorkerReport,
    job_data,
    job_of,
    owner,
    run_bus_worker,
)
from smartseoul.safety.monitoring.engine import Engine, uses_bus_workers
from smartseoul.safety.monitoring.rules import Rule
from smartseoul.safety.monitoring.streams import StreamServer
from smartseoul.safety.monitoring.tests.test_api import _setup
from smartseoul.safety.monitoring.worker import CameraJob, WorkerConfig
from smartseoul.safety.videowall.scenes import encode_jpeg
from smartseoul.web.stream import StreamHub

NATS_URL = "nats://127.0.0.1:4222"
ZONE = ((0.1, 0.1), (0.9, 0.1), (0.9, 0.9))


def test_a_leaving_worker_moves_only_its_own_cameras() -> None:
    workers = ["a", "b", "c"]
    before = {c: owner(c, workers) for c in range(300)}
    after = {c: owner(c, ["a", "c"]) for c in range(300)}
    assert {before[c] for c in before} == {"a", "b", "c"}
    assert all(after[c] == before[c] for c in before if before[c] != "b")
    assert owner(1, []) is None


def test_a_worker_takes_a_stopped_peers_cameras_at_once_and_a_dead_ones_after_the_grace() -> None:
    worker = BusWorker(WorkerConfig(), NATS_URL, name="w-b")
    worker.jobs = {c: CameraJob(c, f"http://cam/{c}") for c in range(1, 21)}
    worker.members.heard("w-a", False, 100.0)
    worker.members.heard("w-c", False, 100.0)
    worker.rebalance(101.0)
    mine = set(worker.held)
    assert mine == {c for c in worker.jobs if owner(c, ["w-a", "w-b", "w-c"]) == "w-b"}
    worker.members.heard("w-a", True, 101.5)  # w-a stops cleanly: its cameras move now
    worker.rebalance(102.0)
    assert set(worker.held) == {c for c in worker.jobs if owner(c, ["w-b", "w-c"]) == "w-b"} > mine
    worker.rebalance(100.0 + DEAD_AFTER_S - 0.1)  # w-c silent, but not for long enough
    assert set(worker.held) != set(worker.jobs)
    worker.rebalance(100.0 + DEAD_AFTER_S + 0.1)  # w-c is dead: everything is w-b's
    assert set(worker.held) == set(worker.jobs)
    commands = []
    while not worker._commands.empty():
        commands.append(worker._commands.get_nowait())
    assert {job.camera_id for kind, job in commands if kind == "set"} == set(worker.jobs)


def test_a_job_travels_whole() -> None:
    rule = Rule(3, "loitering", ZONE, {"seconds": 30.0}, "22:00", "06:00", "gate")
    job = CameraJob(7, "rtsp://cam/7", (rule,), 0.42, (ZONE,))
    assert job_of(job_data(job)) == job


def test_workers_go_through_the_bus_only_when_it_is_nats(platform: Platform) -> None:
    settings = platform.settings
    assert not uses_bus_workers(settings.model_copy(update={"bus_url": "memory://"}))
    assert uses_bus_workers(settings.model_copy(update={"bus_url": NATS_URL}))
    off = {"bus_url": NATS_URL, "monitoring_bus_workers": False}
    assert not uses_bus_workers(settings.model_copy(update=off))


def test_a_report_off_the_wire_is_stored_by_the_engine(platform: Platform) -> None:
    """A hit as it comes over the bus (JSON: lists, the snapshot in base64) is stored once."""
    camera = _setup(platform)["shared"]
    engine = Engine(platform)
    supervisor = BusSupervisor(WorkerConfig(), 0, engine.handle, NATS_URL)  # not started: no bus
    jpeg = encode_jpeg(np.full((90, 160, 3), 80, np.uint8))
    at = time.time()
    hits = [(None, "loitering", 3, 0.77, at - 40, "40 s in zone")]
    tracks = [(3, "person", 0.8, (0.1, 0.2, 0.3, 0.9))]
    report = WorkerReport(
        worker="w1",
        message=["analysis", camera, datetime.now(UTC).isoformat(), tracks, hits, []],
        snapshot=base64.b64encode(jpeg).decode(),
    )
    asyncio.run(supervisor._on_report(decode_event(report.to_bytes())))
    with platform.db.session() as session:
        stored = service.list_detections(session, camera)
        assert [(d.kind, d.track_id, d.detail) for d in stored] == [("loitering", 3, "40 s in zone")]
        assert service.snapshot_bytes(stored[0], platform.settings.data_dir) == jpeg


def test_the_workers_chatter_stays_off_the_console_ticker() -> None:
    """Heartbeats (every second per worker), jobs (camera URLs) and raw reports are for the
    workers and the engine; the ticker shows the detections the engine makes of them."""

    async def ticker_after(events: list[Event]) -> list[str]:
        bus = InProcessBus()
        hub = StreamHub(bus)
        await hub.start()
        try:
            for event in events:
                await bus.publish(event)
            await bus.publish(GenericEvent(event_type="test.ticker.sentinel.v1"))
            for _ in range(1000):  # at most 10 s for the hub's task to take the sentinel
                if hub.recent:
                    break
                await asyncio.sleep(0.01)
            return [payload["type"] for payload in hub.recent]
        finally:
            await hub.stop()

    chatter: list[Event] = [
        WorkerHeartbeat(worker="w1", cameras={1: {"age_s": 0.2}}),
        CameraJobs(jobs=[job_data(CameraJob(1, "rtsp://admin:secret@cam/1"))]),
        WorkerReport(worker="w1", message=["health", 1, "frozen"]),
    ]
    assert asyncio.run(ticker_after(chatter)) == ["test.ticker.sentinel.v1"]


def _wait(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


async def _delete_stream(stream: str) -> None:
    connection = await nats.connect(NATS_URL)
    try:
        with suppress(Exception):
            await connection.jetstream().delete_stream(stream)
    finally:
        await connection.close()


async def _stored_types(stream: str) -> set[str]:
    """The event types the stream holds at least one event of."""
    connection = await nats.connect(NATS_URL)
    try:
        info = await connection.jetstream().stream_info(stream, subjects_filter=">")
    finally:
        await connection.close()
    prefix = f"{stream.lower()}."
    return {subject.removeprefix(prefix) for subject in info.state.subjects or {}}


@pytest.fixture
def stream() -> Iterator[str]:
    require_service("nats")
    name = f"TEST_MON_{uuid.uuid4().hex.upper()}"
    yield name
    asyncio.run(_delete_stream(name))


@pytest.mark.nats
def test_two_separate_workers_share_the_cameras_and_a_dead_ones_move(stream: str) -> None:
    config = WorkerConfig(detector="hog", max_interval_s=10.0, offline_after_s=30.0)
    messages: list[tuple[Any, ...]] = []
    server = StreamServer().start()
    supervisor = BusSupervisor(config, 0, messages.append, NATS_URL, stream).start()
    context = mp.get_context("spawn")
    workers = {
        name: context.Process(target=run_bus_worker, args=(config, NATS_URL, stream, name), daemon=True)
        for name in ("worker-a", "worker-b")
    }
    try:
        for process in workers.values():
            process.start()
        cameras = list(range(1, 7))
        for camera_id in cameras:
            supervisor.assign(CameraJob(camera_id, server.url(f"idle-{camera_id}")))

        def shared() -> bool:
            held = {name: supervisor.holders.get(name, set()) for name in workers}
            return (
                sorted(supervisor.monitored()) == cameras
                and all(held.values())
                and not held["worker-a"] & held["worker-b"]
                and held["worker-a"] | held["worker-b"] == set(cameras)
            )

        assert _wait(shared, 60), (supervisor.holders, supervisor.status)
        stored = asyncio.run(_stored_types(stream))  # heard by all, yet kept nowhere: only the jobs
        assert CameraJobs.type_name in stored
        assert WorkerHeartbeat.type_name not in stored
        moving = sorted(supervisor.holders["worker-a"])
        workers["worker-a"].kill()
        assert _wait(lambda: any(m[0] == "crashed" and m[1] == "worker-a" for m in messages), 20)
        crash = next(m for m in messages if m[0] == "crashed" and m[1] == "worker-a")
        assert crash[3] == moving
        assert _wait(
            lambda: (
                supervisor.holders.get("worker-b") == set(cameras)
                and sorted(supervisor.monitored()) == cameras
            ),
            30,
        ), (supervisor.holders, supervisor.status)
        assert all(supervisor.status[c]["worker"] == "worker-b" for c in cameras)
    finally:
        supervisor.stop()
        for process in workers.values():
            process.kill()
            process.join(5)
        server.stop()


@pytest.mark.nats
def test_the_platforms_own_worker_reports_hits_with_snapshots_health_and_comes_back(stream: str) -> None:
    config = WorkerConfig(detector="ssdlite", offline_after_s=3.0)
    messages: list[tuple[Any, ...]] = []
    server = StreamServer().start()
    supervisor = BusSupervisor(config, 1, messages.append, NATS_URL, stream).start()
    try:
        whole = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
        crowd = Rule(1, "crowding", whole, {"max_people": 2.0})
        supervisor.assign(CameraJob(1, server.url("vtest"), (crowd,)))
        supervisor.assign(CameraJob(2, server.url("corrupt")))

        def hit() -> tuple[Any, ...] | None:
            return next((m for m in messages if m[0] == "analysis" and m[4]), None)

        assert _wait(lambda: hit() is not None, 60), messages[-5:]
        found = hit()
        assert found is not None
        assert found[1] == 1
        assert found[4][0][1] == "crowding"
        assert isinstance(found[6], bytes)
        assert found[6][:2] == b"\xff\xd8"
        assert _wait(
            lambda: any(m[0] == "analysis" and m[1] == 1 and m[3] and not m[4] for m in list(messages)), 10
        )  # the live boxes, with the heartbeats
        assert _wait(lambda: any(m[0] == "health" and m[1] == 2 for m in messages), 30)
        supervisor.kill_worker(0)
        assert _wait(lambda: supervisor.crashes[0] == 1 and supervisor.local[0] is not None, 15)
        assert _wait(lambda: any(m[0] == "crashed" for m in messages), 15)
        messages.clear()
        assert _wait(lambda: 1 in supervisor.monitored() and hit() is not None, 60)
    finally:
        supervisor.stop()
        server.stop()


@pytest.mark.nats
def test_a_worker_whose_detector_fails_leaves_the_group(stream: str) -> None:
    worker = BusWorker(WorkerConfig(detector="onnx"), NATS_URL, stream, name="broken")
    with pytest.raises(RuntimeError, match="broken: analysis stopped: DetectorUnavailable"):
        asyncio.run(asyncio.wait_for(worker.run(), 30))
