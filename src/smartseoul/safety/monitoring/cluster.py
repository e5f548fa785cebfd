"""Workers across machines: camera assignments through the platform's NATS bus.

With a NATS bus (``SMARTSEOUL_BUS_URL=nats://...``) the platform does not hand cameras to its own
processes through queues; it publishes the list of camera jobs (``monitoring.jobs.v1``: at once on
a change, when a worker it has not heard yet beats, and every ``JOBS_EVERY_S`` besides), and every
worker, wherever it was started (the platform's own ``monitoring_workers`` or ``smartseoul
monitoring worker`` on another machine), joins the group:

* each worker publishes a heartbeat (``monitoring.worker.heartbeat.v1``) every ``HEARTBEAT_S``
  with the state and the latest boxes of the cameras it holds. A heartbeat is news for that second
  only, so it is a transient event: it reaches the workers and supervisors listening (ephemeral
  subscriptions) and is stored nowhere, not in the JetStream stream nor in a bus's history;
* the live workers are those heard within ``DEAD_AFTER_S``; each camera belongs to the live worker
  that ranks highest for it (rendezvous hashing), which every worker computes alike from the same
  heartbeats, so no coordinator is needed and a join or a death moves only the cameras concerned;
* a worker that dies stops beating: ``DEAD_AFTER_S`` later the survivors take its cameras; one
  that stops cleanly says so in a last heartbeat and its cameras move at once;
* what must not be lost (rule hits with their snapshot, health transitions) goes back as
  ``monitoring.worker.report.v1`` to the durable consumer ``monitoring_reports``: platform
  processes share it as a queue group, so each detection is stored once, and a report published
  while no platform process runs waits in the stream.

A new worker waits ``JOIN_AFTER_S`` (hearing the others) before it claims anything. During a join
or a handover a camera can be analysed by two workers for up to one heartbeat.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import multiprocessing as mp
import os
import queue
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.process import BaseProcess
from typing import Any, ClassVar

import cv2
from pydantic import Field

from smartseoul.core.bus import EventBus, make_bus
from smartseoul.core.events import Event
from smartseoul.safety.monitoring.rules import Rule
from smartseoul.safety.monitoring.worker import (
    RESTART_BACKOFF_S,
    CameraJob,
    Message,
    WorkerConfig,
    WorkerLoop,
    monitored_cameras,
)

log = logging.getLogger("smartseoul.monitoring")
HEARTBEAT_S = 1.0
DEAD_AFTER_S = 4.0
JOIN_AFTER_S = 2.5
JOBS_EVERY_S = 30.0  # besides at once on a change and when a worker joins
REPORTS_DURABLE = "monitoring_reports"


class WorkerHeartbeat(Event):
    """A worker is alive; the cameras it holds (per-camera state) and their latest boxes."""

    type_name = "monitoring.worker.heartbeat.v1"
    # Once a second per worker: kept by nobody (see the module docstring), shown on no ticker.
    transient: ClassVar[bool] = True
    on_screens: ClassVar[bool] = False
    worker: str
    cameras: dict[int, dict[str, Any]] = Field(default_factory=dict)
    tracks: dict[int, list[Any]] = Field(default_factory=dict)
    analysed: int = 0
    detector_calls: int = 0
    stopping: bool = False


class CameraJobs(Event):
    """Every camera to watch, with its stream, rules, threshold and masks (the whole list)."""

    type_name = "monitoring.jobs.v1"
    # Stream URLs (with any camera password) and zones: for workers, not for the console ticker.
    on_screens: ClassVar[bool] = False
    jobs: list[dict[str, Any]]


class WorkerReport(Event):
    """A worker message that must reach the platform once: a rule hit or a health transition."""

    type_name = "monitoring.worker.report.v1"
    # The engine turns it into ``monitoring.detection.v1``, which is the one screens show.
    on_screens: ClassVar[bool] = False
    worker: str
    message: list[Any]
    snapshot: str | None = None  # base64 JPEG


def job_data(job: CameraJob) -> dict[str, Any]:
    return asdict(job)


def job_of(data: dict[str, Any]) -> CameraJob:
    rules = tuple(
        Rule(
            int(r["rule_id"]),
            str(r["kind"]),
            tuple((float(x), float(y)) for x, y in r["zone"]),
            {k: float(v) for k, v in (r.get("params") or {}).items()},
            r.get("start"),
            r.get("end"),
            str(r.get("name", "")),
        )
        for r in data.get("rules", ())
    )
    masks = tuple(tuple((float(x), float(y)) for x, y in mask) for mask in data.get("masks", ()))
    return CameraJob(int(data["camera_id"]), str(data["url"]), rules, float(data["threshold"]), masks)


def owner(camera_id: int, workers: list[str]) -> str | None:
    """The worker a camera belongs to: highest rendezvous hash (stable when others come and go)."""

    def rank(worker: str) -> bytes:
        return hashlib.sha256(f"{worker}/{camera_id}".encode()).digest()

    return max(workers, key=rank) if workers else None


class Membership:
    """The workers heard lately (a clean stop removes one at once)."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}

    def heard(self, worker: str, stopping: bool, now: float) -> None:
        if stopping:
            self.seen.pop(worker, None)
        else:
            self.seen[worker] = now

    def alive(self, now: float) -> list[str]:
        return sorted(w for w, at in self.seen.items() if now - at <= DEAD_AFTER_S)

    def dead(self, now: float) -> list[str]:
        gone = [w for w, at in self.seen.items() if now - at > DEAD_AFTER_S]
        for worker in gone:
            del self.seen[worker]
        return gone


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class BusWorker:
    """One worker process of the group: the bus side on asyncio, the analysis on its own thread."""

    def __init__(
        self, config: WorkerConfig, bus_url: str, stream: str = "SMARTSEOUL", name: str | None = None
    ) -> None:
        self.config = config
        self.bus_url = bus_url
        self.stream = stream
        self.name = name or worker_name()
        self.members = Membership()
        self.jobs: dict[int, CameraJob] = {}
        self.held: dict[int, CameraJob] = {}
        self.latest: dict[int, list[Any]] = {}
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._outbox: queue.Queue[Message] = queue.Queue()
        self._state: tuple[dict[int, dict[str, Any]], int, int] = ({}, 0, 0)
        self._stop = threading.Event()
        self.failure = ""

    # ------------------------------------------------------------ analysis thread

    def _analyse(self) -> None:
        try:
            self._analyse_until_stopped()
        except Exception as error:  # the main loop sees the thread gone and leaves with the reason
            self.failure = f"{type(error).__name__}: {error}"
            log.exception("monitoring worker %s: analysis failed", self.name)

    def _analyse_until_stopped(self) -> None:
        cv2.setNumThreads(1)
        loop = WorkerLoop(self.config, self._outbox.put)
        last_state = 0.0
        try:
            while not self._stop.is_set():
                with contextlib.suppress(queue.Empty):
                    while True:
                        command, value = self._commands.get_nowait()
                        if command == "set":
                            loop.set(value)
                        else:
                            loop.drop(value)
                if not loop.step():
                    time.sleep(min(0.02, loop.scheduler.wait_s(time.monotonic())) or 0.005)
                if time.monotonic() - last_state >= HEARTBEAT_S / 2:
                    last_state = time.monotonic()
                    self._state = (loop.status(), loop.analysed, loop.detector_calls)
        finally:
            loop.stop()

    # ------------------------------------------------------------ bus side

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Join the group and work until ``stop`` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        bus = make_bus(self.bus_url, stream=self.stream)
        await bus.start()
        analysis = threading.Thread(target=self._analyse, name=f"analysis {self.name}", daemon=True)
        analysis.start()
        subscriptions = [
            await bus.subscribe(WorkerHeartbeat.type_name, self._on_heartbeat),
            await bus.subscribe(CameraJobs.type_name, self._on_jobs),
        ]
        started = time.monotonic()
        log.info("monitoring worker %s joined %s", self.name, self.stream)
        try:
            beat = 0.0
            while not stop.is_set():
                if not analysis.is_alive():  # the detector failed: leave, so others take the cameras
                    raise RuntimeError(f"monitoring worker {self.name}: analysis stopped: {self.failure}")
                await self._publish_reports(bus)
                now = time.monotonic()
                if now - beat >= HEARTBEAT_S:
                    beat = now
                    if now - started >= JOIN_AFTER_S:
                        self.rebalance(now)
                    await self._heartbeat(bus)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.1)
        finally:
            with contextlib.suppress(Exception):
                await self._heartbeat(bus, stopping=True)
            self._stop.set()
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.stop()
            await asyncio.to_thread(analysis.join, 5)
            with contextlib.suppress(Exception):
                await self._publish_reports(bus)
            await bus.close()

    async def _on_heartbeat(self, event: Event) -> None:
        if isinstance(event, WorkerHeartbeat) and event.worker != self.name:
            self.members.heard(event.worker, event.stopping, time.monotonic())

    async def _on_jobs(self, event: Event) -> None:
        if isinstance(event, CameraJobs):
            self.jobs = {job.camera_id: job for job in map(job_of, event.jobs)}

    def rebalance(self, now: float) -> None:
        """Take the cameras this worker ranks highest for among the live workers; let go of the rest."""
        self.members.dead(now)
        workers = sorted({*self.members.alive(now), self.name})
        mine = {c: job for c, job in self.jobs.items() if owner(c, workers) == self.name}
        for camera_id in [c for c in self.held if c not in mine]:
            del self.held[camera_id]
            self.latest.pop(camera_id, None)
            self._commands.put(("drop", camera_id))
        for camera_id, job in mine.items():
            if self.held.get(camera_id) != job:
                self.held[camera_id] = job
                self._commands.put(("set", job))

    async def _heartbeat(self, bus: EventBus, stopping: bool = False) -> None:
        status, analysed, calls = self._state
        fresh, self.latest = self.latest, {}  # boxes since the last beat only: stale ones are not news
        cameras = {c: state for c, state in status.items() if c in self.held}
        for camera_id in self.held:
            cameras.setdefault(camera_id, {"age_s": None, "motion": False, "reason": "starting"})
        beat = WorkerHeartbeat(
            worker=self.name,
            cameras={} if stopping else cameras,
            tracks={} if stopping else {c: t for c, t in fresh.items() if c in self.held},
            analysed=analysed,
            detector_calls=calls,
            stopping=stopping,
        )
        await bus.publish(beat)

    async def _publish_reports(self, bus: EventBus) -> None:
        """Latest boxes go with the heartbeat; hits and health transitions as durable reports."""
        while True:
            try:
                message = self._outbox.get_nowait()
            except queue.Empty:
                return
            if message[0] == "analysis":
                camera_id, at, tracks, hits, health, snapshot = message[1:]
                if camera_id in self.held:
                    self.latest[camera_id] = [at, tracks]
                if not hits and not health:
                    continue
                encoded = base64.b64encode(snapshot).decode() if snapshot else None
                report = WorkerReport(
                    worker=self.name,
                    message=["analysis", camera_id, at, tracks, hits, health],
                    snapshot=encoded,
                )
            else:
                report = WorkerReport(worker=self.name, message=list(message))
            await bus.publish(report)


