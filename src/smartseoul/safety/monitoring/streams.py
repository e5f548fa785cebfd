"""The demo's camera streams: a local HTTP MJPEG server the project starts.

So that the pipeline uses its real network path (connect, multipart parsing, timeouts,
reconnects) in the demo, the tests and the benchmark, cameras are served as MJPEG streams:

* ``/streams/vtest.mjpeg``: Debian ``opencv-doc``'s ``vtest.avi`` (pedestrians), looped at 10 fps,
  as a 384x288 sub-stream; ``?offset=N`` starts N frames later (cameras not in step);
* ``/streams/scene-ID.mjpeg``: the video wall's synthetic street of camera ID (drawn figures);
* ``/streams/idle-ID.mjpeg``: the same street with nobody in it, with sensor noise (the idle
  cameras of the benchmark: what must raise no event);
* ``/streams/corrupt.mjpeg``: parts that are not pictures; ``/streams/stop.mjpeg``: a stream that
  ends after a few frames (bad input for the health alarms).

Frames are encoded once and shared: a client costs a socket write per frame. Every client of a
stream sees the same frame at the same time, like viewers of a live camera.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from smartseoul.safety.videowall.scenes import Scene, encode_jpeg

log = logging.getLogger("smartseoul.monitoring")
VTEST_MEMBER = "usr/share/doc/opencv-doc/examples/data/vtest.avi"
SUB_STREAM = (384, 288)
SCENE_SIZE = (384, 216)
FPS = 10.0
IDLE_VARIANTS = 12
VTEST_LIMIT: int | None = None  # the benchmark's quick mode loops the first frames only
BOUNDARY = "frame"
PATH = re.compile(r"^/streams/(vtest|scene-(\d{1,9})|idle-(\d{1,9})|corrupt|stop)\.mjpeg$")


def vtest_path() -> Path:
    """``vtest.avi`` from Debian's opencv-doc (downloaded once into the project's cache)."""
    from smartseoul.core.debian import fetch_file

    return fetch_file("opencv-doc", VTEST_MEMBER)


@lru_cache(maxsize=2)
def vtest_frames(limit: int | None = None) -> tuple[bytes, ...]:
    """Every frame of vtest.avi (or the first ``limit``) as a sub-stream JPEG, encoded once."""
    capture = cv2.VideoCapture(str(vtest_path()))
    frames: list[bytes] = []
    while limit is None or len(frames) < limit:
        ok, image = capture.read()
        if not ok:
            break
        small = np.asarray(cv2.resize(image, SUB_STREAM, interpolation=cv2.INTER_AREA), np.uint8)
        frames.append(encode_jpeg(small, 80))
    capture.release()
    if not frames:
        raise RuntimeError("vtest.avi gave no frames")
    return tuple(frames)


@lru_cache(maxsize=256)
def idle_frames(camera_id: int) -> tuple[bytes, ...]:
    """An empty street with fresh sensor noise in each of ``IDLE_VARIANTS`` frames."""
    scene = Scene(camera_id, "", *SCENE_SIZE)
    scene._walkers = []
    street = scene.street(0.0).astype(np.int16)
    rng = np.random.default_rng(camera_id)
    return tuple(
        encode_jpeg(np.asarray(np.clip(street + rng.normal(0, 3, street.shape), 0, 255), np.uint8), 80)
        for _ in range(IDLE_VARIANTS)
    )


@lru_cache(maxsize=256)
def _scene(camera_id: int) -> Scene:
    return Scene(camera_id, "", *SCENE_SIZE)


def frame_at(name: str, index: int, offset: int = 0) -> bytes:
    """The JPEG a stream sends as its ``index``-th frame of the clock."""
    if name == "vtest":
        frames = vtest_frames(VTEST_LIMIT)
        return frames[(index + offset) % len(frames)]
    kind, _, camera = name.partition("-")
    if kind == "idle":
        frames = idle_frames(int(camera))
        return frames[index % len(frames)]
    image = _scene(int(camera)).street(index / FPS)
    return encode_jpeg(image, 75)


class _Handler(BaseHTTPRequestHandler):
    server_version = "SmartSeoulStreams/1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("streams: " + format, *args)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        match = PATH.match(parts.path)
        if match is None:
            self.send_error(404, "no such stream")
            return
        name = match.group(1)
        query = parse_qs(parts.query)
        offset = int(query.get("offset", ["0"])[0] or 0) if query.get("offset", ["0"])[0].isdigit() else 0
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self._stream(name, offset)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return

    def _part(self, body: bytes) -> None:
        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
        self.wfile.write(head.encode() + body + b"\r\n")
        self.wfile.flush()

    def _stream(self, name: str, offset: int) -> None:
        stopping: threading.Event = self.server.stopping  # type: ignore[attr-defined]
        sent = 0
        while not stopping.is_set():
            index = int(time.monotonic() * FPS)
            if name == "corrupt":
                self._part(b"\xff\xd8 this is not a picture " + bytes(index % 251 for _ in range(64)))
            elif name == "stop":
                if sent >= 3:
                    return
                self._part(frame_at("idle-1", index))
            else:
                self._part(frame_at(name, index, offset))
            sent += 1
            time.sleep(max(0.0, (index + 1) / FPS - time.monotonic()))


class StreamServer:
    """The MJPEG server in daemon threads; ``url(name)`` gives a stream's address."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.stopping = threading.Event()  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name="stream server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/streams/{name}.mjpeg"

    def start(self) -> StreamServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()  # type: ignore[attr-defined]
        self._server.shutdown()
        self._server.server_close()


def serve(port: int, ready: object = None, limit: int | None = None) -> None:
    """Serve the streams in this process until it is ended (``smartseoul bench video`` runs the
    server in a process of its own so that its CPU is not the analysis core's)."""
    global VTEST_LIMIT  # this process serves the shortened loop only
    VTEST_LIMIT = limit
    vtest_frames(limit)
    server = StreamServer(port=port).start()
    if ready is not None:
        ready.set()  # type: ignore[attr-defined]
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()
