"""Camera streams read in the background: HTTP MJPEG, RTSP, or a file (looped, at its own rate).

One :class:`StreamReader` thread per camera keeps only the newest frame. For MJPEG (what most city
cameras offer as a sub-stream and what the demo's stream server sends) the frame is kept as its
JPEG bytes and decoded only when the scheduler picks the camera: a still camera sampled every two
seconds costs one decode every two seconds, whatever its frame rate.
RTSP and files go through OpenCV's FFmpeg backend (any codec FFmpeg knows).

A stream that fails (no answer, refused, HTTP error, not MJPEG, ended, unknown codec) is retried
with exponential backoff (``BACKOFF_S``), and the reason is kept for the camera's health alarm. A
reader never raises into the worker: one broken camera never stalls the others.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import httpx
import numpy as np

from smartseoul.safety.monitoring.detectors import Image

log = logging.getLogger("smartseoul.monitoring")
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
READ_TIMEOUT_S = 5.0
MAX_PART_BYTES = 4_000_000
LENGTH = re.compile(rb"content-length:\s*(\d+)", re.I)


class StreamError(RuntimeError):
    """Why a stream gave no picture (shown in the health alarm)."""


@dataclass(frozen=True)
class RawFrame:
    """The newest frame of a stream: a sequence number, when it arrived, JPEG bytes or pixels."""

    seq: int
    at: float  # time.monotonic()
    jpeg: bytes | None = None
    image: Image | None = None

    def decode(self) -> Image | None:
        """The picture (None for bytes that are not a JPEG: a corrupt frame)."""
        if self.image is not None:
            return self.image
        if self.jpeg is None:
            return None
        decoded = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)
        return None if decoded is None else np.asarray(decoded, np.uint8)


def redact(url: str) -> str:
    """The URL without credentials, for logs and alarms (a camera URL may hold a password)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url


class StreamReader:
    """Reads one camera's stream in a daemon thread; the newest frame is in :attr:`latest`."""

    def __init__(self, camera_id: int, url: str) -> None:
        self.camera_id = camera_id
        self.url = url
        self.latest: RawFrame | None = None
        self.reason = "connecting"
        self.failures = 0
        self.restarts = 0
        self.frames = 0
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream {camera_id}", daemon=True)

    def start(self) -> StreamReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def ok(self) -> bool:
        return self.reason == ""

    def _put(self, jpeg: bytes | None = None, image: Image | None = None) -> None:
        self._seq += 1
        self.frames += 1
        self.latest = RawFrame(self._seq, time.monotonic(), jpeg, image)
        if self.reason:
            self.reason = ""
            self.failures = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
                raise StreamError("stream ended")
            except Exception as error:
                self.reason = (
                    str(error) if isinstance(error, StreamError) else f"{type(error).__name__}: {error}"
                )
                self.reason = self.reason.replace(self.url, redact(self.url))[:300]
            if self._stop.is_set():
                return
            delay = BACKOFF_S[min(self.failures, len(BACKOFF_S) - 1)]
            self.failures += 1
            self.restarts += 1
            log.info("camera %s stream failed (%s); retry in %.0f s", self.camera_id, self.reason, delay)
            self._stop.wait(delay)

    def _read(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme in ("http", "https"):
            self._read_mjpeg()
        elif scheme in ("rtsp", "rtsps", "file", ""):
            self._read_capture()
        else:
            raise StreamError(f"unsupported stream scheme {scheme!r}")

    def _read_mjpeg(self) -> None:
        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=READ_TIMEOUT_S)
        try:
            with httpx.stream("GET", self.url, timeout=timeout, follow_redirects=False) as response:
                if response.status_code != 200:
                    raise StreamError(f"HTTP {response.status_code} from {redact(self.url)}")
                kind = response.headers.get("content-type", "")
                if not kind.startswith("multipart/"):
                    raise StreamError(f"not an MJPEG stream (content type {kind or 'none'})")
                self._parts(response.iter_bytes())
        except httpx.TimeoutException as error:
            raise StreamError(f"no data for {READ_TIMEOUT_S:.0f} s ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise StreamError(f"cannot connect: {type(error).__name__}") from error

    def _parts(self, chunks: object) -> None:
        """Split multipart bytes into JPEG frames (by Content-Length, else by JPEG markers)."""
        buffer = b""
        for chunk in chunks:  # type: ignore[attr-defined]
            if self._stop.is_set():
                return
            buffer += chunk
            while True:
                start = buffer.find(b"\r\n\r\n")
                if start < 0:
                    break
                length = LENGTH.search(buffer[:start])
                if length is None:
                    begin = buffer.find(b"\xff\xd8")
                    end = buffer.find(b"\xff\xd9", begin + 2)
                    if begin < 0 or end < 0:
                        break
                    self._put(jpeg=buffer[begin : end + 2])
                    buffer = buffer[end + 2 :]
                    continue
                size = int(length.group(1))
                if size > MAX_PART_BYTES:
                    raise StreamError(f"frame of {size} bytes is too large")
                if len(buffer) < start + 4 + size:
                    break
                self._put(jpeg=buffer[start + 4 : start + 4 + size])
                buffer = buffer[start + 4 + size :]
            if len(buffer) > MAX_PART_BYTES:
                raise StreamError("no frame boundary found in the stream")

    def _read_capture(self) -> None:
        path = urlsplit(self.url).path if self.url.startswith("file:") else self.url
        is_file = not self.url.startswith(("rtsp:", "rtsps:"))
        if is_file and not Path(path).is_file():
            raise StreamError(f"no such file {Path(path).name}")
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        try:
            if not capture.isOpened():
                raise StreamError("cannot open the stream (unknown codec or format)")
            period = 1.0 / (capture.get(cv2.CAP_PROP_FPS) or 10.0)
            tick = time.monotonic()
            while not self._stop.is_set():
                ok, image = capture.read()
                if not ok:
                    if is_file and self.frames:
                        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)  # demo and test files loop
                        continue
                    raise StreamError("cannot decode a frame (unknown codec or corrupt stream)")
                self._put(image=np.asarray(image, np.uint8))
                if is_file:
                    tick = max(tick + period, time.monotonic() - 1.0)
                    self._stop.wait(max(0.0, tick - time.monotonic()))
        finally:
            capture.release()
