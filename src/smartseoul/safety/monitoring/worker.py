"""Workers: separate processes that pull camera assignments, decode, analyse and report.

The platform process runs a :class:`Supervisor`. It starts ``monitoring_workers`` processes, gives
each camera to the least loaded one, and reads what they report: analyses (tracks for the wall's
boxes, rule hits with their snapshot), health transitions, and once a second a status of every
camera they hold. A worker that dies (a decoder crash takes the process down, or it is killed) is
started again with exponential backoff and gets its cameras back; the crash is reported in the
status, and the other workers never notice. Inside a worker each camera's stream is read by its
own thread (``sources.StreamReader``), so a stream that hangs stalls nothing.

Messages are plain tuples of plain values over multiprocessing queues. With a NATS bus the same
:class:`WorkerLoop` runs in a worker of the group of ``cluster.py`` instead: the cameras are shared
through the bus by workers on any machine.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from typing import Any

import cv2

from smartseoul.safety.monitoring.detectors import Detector, make_detector
from smartseoul.safety.monitoring.pipeline import Analysis, CameraPipeline
from smartseoul.safety.monitoring.rules import Rule
from smartseoul.safety.monitoring.scheduler import Scheduler
from smartseoul.safety.monitoring.sources import StreamReader
from smartseoul.safety.videowall.health import Thresholds

log = logging.getLogger("smartseoul.monitoring")
STATUS_EVERY_S = 1.0
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
Message = tuple[Any, ...]


@dataclass(frozen=True)
class CameraJob:
    """What a worker needs to analyse one camera."""

    camera_id: int
    url: str
    rules: tuple[Rule, ...] = ()
    threshold: float = 0.5
    masks: tuple[tuple[tuple[float, float], ...], ...] = ()


@dataclass(frozen=True)
class WorkerConfig:
    detector: str = "ssdlite"
    onnx_model: str = ""
    onnx_providers: str = "CPUExecutionProvider"
    detect_fps: float = 5.0
    idle_interval_s: float = 2.0
    max_interval_s: float = 10.0
    width: int = 480
    offline_after_s: float = 10.0


@dataclass
class _Camera:
    job: CameraJob
    reader: StreamReader
    pipeline: CameraPipeline
    seen: int = 0
    good_at: float = field(default_factory=time.monotonic)
    corrupt: int = 0
    reason: str = ""
    motion: bool = False


class WorkerLoop:
    """The cameras of one worker: streams, pipelines and the scheduler (also used in-process by
    the benchmark and the tests)."""

    def __init__(
        self, config: WorkerConfig, send: Callable[[Message], None], detector: Detector | None = None
    ):
        self.config = config
        self.send = send
        self.detector = detector or make_detector(config.detector, config.onnx_model, config.onnx_providers)
        self.scheduler = Scheduler(config.detect_fps, config.idle_interval_s, config.max_interval_s)
        self.cameras: dict[int, _Camera] = {}
        self.analysed = 0
        self.detector_calls = 0
        self.decoded = 0

    def set(self, job: CameraJob) -> None:
        """Start (or update) a camera; a new URL restarts its stream."""
        found = self.cameras.get(job.camera_id)
        if found is not None and found.job.url == job.url:
            found.job = job
            found.pipeline.rules = list(job.rules)
            found.pipeline.set_threshold(job.threshold)
            found.pipeline.motion.masks = [list(m) for m in job.masks]
            found.pipeline.motion._mask = None
            return
        self.drop(job.camera_id)
        pipeline = CameraPipeline(
            job.camera_id,
            self.detector,
            list(job.rules),
            job.threshold,
            self.config.width,
            Thresholds(offline_after_s=self.config.offline_after_s),
        )
        pipeline.motion.masks = [list(m) for m in job.masks]
        self.cameras[job.camera_id] = _Camera(job, StreamReader(job.camera_id, job.url).start(), pipeline)
        self.scheduler.add(job.camera_id, time.monotonic())

    def drop(self, camera_id: int) -> None:
        found = self.cameras.pop(camera_id, None)
        if found is not None:
            found.reader.stop()
        self.scheduler.remove(camera_id)

    def stop(self) -> None:
        for camera_id in list(self.cameras):
            self.drop(camera_id)

    def step(self) -> bool:
        """Analyse the camera that is due, if any; False when none was (the caller sleeps)."""
        now = time.monotonic()
        ready = {
            c for c, cam in self.cameras.items() if cam.reader.latest and cam.reader.latest.seq > cam.seen
        }
        camera_id = self.scheduler.next(now, ready)
        if camera_id is None:
            self._check_silent(now)
            return False
        camera = self.cameras[camera_id]
        raw = camera.reader.latest
        assert raw is not None
        camera.seen = raw.seq
        image = raw.decode()
        self.decoded += 1
        at = datetime.now(UTC)
        if image is None:
            camera.corrupt += 1
            camera.reason = f"corrupt frame ({camera.corrupt} so far)"
            self.scheduler.done(camera_id, now, motion=False, analysed=False)
            self._check_silent(now)
            return True
        camera.good_at, camera.reason = now, ""
        analysis = camera.pipeline.analyse(image, at)
        self.analysed += 1
        self.detector_calls += analysis.detector_called
        camera.motion = analysis.motion
        self.scheduler.done(camera_id, now, analysis.motion)
        self.send(("analysis", *_analysis_message(analysis)))
        return True

    def _check_silent(self, now: float) -> None:
        """Cameras without a good frame for ``offline_after_s``: offline, with the reason."""
        for camera in self.cameras.values():
            latest = camera.reader.latest
            # frames arriving count as alive until one fails to decode (idle cameras are decoded
            # only every few seconds); after a corrupt frame only a good decode does
            alive = max(camera.good_at, latest.at if latest is not None and not camera.reason else 0.0)
            if now - alive < self.config.offline_after_s:
                continue
            reason = camera.reason or camera.reader.reason or "no frames"
            changes = camera.pipeline.no_frame(datetime.now(UTC), reason)
            if changes:
                self.send(("health", camera.job.camera_id, [(c.problem, c.ok, c.detail) for c in changes]))

    def status(self) -> dict[int, dict[str, Any]]:
        """Per camera: seconds since analysed, motion, stream state (for the supervisor)."""
        now = time.monotonic()
        found = {}
        for camera_id, camera in self.cameras.items():
            slot = self.scheduler.slots.get(camera_id)
            last = None if slot is None or slot.last_analysed is None else now - slot.last_analysed
            found[camera_id] = {
                "age_s": last,
                "motion": camera.motion,
                "reason": camera.reason or camera.reader.reason,
                "restarts": camera.reader.restarts,
                "analysed": slot.analysed if slot else 0,
            }
        return found


def _analysis_message(analysis: Analysis) -> tuple[Any, ...]:
    tracks = [
        (t.track_id, t.label, round(t.score, 3), tuple(round(v, 4) for v in t.box)) for t in analysis.tracks
    ]
    hits = [
        (h.rule.rule_id, h.rule.kind, h.track_id, round(h.confidence, 3), h.since, h.detail)
        for h in analysis.hits
    ]
    health = [(c.problem, c.ok, c.detail) for c in analysis.health]
    return (analysis.camera_id, analysis.at.isoformat(), tracks, hits, health, analysis.snapshot)


def run_worker(worker_id: int, inbox: Any, outbox: Any, config: WorkerConfig) -> None:
    """A worker process: take assignments, analyse, report, until told to stop."""
    cv2.setNumThreads(1)
    loop = WorkerLoop(config, outbox.put)
    outbox.put(("started", worker_id, os.getpid()))
    last_status = 0.0
    try:
        while True:
            with contextlib.suppress(queue.Empty):
                while True:
                    message = inbox.get_nowait()
                    if message[0] == "stop":
                        return
                    if message[0] == "set":
                        loop.set(message[1])
                    elif message[0] == "drop":
                        loop.drop(message[1])
            if not loop.step():
                time.sleep(min(0.02, loop.scheduler.wait_s(time.monotonic())) or 0.005)
            if time.monotonic() - last_status >= STATUS_EVERY_S:
                last_status = time.monotonic()
                outbox.put(("status", worker_id, loop.status(), loop.analysed, loop.detector_calls))
    finally:
        loop.stop()


def monitored_cameras(
    jobs: dict[int, CameraJob], status: dict[int, dict[str, Any]], max_interval_s: float
) -> list[int]:
    """The cameras of ``jobs`` whose last reported analysis, aged since, is within the interval."""
    now = time.monotonic()
    found = []
    for camera_id in jobs:
        state = status.get(camera_id)
        if not state or state.get("age_s") is None or "received" not in state:
            continue
        if state["age_s"] + (now - state["received"]) <= max_interval_s:
            found.append(camera_id)
    return found


@dataclass
class _Worker:
    worker_id: int
    process: BaseProcess | None = None
    inbox: Any = None
    cameras: set[int] = field(default_factory=set)
    crashes: int = 0
    restart_at: float = 0.0
    last_exit: str = ""


class Supervisor:
    """Starts the workers, assigns cameras, restarts crashed workers, gathers what they report."""

    def __init__(
        self,
        config: WorkerConfig,
        workers: int,
        on_message: Callable[[Message], None],
    ) -> None:
        self.config = config
        self.context = mp.get_context("spawn")
        self.outbox: Any = self.context.Queue()
        self.workers = [_Worker(i) for i in range(workers)]
        self.jobs: dict[int, CameraJob] = {}
        self.status: dict[int, dict[str, Any]] = {}
        self.on_message = on_message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="monitoring supervisor", daemon=True)

    def start(self) -> Supervisor:
        for worker in self.workers:
            self._spawn(worker)
        self._thread.start()
        return self

    def _spawn(self, worker: _Worker) -> None:
        worker.inbox = self.context.Queue()
        worker.process = self.context.Process(
            target=run_worker,
            args=(worker.worker_id, worker.inbox, self.outbox, self.config),
            name=f"monitoring worker {worker.worker_id}",
            daemon=True,
        )
        worker.process.start()
        for camera_id in worker.cameras:
            worker.inbox.put(("set", self.jobs[camera_id]))

    def assign(self, job: CameraJob) -> None:
        """Give a camera to the least loaded worker (or update it where it is)."""
        self.jobs[job.camera_id] = job
        holder = next((w for w in self.workers if job.camera_id in w.cameras), None)
        if holder is None:
            holder = min(self.workers, key=lambda w: len(w.cameras))
            holder.cameras.add(job.camera_id)
        if holder.inbox is not None:
            holder.inbox.put(("set", job))

    def remove(self, camera_id: int) -> None:
        self.jobs.pop(camera_id, None)
        self.status.pop(camera_id, None)
        for worker in self.workers:
            if camera_id in worker.cameras:
                worker.cameras.discard(camera_id)
                if worker.inbox is not None:
                    worker.inbox.put(("drop", camera_id))

    def _check_workers(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            process = worker.process
            if process is not None and not process.is_alive():
                worker.crashes += 1
                worker.last_exit = f"worker {worker.worker_id} exited with code {process.exitcode}"
                delay = RESTART_BACKOFF_S[min(worker.crashes - 1, len(RESTART_BACKOFF_S) - 1)]
                worker.restart_at = now + delay
                worker.process = None
                log.warning("%s; restarting in %.0f s", worker.last_exit, delay)
                for camera_id in worker.cameras:
                    self.status[camera_id] = {"age_s": None, "reason": worker.last_exit, "motion": False}
                self.on_message(("crashed", worker.worker_id, worker.last_exit, sorted(worker.cameras)))
            elif process is None and now >= worker.restart_at and not self._stop.is_set():
                self._spawn(worker)

    def _pump(self) -> None:
        received_at = time.monotonic()
        while not self._stop.is_set():
            try:
                message = self.outbox.get(timeout=0.2)
            except queue.Empty:
                message = None
            except (EOFError, OSError):
                return
            if message is not None:
                if message[0] == "status":
                    for camera_id, state in message[2].items():
                        if camera_id in self.jobs:
                            self.status[camera_id] = {**state, "received": time.monotonic()}
                try:
                    self.on_message(message)
                except Exception:
                    log.exception("monitoring message %s failed", message[0])
            if time.monotonic() - received_at > 0.5:
                received_at = time.monotonic()
                self._check_workers()

    def monitored(self) -> list[int]:
        """Assigned cameras analysed within ``max_interval_s`` (per the workers' last status)."""
        return monitored_cameras(self.jobs, self.status, self.config.max_interval_s)

    def share(self) -> float:
        return len(self.monitored()) / len(self.jobs) if self.jobs else 1.0

    def kill_worker(self, worker_id: int) -> None:
        """Kill a worker (tests and the demo's crash drill): it must come back by itself."""
        process = self.workers[worker_id].process
        if process is not None:
            process.kill()

    def stop(self) -> None:
        self._stop.set()
        for worker in self.workers:
            if worker.inbox is not None:
                with contextlib.suppress(Exception):
                    worker.inbox.put(("stop",))
        for worker in self.workers:
            if worker.process is not None:
                worker.process.join(timeout=3)
                if worker.process.is_alive():
                    worker.process.kill()
        self._thread.join(timeout=2)
