"""One picture source per camera, shared by every viewer and by the health monitor.

A camera's feed makes a frame once per tick while anyone watches, whatever the number of viewers:
it takes the newest JPEG of the MJPEG stream that automated monitoring analyses (a monitored
camera), fetches a real camera's JPEG from its snapshot URL, or renders and JPEG-encodes the
synthetic scene. Ten operators on the same tile cost one encoder (or one fetch), not ten.

A monitored camera's tile shows exactly the picture the analysis reads, so that the analysis's
boxes fit it: the feed reads the same stream (``CameraInfo.stream_url``) with the monitoring
domain's :class:`~smartseoul.safety.monitoring.sources.StreamReader` and passes its JPEG parts on
as they came, never decoding or re-encoding them. The camera is decoded once, by the analysis
worker; the wall adds one socket to the camera's sub-stream while anyone watches. Viewers wait on the
newest frame; a slow viewer skips frames instead of queueing them. The health monitor takes
single frames with :meth:`CameraFeed.grab`, which reuses the running stream's newest frame or
makes one when nobody watches.

Rendering, encoding and fetching run in a worker thread (OpenCV releases the GIL), so the event
loop keeps serving requests while frames are made.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime

import httpx

from smartseoul.core.db import utcnow
from smartseoul.core.settings import Settings
from smartseoul.safety.monitoring.sources import StreamReader
from smartseoul.safety.videowall.scenes import Fault, Scene, encode_jpeg, frame_period

IDLE_SCENES = 64  # scenes kept warm without viewers (each holds its street picture, ~0.7 MB)
SNAPSHOT_TIMEOUT_S = 2.0
MAX_SNAPSHOT_BYTES = 8_000_000
STREAM_STALE_S = 2.0  # a monitored stream's newest frame older than this: the camera sends nothing
FIRST_FRAME_POLL_S = 0.02


@dataclass(frozen=True)
class CameraInfo:
    """What the wall needs to know about a camera (from the cctv registry)."""

    camera_id: int
    name: str
    lat: float | None = None
    lon: float | None = None
    district_code: str | None = None
    snapshot_url: str = ""  # a real camera's JPEG snapshot endpoint; empty: the synthetic scene
    stream_url: str = ""  # the MJPEG stream automated monitoring analyses; first choice when set


@dataclass(frozen=True)
class Frame:
    """One encoded frame: a sequence number per feed, when it was taken, the JPEG bytes."""

    seq: int
    at: datetime
    jpeg: bytes


def fetch_snapshot(url: str) -> bytes | None:
    """One JPEG from a camera's snapshot endpoint (HTTP Basic credentials may sit in the URL), or
    None when it does not answer with a picture in time: the monitor then sees the camera as
    silent, and after ``videowall_offline_after_s`` as offline. The URL is never logged (it may hold
    a password)."""
    if not url.startswith(("http://", "https://")):
        return None
    try:
        response = httpx.get(url, timeout=SNAPSHOT_TIMEOUT_S, follow_redirects=False)
    except httpx.HTTPError:
        return None
    body = response.content
    if response.status_code != 200 or not body.startswith(b"\xff\xd8") or len(body) > MAX_SNAPSHOT_BYTES:
        return None
    return body


class CameraFeed:
    """The picture source of one camera (a synthetic scene in the demo)."""

    def __init__(self, info: CameraInfo, settings: Settings) -> None:
        self.info = info
        self.scene = Scene(
            info.camera_id, info.name, settings.videowall_frame_width, settings.videowall_frame_height
        )
        self.period = frame_period(settings.videowall_fps)
        self.quality = settings.videowall_jpeg_quality
        self.latest: Frame | None = None
        self.viewers = 0
        self.frames_encoded = 0
        self.last_viewed_at: datetime | None = None
        self._seq = 0
        self._lock = threading.Lock()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._reader: StreamReader | None = None

    def _from_stream(self) -> bytes | None:
        """The newest JPEG of the monitored stream, as it came (in a worker thread).

        The reader runs while anyone watches; a look without viewers (the health monitor) connects,
        takes the first frame and lets go again, as a snapshot fetch would. None when the stream
        sends nothing: the monitor then sees the camera as silent, and later as offline.
        """
        reader = self._reader
        if reader is None or reader.url != self.info.stream_url:
            if reader is not None:
                reader.stop()
            reader = self._reader = StreamReader(self.info.camera_id, self.info.stream_url).start()
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
        while reader.latest is None and reader.reason == "connecting" and time.monotonic() < deadline:
            time.sleep(FIRST_FRAME_POLL_S)  # the first frame after connecting (a worker thread)
        latest = reader.latest
        if self.viewers == 0:
            self._stop_reader()
        if latest is None or latest.jpeg is None or time.monotonic() - latest.at > STREAM_STALE_S:
            return None
        return latest.jpeg

    def _stop_reader(self) -> None:
        if self._reader is not None:
            self._reader.stop()
            self._reader = None

    def _make(self, when: datetime) -> Frame | None:
        """The frame at ``when`` (in a worker thread): the monitored stream's newest frame, else
        the real camera's snapshot when it has a snapshot URL, else the rendered scene; None when
        the camera sends nothing."""
        with self._lock:
            if self.info.stream_url:
                jpeg = self._from_stream()
            elif self._reader is not None:  # no longer monitored: back to the camera's own picture
                self._stop_reader()
                jpeg = None
            elif self.info.snapshot_url:
                jpeg = fetch_snapshot(self.info.snapshot_url)
            else:
                image = self.scene.render(when)
                jpeg = None if image is None else encode_jpeg(image, self.quality)
            if jpeg is None:
                return None
            self._seq += 1
            self.frames_encoded += 1
            return Frame(self._seq, when, jpeg)

    async def _next(self, when: datetime | None = None) -> Frame | None:
        made = await asyncio.to_thread(self._make, when or utcnow())
        if made is not None:
            async with self._changed:
                self.latest = made
                self._changed.notify_all()
        return made

    async def _produce(self) -> None:
        loop = asyncio.get_running_loop()
        tick = loop.time()
        try:
            while self.viewers > 0:
                await self._next()
                tick = max(tick + self.period, loop.time())
                await asyncio.sleep(tick - loop.time())
        finally:
            # not awaited: a viewer arriving meanwhile must find this task done and start another
            with contextlib.suppress(RuntimeError):  # the loop's executor is shutting down
                loop.run_in_executor(None, self._release)

    def _release(self) -> None:
        """Nobody watches any more: let go of the monitored stream (under the feed's lock)."""
        with self._lock:
            if self.viewers == 0:
                self._stop_reader()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._produce(), name=f"camera feed {self.info.camera_id}")

    async def _newer_than(self, seen: int) -> Frame:
        async with self._changed:
            await self._changed.wait_for(lambda: self.latest is not None and self.latest.seq > seen)
            assert self.latest is not None
            return self.latest

    async def frames(self) -> AsyncGenerator[Frame, None]:
        """Every new frame from now on, for as long as the caller iterates (one viewer)."""
        self.viewers += 1
        self.last_viewed_at = utcnow()
        self._ensure_running()
        seen = 0
        try:
            while True:
                frame = await self._newer_than(seen)
                seen = frame.seq
                yield frame
        finally:
            self.viewers -= 1
            self.last_viewed_at = utcnow()

    async def grab(self, when: datetime | None = None) -> Frame | None:
        """The newest frame if the running stream made it within a period, else a fresh one
        (taken at ``when``, by default now)."""
        latest = self.latest
        if (
            latest is not None
            and self.viewers > 0
            and (utcnow() - latest.at).total_seconds() < 2 * self.period
        ):
            return latest
        return await self._next(when)

    def set_fault(self, fault: Fault | None) -> None:
        with self._lock:
            self.scene.set_fault(fault)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with self._lock:
            self._stop_reader()


