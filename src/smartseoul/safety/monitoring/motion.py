"""Motion: where in a frame something changed, so the detector looks only there.

A running-average background of a small blurred grey copy (``MOTION_WIDTH`` wide): cheap, and it
works as well on a camera sampled every two seconds as on one analysed five times a second (a
Gaussian-mixture model assumes every frame). Changed pixels are cleaned by an opening, masked
(areas a camera must ignore: a clock, a tree, a road for a pavement rule), grouped into contours,
and contours smaller than ``min_area`` (a share of the picture) are dropped: sensor noise and the
burned-in clock are not motion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from smartseoul.safety.monitoring.detectors import Image

MOTION_WIDTH = 160
DIFF_LEVEL = 22  # grey levels a pixel must differ from the background to count as changed
LEARN_RATE = 0.08  # how fast the background follows the picture (lighting, parked cars)
Box = tuple[int, int, int, int]


@dataclass
class MotionDetector:
    """The background of one camera and the mask of what it ignores (polygons, 0-1 coordinates)."""

    min_area: float = 0.003
    masks: list[list[tuple[float, float]]] = field(default_factory=list)
    _background: NDArray[np.float32] | None = field(default=None, init=False, repr=False)
    _mask: NDArray[np.uint8] | None = field(default=None, init=False, repr=False)
    small: NDArray[np.float32] | None = field(default=None, init=False, repr=False)  # the last
    # small blurred grey picture: the stopped-object step reuses it instead of making its own

    def _small(self, image: Image) -> NDArray[np.float32]:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        height, width = grey.shape[:2]
        size = (MOTION_WIDTH, max(1, round(height * MOTION_WIDTH / width)))
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.GaussianBlur(small, (5, 5), 0), np.float32)

    def keep_mask(self) -> NDArray[np.uint8] | None:
        """Where the camera may look (255) on the last small picture; None before the first."""
        return None if self.small is None else self._ignore_mask(self.small.shape[:2])

    def _ignore_mask(self, shape: tuple[int, int]) -> NDArray[np.uint8]:
        if self._mask is None or self._mask.shape != shape:
            mask = np.full(shape, 255, np.uint8)
            for polygon in self.masks:
                points = np.array([[x * shape[1], y * shape[0]] for x, y in polygon], np.int32)
                cv2.fillPoly(mask, [points], 0)
            self._mask = mask
        return self._mask

    def reset(self) -> None:
        """Forget the background (the view moved, or the stream came back after a gap)."""
        self._background = None

    def regions(self, image: Image) -> list[Box]:
        """Boxes (x1, y1, x2, y2 in ``image`` pixels) of what moved since the background."""
        small = self.small = self._small(image)
        if self._background is None or self._background.shape != small.shape:
            self._background = small.copy()
            return []
        changed = (np.abs(small - self._background) > DIFF_LEVEL).astype(np.uint8) * 255
        cv2.accumulateWeighted(small, self._background, LEARN_RATE)
        changed = cv2.bitwise_and(changed, self._ignore_mask(changed.shape[:2]))
        changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        changed = cv2.dilate(changed, np.ones((5, 5), np.uint8))
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        least = self.min_area * changed.shape[0] * changed.shape[1]
        scale = image.shape[1] / changed.shape[1]
        boxes = []
        for contour in contours:
            if cv2.contourArea(contour) < least:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((int(x * scale), int(y * scale), int((x + w) * scale), int((y + h) * scale)))
        return boxes


def crop_for(regions: list[Box], width: int, height: int, least: int = 96) -> Box | None:
    """One crop covering every moving region, padded and made roughly square (the detector's
    input is square: a tall thin crop would squash people), or None when nothing moved."""
    if not regions:
        return None
    x1 = min(r[0] for r in regions)
    y1 = min(r[1] for r in regions)
    x2 = max(r[2] for r in regions)
    y2 = max(r[3] for r in regions)
    pad_x, pad_y = (x2 - x1) * 0.15 + 8, (y2 - y1) * 0.15 + 8
    left_f, top_f, right_f, bottom_f = x1 - pad_x, y1 - pad_y, x2 + pad_x, y2 + pad_y
    side = max(right_f - left_f, bottom_f - top_f, least)
    w = max(right_f - left_f, side * 0.6)
    h = max(bottom_f - top_f, side * 0.6)
    cx, cy = (left_f + right_f) / 2, (top_f + bottom_f) / 2
    w, h = min(w, width), min(h, height)
    left = int(min(max(0, cx - w / 2), width - w))
    top = int(min(max(0, cy - h / 2), height - h))
    return (left, top, int(left + w), int(top + h))