def run_bus_worker(
    config: WorkerConfig, bus_url: str, stream: str = "SMARTSEOUL", name: str | None = None
) -> None:
    """A worker process's body (also ``smartseoul monitoring worker``): runs until killed or
    interrupted; a clean stop hands its cameras over at once."""
    worker = BusWorker(config, bus_url, stream, name)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(worker.run())


class BusSupervisor:
    """The platform's side with a NATS bus: publishes the jobs, starts its own share of workers,
    reads heartbeats and reports. Same surface as :class:`~.worker.Supervisor` for the engine."""

    def __init__(
        self,
        config: WorkerConfig,
        workers: int,
        on_message: Callable[[Message], None],
        bus_url: str,
        stream: str = "SMARTSEOUL",
    ) -> None:
        self.config = config
        self.bus_url = bus_url
        self.stream = stream
        self.on_message = on_message
        self.jobs: dict[int, CameraJob] = {}
        self.status: dict[int, dict[str, Any]] = {}
        self.members = Membership()
        self.holders: dict[str, set[int]] = {}
        self.context = mp.get_context("spawn")
        self.local: list[BaseProcess | None] = [None] * workers
        self.crashes = [0] * workers
        self.restart_at = [0.0] * workers
        self.ready = threading.Event()
        self._delivering = threading.Lock()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dirty: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="monitoring bus supervisor", daemon=True)

    def start(self) -> BusSupervisor:
        self._thread.start()
        self.ready.wait(15)
        if self.error is not None:
            raise self.error
        return self

    # ------------------------------------------------------------ engine surface

    def assign(self, job: CameraJob) -> None:
        self.jobs[job.camera_id] = job
        self._changed()

    def remove(self, camera_id: int) -> None:
        self.jobs.pop(camera_id, None)
        self.status.pop(camera_id, None)
        self._changed()

    def monitored(self) -> list[int]:
        return monitored_cameras(self.jobs, self.status, self.config.max_interval_s)

    def share(self) -> float:
        return len(self.monitored()) / len(self.jobs) if self.jobs else 1.0

    def kill_worker(self, index: int) -> None:
        """Kill one of this process's own workers (tests, crash drill): its cameras move."""
        process = self.local[index]
        if process is not None:
            process.kill()

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)
        for process in self.local:  # interrupted, a worker hands its cameras over at once
            if process is not None and process.pid is not None and process.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGINT)
        for process in self.local:
            if process is not None:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()

    def _changed(self) -> None:
        if self._loop is not None and self._dirty is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._dirty.set)

    # ------------------------------------------------------------ bus thread

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to start() or logged
            self.error = error
            self.ready.set()
            log.exception("monitoring bus supervisor stopped")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._dirty, self._stopping = asyncio.Event(), asyncio.Event()
        bus = make_bus(self.bus_url, stream=self.stream)
        await bus.start()
        subscriptions = [
            await bus.subscribe(WorkerHeartbeat.type_name, self._on_heartbeat),
            await bus.subscribe(WorkerReport.type_name, self._on_report, durable=REPORTS_DURABLE),
        ]
        self.ready.set()
        try:
            published = 0.0
            while not self._stopping.is_set():
                now = time.monotonic()
                if self._dirty.is_set() or now - published >= JOBS_EVERY_S:
                    self._dirty.clear()
                    published = now
                    jobs = [job_data(job) for job in list(self.jobs.values())]
                    await bus.publish(CameraJobs(jobs=jobs))
                self._check_members(now)
                self._check_local(now)
                waits = [
                    asyncio.ensure_future(self._dirty.wait()),
                    asyncio.ensure_future(self._stopping.wait()),
                ]
                _done, pending = await asyncio.wait(waits, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
        finally:
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.stop()
            await bus.close()

    def _deliver(self, message: Message) -> None:
        """One message at a time, as the queue-fed supervisor hands them over."""
        try:
            with self._delivering:
                self.on_message(message)
        except Exception:
            log.exception("monitoring message %s failed", message[0])

    async def _on_heartbeat(self, event: Event) -> None:
        if not isinstance(event, WorkerHeartbeat):
            return
        now = time.monotonic()
        if event.worker not in self.members.seen and not event.stopping:
            self._changed()  # a worker joins: it needs the jobs now
        self.members.heard(event.worker, event.stopping, now)
        self.holders[event.worker] = set(event.cameras)
        for camera_id, state in event.cameras.items():
            if camera_id in self.jobs:
                self.status[camera_id] = {**state, "received": now, "worker": event.worker}
        for camera_id, (at, tracks) in event.tracks.items():
            if camera_id in self.jobs:
                await asyncio.to_thread(self._deliver, ("analysis", camera_id, at, tracks, [], [], None))

    async def _on_report(self, event: Event) -> None:
        if not isinstance(event, WorkerReport) or not event.message:
            return
        message = tuple(event.message)
        if message[0] == "analysis":
            snapshot = base64.b64decode(event.snapshot) if event.snapshot else None
            message = (*message, snapshot)
        await asyncio.to_thread(self._deliver, message)

    def _check_members(self, now: float) -> None:
        for worker in self.members.dead(now):
            cameras = sorted(self.holders.pop(worker, set()))
            reason = f"worker {worker} silent for {DEAD_AFTER_S:.0f} s"
            log.warning("%s; its cameras %s move to the others", reason, cameras)
            self._deliver(("crashed", worker, reason, cameras))

    def _check_local(self, now: float) -> None:
        """Start this process's own workers; one that died comes back with backoff."""
        for index, process in enumerate(self.local):
            if process is not None and not process.is_alive():
                self.crashes[index] += 1
                delay = RESTART_BACKOFF_S[min(self.crashes[index] - 1, len(RESTART_BACKOFF_S) - 1)]
                self.restart_at[index] = now + delay
                self.local[index] = None
                log.warning(
                    "local monitoring worker %s exited (%s); restarting in %.0f s",
                    index,
                    process.exitcode,
                    delay,
                )
            elif process is None and now >= self.restart_at[index]:
                process = self.context.Process(
                    target=run_bus_worker,
                    args=(self.config, self.bus_url, self.stream),
                    name=f"monitoring worker {index}",
                    daemon=True,
                )
                process.start()
                self.local[index] = process
