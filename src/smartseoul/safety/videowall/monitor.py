"""The health monitor: looks at each watched camera about once a second and raises its problems.

Watched cameras are those in a group and those on a wall now (or a minute ago), up to
``videowall_health_max_cameras``; a grouped camera on no screen is looked at every fifth round
(rendering or fetching its picture only for the monitor costs as much as a viewer). For each look
it takes a frame from the camera's shared feed, decodes it as a viewer would, measures it
(``health.py``) against the previous look and the camera's reference frame, and passes the
verdict through the camera's hysteresis. A raise or a clear is stored (state and alarm, one
transaction) and then published as ``safety.camera.health.v1``. A camera's first good pictures
become its reference frame when it has none yet; an operator retakes it after turning a camera
on purpose.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.events import CameraHealthChanged
from smartseoul.safety.videowall.feeds import CameraInfo, FeedHub
from smartseoul.safety.videowall.health import (
    Grey,
    HealthState,
    Problem,
    Reference,
    Thresholds,
    Transition,
    classify,
    make_reference,
    measure,
)
from smartseoul.safety.videowall.scenes import decode_jpeg

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

log = logging.getLogger("smartseoul.videowall")
GOOD_LOOKS_FOR_REFERENCE = 3
GROUPS_REFRESH_S = 10.0
OFF_SCREEN_EVERY = 5  # grouped cameras on no screen are looked at every fifth round
MONITOR = "health monitor"
Sessions = Callable[[], AbstractContextManager[Session]]


def thresholds_of(platform: Platform) -> Thresholds:
    s = platform.settings
    return Thresholds(
        blur_ratio=s.videowall_blur_ratio,
        moved_px=s.videowall_moved_px,
        moved_similarity=s.videowall_moved_similarity,
        offline_after_s=s.videowall_offline_after_s,
        frozen_after_s=s.videowall_frozen_after_s,
        raise_after_s=s.videowall_health_raise_s,
        clear_after_s=s.videowall_health_clear_s,
    )


@dataclass
class Watch:
    """What the monitor remembers of one camera between looks."""

    info: CameraInfo
    state: HealthState
    reference: Reference | None
    last_frame_at: datetime
    previous: Grey | None = None
    last_seq: int = -1
    good_looks: int = 0
    verdict: Problem = "ok"
    detail: str = field(default="")


class HealthMonitor:
    """Looks at watched cameras in turn; publishes their raised and cleared problems."""

    def __init__(self, platform: Platform, hub: FeedHub, sessions: Sessions | None = None) -> None:
        self.platform = platform
        self.hub = hub
        self.sessions: Sessions = sessions or platform.db.session
        self.thresholds = thresholds_of(platform)
        self.watches: dict[int, Watch] = {}
        self._grouped: list[int] = []
        self._grouped_at: datetime | None = None

    # ------------------------------------------------------------ one look

    def _load(self, camera_id: int, now: datetime) -> Watch | None:
        with self.sessions() as session:
            info = service.camera_info(session, camera_id)
            if info is None:
                return None
            raised = service.raised_problems(session).get(camera_id, "ok")
            stored = service.reference_jpeg(session, camera_id)
        reference = None
        if stored is not None and (image := decode_jpeg(stored.jpeg)) is not None:
            reference = make_reference(image)
        state = HealthState(active=raised, candidate=raised, candidate_since=now)  # type: ignore[arg-type]
        return Watch(info, state, reference, last_frame_at=now)

    def _judge(self, watch: Watch, jpeg: bytes) -> tuple[Problem, str]:
        image = decode_jpeg(jpeg)
        if image is None:
            return "offline", "the camera sent bytes that are not a picture"
        measures, watch.previous = measure(image, watch.previous, watch.reference)
        return classify(measures, watch.reference, self.thresholds)

    async def check(self, camera_id: int, now: datetime | None = None) -> list[Transition]:
        """Look at one camera once; return what this look raised or cleared."""
        now = now or utcnow()
        watch = self.watches.get(camera_id)
        if watch is None:
            watch = await asyncio.to_thread(self._load, camera_id, now)
            if watch is None:
                return []
            self.watches[camera_id] = watch
        frame = await self.hub.feed(watch.info).grab(now)
        if frame is not None and frame.seq != watch.last_seq:
            watch.last_seq, watch.last_frame_at = frame.seq, now
            problem, detail = await asyncio.to_thread(self._judge, watch, frame.jpeg)
            await self._maybe_take_reference(watch, problem, frame.jpeg)
        elif (now - watch.last_frame_at).total_seconds() >= self.thresholds.offline_after_s:
            silent = (now - watch.last_frame_at).total_seconds()
            problem, detail = "offline", f"no picture for {silent:.0f} s"
        else:
            return []
        watch.verdict, watch.detail = problem, detail
        changes = watch.state.observe(problem, detail, now, self.thresholds)
        if changes:
            await asyncio.to_thread(self._store, watch, changes, now)
            for change in changes:
                await self.platform.bus.publish(self._event(watch.info, change))
        return changes

    async def _maybe_take_reference(self, watch: Watch, problem: Problem, jpeg: bytes) -> None:
        """A camera without a reference frame gets its first steady good picture as one."""
        if watch.reference is not None:
            return
        watch.good_looks = watch.good_looks + 1 if problem == "ok" else 0
        if watch.good_looks < GOOD_LOOKS_FOR_REFERENCE:
            return
        image = decode_jpeg(jpeg)
        if image is None:
            return
        watch.reference = make_reference(image)

        def store() -> None:
            with self.sessions() as session:
                service.store_reference(session, watch.info.camera_id, jpeg, MONITOR)

        await asyncio.to_thread(store)

    def use_reference(self, camera_id: int, jpeg: bytes) -> None:
        """Judge the camera against this picture from now on (an operator took it after re-aiming)."""
        watch = self.watches.get(camera_id)
        image = decode_jpeg(jpeg)
        if watch is not None and image is not None:
            watch.reference = make_reference(image)

    def _store(self, watch: Watch, changes: list[Transition], now: datetime) -> None:
        with self.sessions() as session:
            service.record_transitions(session, watch.info, watch.state.active, changes, now)

    @staticmethod
    def _event(info: CameraInfo, change: Transition) -> CameraHealthChanged:
        return CameraHealthChanged(
            camera_id=info.camera_id,
            problem=change.problem,
            ok=change.ok,
            lat=info.lat,
            lon=info.lon,
            district_code=info.district_code,
            detail=change.detail,
        )

    # ------------------------------------------------------------ the loop

    @property
    def grouped(self) -> list[int]:
        """The grouped cameras as last read (refreshed every ``GROUPS_REFRESH_S`` by the loop)."""
        return list(self._grouped)

    def _grouped_ids(self, now: datetime) -> list[int]:
        if self._grouped_at is None or (now - self._grouped_at).total_seconds() >= GROUPS_REFRESH_S:
            with self.sessions() as session:
                self._grouped = service.grouped_camera_ids(
                    session, self.platform.settings.videowall_health_max_cameras
                )
            self._grouped_at = now
        return self._grouped

    async def watched(self) -> list[int]:
        """On a wall now first, then grouped cameras, up to the configured number."""
        grouped = await asyncio.to_thread(self._grouped_ids, utcnow())
        limit = self.platform.settings.videowall_health_max_cameras
        return list(dict.fromkeys([*self.hub.watched(), *grouped]))[:limit]

    async def run(self) -> None:
        """Look at every watched camera once per interval, for ever; one bad camera stops nothing."""
        interval = self.platform.settings.videowall_health_interval_s
        loop = asyncio.get_running_loop()
        rounds = 0
        while True:
            started = loop.time()
            try:
                ids = await self.watched()
            except Exception as error:  # the database is away: try again next round
                log.warning("health monitor: cannot list watched cameras: %s", error)
                ids = []
            on_screen = set(self.hub.watched())
            rounds += 1
            for camera_id in ids:
                if camera_id not in on_screen and rounds % OFF_SCREEN_EVERY:
                    continue  # nobody watches it now: a look every few rounds is enough
                try:
                    await self.check(camera_id)
                except Exception:
                    log.exception("health monitor: camera %s", camera_id)
            await asyncio.sleep(max(0.05, interval - (loop.time() - started)))
