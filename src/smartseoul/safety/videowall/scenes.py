"""Synthetic street scenes: a camera picture for every demo camera, made locally with OpenCV.

The demo city has no real cameras, yet the wall, the streams and the health monitor must work on
real pictures. Each camera gets a street (sky, buildings with windows, a pavement and a road with
lane marks, and a fixed fine texture like a real sensor's picture) drawn once from its id, so the
same camera always shows the same street; pedestrians and cars move across it as a function of
time, and the camera's name and the Korea time are burned in like a real camera's on-screen text.

A scene can be told to fail the way real cameras fail (frozen picture, black picture, covered lens,
heavy blur, view knocked aside, no picture at all), so the health monitor is tested on the faults
it has to find. The on-screen text is drawn after the fault (a real camera's encoder adds it after
the lens), except for a frozen picture, which repeats the whole last frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from numpy.typing import NDArray

Frame = NDArray[np.uint8]
Fault = Literal["freeze", "black", "covered", "blur", "moved", "offline"]
FAULTS: tuple[str, ...] = get_args(Fault)
SEOUL = ZoneInfo("Asia/Seoul")
MOVED_SHIFT = (0.14, 0.09)  # share of width and height a knocked camera's view slides by
MOVED_ROTATION_DEG = 7.0


@dataclass(frozen=True)
class Walker:
    """Something that crosses the picture: a pedestrian on the pavement or a car in a lane."""

    kind: Literal["person", "car"]
    start: float  # x at t = 0, in pixels
    speed: float  # pixels per second (negative: right to left)
    y: int  # where it stands (bottom edge)
    size: int  # height in pixels
    colour: tuple[int, int, int]


def _ascii_label(camera_id: int, name: str) -> str:
    """The burned-in label: OpenCV's fonts draw ASCII only, so a Korean name becomes the id alone."""
    printable = "".join(ch for ch in name if 32 <= ord(ch) < 127).strip()
    return f"CAM {camera_id:05d} {printable}"[:48].rstrip()


