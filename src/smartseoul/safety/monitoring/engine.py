"""The monitoring engine of a platform process: supervisor, stream server, results to the desk.

It loads the monitored cameras, starts the workers (only when there is a camera to watch, so a
process without any pays nothing), and turns what the workers report into:

* live state per camera (the tracks whose boxes the console draws, when it was last analysed,
  the stream's state) and the monitored share (``/metrics``, API, console);
* detections: stored with their snapshot and published as ``monitoring.detection.v1``;
* health transitions: stored as the video wall stores its own and published as
  ``safety.camera.health.v1`` (the incident desk already takes those).

With the in-process bus the supervisor is :class:`~.worker.Supervisor` (worker processes fed by
queues); with a NATS bus it is :class:`~.cluster.BusSupervisor` (cameras shared through the bus by
every worker of the group, on any machine). A detector that cannot run as configured (the onnx
detector without its model) starts no worker at all: the refusal is logged and in ``/status``.

Worker messages arrive on the supervisor's thread; database work happens there, and events are
handed to the event loop that started the engine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Gauge

from smartseoul.core.db import utcnow
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.cluster import BusSupervisor
from smartseoul.safety.monitoring.detectors import DetectorUnavailable, check_onnx
from smartseoul.safety.monitoring.events import DetectionRaised
from smartseoul.safety.monitoring.streams import StreamServer
from smartseoul.safety.monitoring.worker import Message, Supervisor, WorkerConfig
from smartseoul.safety.videowall import service as wall
from smartseoul.safety.videowall.events import CameraHealthChanged
from smartseoul.safety.videowall.health import Transition

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event
    from smartseoul.core.settings import Settings

log = logging.getLogger("smartseoul.monitoring")
ENGINE_KEY = "monitoring.engine"
TRACKS_FRESH_S = 2.0
HITS_SHOWN_S = 15.0  # a rule hit stays highlighted on its track (or its tile) this long
WHOLE_CAMERA = 0  # the track id of a hit about the whole picture (a crowd)


@dataclass
class Live:
    """What the console shows of one camera."""

    tracks: list[tuple[Any, ...]] = field(default_factory=list)
    analysed_at: datetime | None = None
    received: float = 0.0
    problem: str = "ok"
    hits: dict[tuple[int, str], float] = field(default_factory=dict)  # (track, rule kind) -> when

    def note_hits(self, hits: list[tuple[Any, ...]], now: float) -> None:
        """Keep which tracks a rule fired on: a rule fires once per track, and the operator must
        still see which box it was about while that track lives, or ``HITS_SHOWN_S`` at least
        (a hit about the whole picture, a crowd, is kept that long)."""
        alive = {int(track[0]) for track in self.tracks}
        kept = {
            key: at
            for key, at in self.hits.items()
            if now - at < HITS_SHOWN_S or (key[0] in alive and key[0] != WHOLE_CAMERA)
        }
        for hit in hits:
            kept[(int(hit[2]), str(hit[1]))] = now
        self.hits = kept  # replaced whole: the API thread may be reading the old one

    def hits_of(self, track_id: int) -> list[str]:
        """The rule kinds that fired on a track (``WHOLE_CAMERA``: on the whole picture)."""
        return sorted(kind for track, kind in self.hits if track == track_id)


def config_of(platform: Platform) -> WorkerConfig:
    return settings_config(platform.settings)


def uses_bus_workers(s: Settings) -> bool:
    """Cameras go through the bus to a group of workers (NATS only: the in-process bus has no
    other machine to reach)."""
    return s.monitoring_bus_workers and s.bus_url.startswith("nats://")


def settings_config(s: Settings) -> WorkerConfig:
    return WorkerConfig(
        detector=s.monitoring_detector,
        onnx_model=s.monitoring_onnx_model,
        onnx_providers=s.monitoring_onnx_providers,
        detect_fps=s.monitoring_detect_fps,
        idle_interval_s=s.monitoring_idle_interval_s,
        max_interval_s=s.monitoring_max_interval_s,
        width=s.monitoring_width,
        offline_after_s=s.videowall_offline_after_s,
    )


def detector_refusal(config: WorkerConfig) -> str:
    """Why the configured detector cannot run ("" when it can): checked before any worker starts."""
    if config.detector != "onnx":
        return ""
    try:
        check_onnx(config.onnx_model, config.onnx_providers)
    except DetectorUnavailable as error:
        return str(error)
    return ""


def uses_local_server(url: str, port: int) -> bool:
    parts = urlsplit(url)
    return (
        parts.hostname in ("127.0.0.1", "localhost")
        and parts.port == port
        and parts.path.startswith("/streams/")
    )


class Engine:
    """One per platform process (``platform.cache[ENGINE_KEY]``)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.config = config_of(platform)
        self.supervisor: Supervisor | BusSupervisor | None = None
        self.server: StreamServer | None = None
        self.live: dict[int, Live] = {}
        self.crashes: list[str] = []
        self.refused = ""  # why the detector cannot run as configured (no worker is started)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.active = False  # started by the platform: new cameras start workers when needed
        self._lock = threading.Lock()

    # ------------------------------------------------------------ start and stop

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> int:
        """Start watching every enabled monitored camera; the number of cameras."""
        self.loop = loop
        self.active = True
        with self.platform.db.session() as session:
            jobs = [service.job_of(session, row) for row in service.monitored(session)]
        if not jobs:
            return 0
        port = self.platform.settings.monitoring_stream_port
        if port and any(uses_local_server(job.url, port) for job in jobs):
            self._start_server(port)
        self._ensure_supervisor()
        if self.supervisor is None:
            return 0
        for job in jobs:
            self.supervisor.assign(job)
        return len(jobs)

    def _start_server(self, port: int) -> None:
        try:
            self.server = StreamServer(port=port).start()
        except OSError as error:  # another process of this machine serves the streams already
            log.info("stream server not started on port %s: %s", port, error)

    def _ensure_supervisor(self) -> None:
        if self.supervisor is None:
            self.refused = detector_refusal(self.config)
            if self.refused:
                log.error("monitoring not started: %s", self.refused)
                return
            s = self.platform.settings
            if not uses_bus_workers(s):
                self.supervisor = Supervisor(self.config, s.monitoring_workers, self.handle).start()
                return
            try:
                self.supervisor = BusSupervisor(
                    self.config, s.monitoring_workers, self.handle, s.bus_url, s.bus_stream
                ).start()
            except Exception as error:
                self.refused = f"workers through the bus: {error}"
                log.error("monitoring not started: %s", self.refused)

    def refresh(self, camera_id: int) -> None:
        """Send a camera's current job (rules, threshold, stream) to its worker."""
        with self.platform.db.session() as session:
            row = session.get(service.MonitoredCamera, camera_id)
            job = service.job_of(session, row) if row is not None and row.enabled else None
        if job is None:
            if self.supervisor is not None:
                self.supervisor.remove(camera_id)
            return
        if not self.active:
            return  # monitoring is off in this process: the change is read at the next start
        self._ensure_supervisor()
        if self.supervisor is not None:
            self.supervisor.assign(job)

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.active = False

    # ------------------------------------------------------------ what the console reads

    def share(self) -> float:
        """Monitored cameras over monitored cameras listed (1.0 with none listed)."""
        return self.supervisor.share() if self.supervisor is not None else 1.0

    def held(self) -> int:
        """Cameras the workers hold now."""
        return len(self.supervisor.jobs) if self.supervisor is not None else 0

    def cameras(self) -> list[dict[str, Any]]:
        supervisor = self.supervisor
        if supervisor is None:
            return []
        monitored = set(supervisor.monitored())
        found = []
        for camera_id in sorted(supervisor.jobs):
            state = supervisor.status.get(camera_id, {})
            live = self.live.get(camera_id, Live())
            found.append(
                {
                    "camera_id": camera_id,
                    "monitored": camera_id in monitored,
                    "seconds_since_analysed": None
                    if state.get("age_s") is None
                    else round(state["age_s"], 2),
                    "motion": bool(state.get("motion")),
                    "stream_problem": state.get("reason") or None,
                    "health": live.problem,
                    "analysed": state.get("analysed", 0),
                }
            )
        return found

    def watching(self, camera_id: int) -> bool:
        """Whether the workers hold this camera now (its tile gets the analysis's boxes)."""
        return self.supervisor is not None and camera_id in self.supervisor.jobs

    def tracks(self, camera_id: int) -> dict[str, Any]:
        """The boxes to draw on a camera's tile now (empty when the last analysis is stale), each
        with the rule kinds that fired on it lately; ``alerts``: those about the whole picture."""
        live = self.live.get(camera_id)
        if live is None or time.monotonic() - live.received > TRACKS_FRESH_S:
            return {"camera_id": camera_id, "analysed_at": None, "tracks": [], "alerts": []}
        return {
            "camera_id": camera_id,
            "analysed_at": live.analysed_at.isoformat() if live.analysed_at else None,
            "tracks": [
                {"id": t[0], "label": t[1], "score": t[2], "box": list(t[3]), "hits": live.hits_of(t[0])}
                for t in live.tracks
            ],
            "alerts": live.hits_of(WHOLE_CAMERA),
        }

    # ------------------------------------------------------------ worker messages

    def handle(self, message: Message) -> None:
        kind = message[0]
        if kind == "analysis":
            camera_id, at, tracks, hits, health, snapshot = message[1:]
            when = datetime.fromisoformat(at)
            with self._lock:
                live = self.live.setdefault(camera_id, Live())
                live.tracks, live.analysed_at, live.received = tracks, when, time.monotonic()
                live.note_hits(hits, live.received)
            for hit in hits:
                self._detection(camera_id, hit, when, snapshot)
            if health:
                self._health(camera_id, health, when)
        elif kind == "health":
            self._health(message[1], message[2], utcnow())
        elif kind == "crashed":
            self.crashes = [*self.crashes[-19:], f"{utcnow().isoformat()} {message[2]}"]

    def _publish(self, event: Event) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.platform.bus.publish(event), self.loop)

    def _detection(
        self, camera_id: int, hit: tuple[Any, ...], when: datetime, snapshot: bytes | None
    ) -> None:
        rule_id, kind, track_id, confidence, since, detail = hit
        started = datetime.fromtimestamp(min(float(since), when.timestamp()), UTC)
        fired = service.Fired(camera_id, rule_id, kind, track_id, confidence, detail, started, when)
        with self.platform.db.session() as session:
            row = service.record_detection(session, fired, snapshot, self.platform.settings.data_dir)
            info = wall.camera_info(session, camera_id)
            event = DetectionRaised(
                detection_id=row.id,
                camera_id=camera_id,
                camera_name=info.name if info else "",
                rule_id=rule_id,
                rule=kind,
                track_id=track_id,
                confidence=confidence,
                snapshot_url=f"/api/v1/monitoring/detections/{row.id}/snapshot.jpg",
                started_at=fired.started_at,
                ended_at=when,
                detail=detail,
                lat=info.lat if info else None,
                lon=info.lon if info else None,
                district_code=info.district_code if info else None,
            )
        self._publish(event)

    def _health(self, camera_id: int, changes: list[tuple[str, bool, str]], when: datetime) -> None:
        transitions = [Transition(problem, ok, detail) for problem, ok, detail in changes]  # type: ignore[arg-type]
        raised = [t.problem for t in transitions if not t.ok]
        active = raised[-1] if raised else "ok"
        with self._lock:
            self.live.setdefault(camera_id, Live()).problem = active
        with self.platform.db.session() as session:
            info = wall.camera_info(session, camera_id)
            if info is None:
                return
            wall.record_transitions(session, info, active, transitions, when)
        for change in transitions:
            self._publish(
                CameraHealthChanged(
                    source="monitoring",
                    camera_id=camera_id,
                    problem=change.problem,
                    ok=change.ok,
                    lat=info.lat,
                    lon=info.lon,
                    district_code=info.district_code,
                    detail=change.detail,
                )
            )


def engine_of(platform: Platform) -> Engine:
    found = platform.cache.get(ENGINE_KEY)
    if not isinstance(found, Engine):
        found = Engine(platform)
        platform.cache[ENGINE_KEY] = found
    return found


def install_gauge(registry: CollectorRegistry, platform: Platform) -> None:
    """``smartseoul_monitoring_monitored_share`` and ``..._cameras`` in the app's ``/metrics``."""
    share = Gauge(
        "smartseoul_monitoring_monitored_share",
        "Monitored cameras analysed within the longest interval, over monitored cameras listed",
        registry=registry,
    )
    share.set_function(lambda: engine_of(platform).share())
    cameras = Gauge(
        "smartseoul_monitoring_cameras", "Cameras held by the monitoring workers", registry=registry
    )
    cameras.set_function(lambda: engine_of(platform).held())