class FeedHub:
    """The feeds of this process, by camera id; idle ones beyond ``IDLE_SCENES`` are dropped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.feeds: OrderedDict[int, CameraFeed] = OrderedDict()
        self.faults: dict[int, Fault] = {}  # kept apart so a dropped feed comes back still failing
        self._lock = threading.Lock()  # request handlers in the thread pool ask for feeds too

    def feed(self, info: CameraInfo, *, current: bool = False) -> CameraFeed:
        """The camera's feed. ``current``: ``info`` was read from the registry just now (a viewer's
        request) and replaces what the feed knew, e.g. a camera put under monitoring since; the
        health monitor's copy may be older and never does."""
        with self._lock:
            found = self.feeds.get(info.camera_id)
            if found is None:
                found = CameraFeed(info, self.settings)
                found.set_fault(self.faults.get(info.camera_id))
                self.feeds[info.camera_id] = found
                self._trim()
            elif current and found.info != info:
                found.info = info  # the new source from the next frame on
            self.feeds.move_to_end(info.camera_id)
            return found

    def _trim(self) -> None:
        idle = [camera_id for camera_id, feed in self.feeds.items() if feed.viewers == 0]
        for camera_id in idle[: max(0, len(idle) - IDLE_SCENES)]:
            del self.feeds[camera_id]

    def set_fault(self, camera_id: int, fault: Fault | None) -> None:
        """Make a camera's scene fail (demo and tests); None makes it well again."""
        if fault is None:
            self.faults.pop(camera_id, None)
        else:
            self.faults[camera_id] = fault
        found = self.feeds.get(camera_id)
        if found is not None:
            found.set_fault(fault)

    def watched(self, within_s: float = 60.0) -> list[int]:
        """Cameras on a screen now or within the last ``within_s`` seconds."""
        now = utcnow()
        return [
            camera_id
            for camera_id, feed in self.feeds.items()
            if feed.viewers > 0
            or (feed.last_viewed_at is not None and (now - feed.last_viewed_at).total_seconds() < within_s)
        ]

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            await feed.stop()