def _background(rng: np.random.Generator, width: int, height: int) -> Frame:
    """The street, drawn once: sky, a row of buildings with windows, pavement, road, fine texture."""
    image = np.zeros((height, width, 3), np.uint8)
    horizon, kerb = int(height * 0.42), int(height * 0.62)
    sky_top, sky_bottom = np.array(rng.integers(150, 230, 3)), np.array(rng.integers(200, 250, 3))
    ramp = np.linspace(0.0, 1.0, horizon)[:, None]
    image[:horizon] = (sky_top * (1 - ramp) + sky_bottom * ramp).astype(np.uint8)[:, None, :]
    x = 0
    while x < width:
        w = int(rng.integers(width // 12, width // 5))
        top = int(rng.integers(int(height * 0.05), int(horizon * 0.8)))
        shade = tuple(int(c) for c in rng.integers(60, 190, 3))
        cv2.rectangle(image, (x, top), (x + w, kerb), shade, -1)
        lit = tuple(int(c) for c in rng.integers(180, 255, 3))
        for wy in range(top + 8, kerb - 14, 16):
            for wx in range(x + 6, x + w - 10, 14):
                if rng.random() < 0.6:
                    cv2.rectangle(image, (wx, wy), (wx + 7, wy + 8), lit, -1)
        x += w + int(rng.integers(0, 6))
    image[kerb : kerb + height // 14] = (150, 155, 160)
    image[kerb + height // 14 :] = (72, 74, 78)
    lane = kerb + height // 14 + (height - kerb) // 2
    for lx in range(0, width, width // 8):
        cv2.rectangle(image, (lx, lane - 2), (lx + width // 16, lane + 2), (235, 235, 235), -1)
    grain = rng.normal(0.0, 7.0, (height, width, 1))
    return np.clip(image.astype(np.float32) + grain, 0, 255).astype(np.uint8)


def _walkers(rng: np.random.Generator, width: int, height: int) -> list[Walker]:
    kerb = int(height * 0.62)
    road_top, bottom = kerb + height // 14, height
    found: list[Walker] = []
    for _ in range(int(rng.integers(4, 9))):
        found.append(
            Walker(
                "person",
                float(rng.uniform(0, width)),
                float(rng.choice([-1, 1]) * rng.uniform(width * 0.03, width * 0.08)),
                int(rng.integers(kerb + 4, road_top)),
                int(height * rng.uniform(0.16, 0.22)),
                tuple(int(c) for c in rng.integers(20, 230, 3)),  # type: ignore[arg-type]
            )
        )
    for _ in range(int(rng.integers(2, 5))):
        found.append(
            Walker(
                "car",
                float(rng.uniform(0, width)),
                float(rng.choice([-1, 1]) * rng.uniform(width * 0.15, width * 0.35)),
                int(rng.integers(road_top + height // 10, bottom - 4)),
                int(height * rng.uniform(0.10, 0.14)),
                tuple(int(c) for c in rng.integers(20, 240, 3)),  # type: ignore[arg-type]
            )
        )
    return found


def _draw_walker(image: Frame, walker: Walker, t: float) -> None:
    width = image.shape[1]
    span = width + 4 * walker.size
    x = int((walker.start + walker.speed * t) % span) - 2 * walker.size
    s, y = walker.size, walker.y
    if walker.kind == "person":
        cv2.rectangle(image, (x - s // 8, y - int(s * 0.8)), (x + s // 8, y), walker.colour, -1)
        cv2.circle(image, (x, y - int(s * 0.88)), max(s // 9, 2), (150, 180, 210), -1)
        return
    length = int(s * 2.4)
    cv2.rectangle(image, (x - length // 2, y - s), (x + length // 2, y - s // 4), walker.colour, -1)
    cv2.rectangle(image, (x - length // 4, y - int(s * 1.45)), (x + length // 4, y - s), walker.colour, -1)
    for wheel in (x - length // 3, x + length // 3):
        cv2.circle(image, (wheel, y - s // 4), max(s // 5, 2), (20, 20, 20), -1)


def _put_text(image: Frame, text: str, origin: tuple[int, int], scale: float) -> None:
    """White text with a dark outline: readable on sky and on a black picture alike."""
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


@dataclass
class Scene:
    """One camera's picture as a function of time; deterministic for a camera id and size."""

    camera_id: int
    name: str = ""
    width: int = 640
    height: int = 360
    fault: Fault | None = None
    _background: Frame = field(init=False, repr=False)
    _walkers: list[Walker] = field(init=False, repr=False)
    _frozen: Frame | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.camera_id)
        self._background = _background(rng, self.width, self.height)
        self._walkers = _walkers(rng, self.width, self.height)
        self.label = _ascii_label(self.camera_id, self.name)

    def set_fault(self, fault: Fault | None) -> None:
        """Start (or, with None, end) a fault; a freeze keeps the last picture from now on."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        if fault != "freeze":
            self._frozen = None
        self.fault = fault

    def street(self, t: float) -> Frame:
        """The healthy picture at ``t`` (seconds since the epoch), without the on-screen text."""
        image = self._background.copy()
        for walker in self._walkers:
            _draw_walker(image, walker, t)
        return image

    def render(self, when: datetime) -> Frame | None:
        """The picture the camera sends at ``when`` (aware), or None when it sends nothing."""
        if self.fault == "offline":
            return None
        if self.fault == "freeze" and self._frozen is not None:
            return self._frozen
        image = self._faulty(self.street(when.timestamp()))
        scale = self.height / 720
        _put_text(image, self.label, (int(12 * scale * 2), int(34 * scale * 2)), 0.9 * scale * 2)
        stamp = when.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M:%S KST")
        _put_text(image, stamp, (int(12 * scale * 2), self.height - int(16 * scale * 2)), 0.8 * scale * 2)
        if self.fault == "freeze":
            self._frozen = image
        return image

    def _faulty(self, image: Frame) -> Frame:
        if self.fault == "black":
            return np.zeros_like(image)
        if self.fault == "covered":
            return _covered(self.width, self.height, self.camera_id)
        if self.fault == "blur":
            return np.asarray(cv2.GaussianBlur(image, (0, 0), self.width / 90), np.uint8)
        if self.fault == "moved":
            return _knocked(image)
        return image


def _covered(width: int, height: int, seed: int) -> Frame:
    """A hand, a bag or a sticker over the lens: a dim, almost even, slightly graded patch."""
    rng = np.random.default_rng(seed + 1)
    base = rng.integers(35, 90, 3).astype(np.float32)
    ramp = np.linspace(0.85, 1.15, height, dtype=np.float32)[:, None, None]
    return np.clip(base[None, None, :] * ramp + rng.normal(0, 1.5, (height, width, 1)), 0, 255).astype(
        np.uint8
    )


def _knocked(image: Frame) -> Frame:
    """The view after the camera was hit or its bracket slipped: turned and slid aside."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), MOVED_ROTATION_DEG, 1.0)
    matrix[0, 2] += width * MOVED_SHIFT[0]
    matrix[1, 2] += height * MOVED_SHIFT[1]
    moved = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    return np.asarray(moved, np.uint8)


def encode_jpeg(image: Frame, quality: int = 75) -> bytes:
    """JPEG bytes of a BGR picture (what a camera's MJPEG or snapshot endpoint sends)."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR array
        raise RuntimeError("JPEG encoding failed")
    return bytes(data)


def decode_jpeg(data: bytes) -> Frame | None:
    """The BGR picture in JPEG bytes, or None for bytes that are not a picture."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else np.asarray(image, np.uint8)


def frame_period(fps: float) -> float:
    """Seconds between frames (fps is bounded by the settings; guard anyway against zero)."""
    return 1.0 / max(fps, 1e-3) if math.isfinite(fps) else 1.0
