"""Stopped objects without a model: a long-term and a short-term background ("static foreground").

The shipped person detectors see no vehicles, yet "a vehicle stopped where it must not" is a
traffic-surveillance classic that needs no model: keep two backgrounds of the small grey picture
the motion step already made, one that learns in seconds and one that learns only slowly and only
where nothing stands. Something that arrived and stopped differs from the long-term background but
has already been learned by the short-term one; something moving differs from both; the empty road
differs from neither. Pixels of that first kind grouped into blobs are the stopped objects.

Both learning rates are per second, not per frame, because a camera is analysed five times a second
while something moves and once every few seconds when idle.

Two classic traps are handled:

* the *ghost*: an object that was in the picture when the backgrounds were first learned leaves a
  hole that looks like a new stopped object. For the first ``WARMUP_S`` both backgrounds learn
  everywhere at the short-term rate and nothing is reported, so passers-by of the first picture
  fade out (an object that stops in that time becomes background: it is missed). What stayed the
  whole warm-up (a parked car) is in the long-term background; when it leaves, its hole is told
  from a new object by its edges: a real object has edges in the current picture along its
  outline, a ghost has them in the long-term background instead. A ghost is healed (copied into
  the long-term background) and never reported;
* a lighting change (cloud, street lights switching on) makes much of the picture differ from the
  long-term background at once: over ``RELEARN_SHARE`` the long-term background is learned anew.

Every blob is reported; which are vehicle-sized is up to the rule (its area and aspect bounds),
and blobs where a tracked person stopped are dropped by the pipeline (a person who stands still
is not a stopped car).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from smartseoul.safety.monitoring.detectors import Detection

STATIC_LABEL = "vehicle_sized"  # what a stopped blob is called: its size, not a model's class
SHORT_TAU_S = 3.0  # the short-term background takes in a stopped object within a few of these
LONG_TAU_S = 120.0  # the long-term background follows slow lighting drift, where nothing stands
DIFF_LEVEL = 22.0  # grey levels apart to differ from a background (as the motion step)
RELEARN_SHARE = 0.4  # static foreground over this share of the picture: lighting changed
WARMUP_S = 10.0  # both backgrounds learn everywhere for this long after the first picture
LEAST_BLOB = 0.001  # blobs below this share of the picture are noise, whatever the rule says
Grey = NDArray[np.float32]
Mask = NDArray[np.uint8]


@dataclass
class Backgrounds:
    """The two backgrounds of one camera's small grey picture and when they were last updated."""

    long: Grey
    short: Grey
    at: float
    born: float  # when the first picture came: the warm-up runs from there

    def warming(self, now: float) -> bool:
        """Still in the warm-up: whoever walked through the first picture is not yet learned away."""
        return now - self.born < WARMUP_S

    def static_pixels(self, small: Grey, keep: Mask | None) -> tuple[Mask, Mask]:
        """(static foreground, differs from the long-term background), both 0/255."""
        differs = _over(np.abs(small - self.long))
        moving = _over(np.abs(small - self.short))
        static = cv2.bitwise_and(differs, cv2.bitwise_not(moving))
        if keep is not None and keep.shape == static.shape:
            static = cv2.bitwise_and(static, keep)
        static = cv2.morphologyEx(static, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        static = cv2.morphologyEx(static, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        return np.asarray(static, np.uint8), differs

    def learn(self, small: Grey, now: float, differs: Mask) -> None:
        """Short-term everywhere; long-term only where the picture is still the empty scene."""
        elapsed = max(0.0, now - self.at)
        self.at = now
        short_rate = 1.0 - math.exp(-elapsed / SHORT_TAU_S)
        long_rate = 1.0 - math.exp(-elapsed / LONG_TAU_S)
        cv2.accumulateWeighted(small, self.short, short_rate)
        if self.warming(now):
            cv2.accumulateWeighted(small, self.long, short_rate)
        else:
            cv2.accumulateWeighted(small, self.long, long_rate, mask=cv2.bitwise_not(differs))

    def heal(self, blob: Mask, small: Grey) -> None:
        """Copy what the camera sees now into the long-term background where a ghost was."""
        np.copyto(self.long, small, where=blob > 0)


@dataclass
class StationaryDetector:
    """Stopped objects of one camera; ``least``: the smallest blob kept (share of the picture)."""

    least: float = LEAST_BLOB
    backgrounds: Backgrounds | None = field(default=None, init=False, repr=False)

    def reset(self) -> None:
        """Forget both backgrounds (learned afresh from the next picture)."""
        self.backgrounds = None

    def update(self, small: Grey, now: float, keep: Mask | None = None) -> list[Detection]:
        """Take one small grey picture at ``now`` (seconds); the stopped blobs in 0-1 boxes.

        ``keep`` is the camera's mask (255 where it may look, 0 where it must ignore), the same
        as the motion step's, so an ignored area never holds a stopped object.
        """
        found = self.backgrounds
        if found is None or found.long.shape != small.shape:
            self.backgrounds = Backgrounds(small.copy(), small.copy(), now, now)
            return []
        static, differs = found.static_pixels(small, keep)
        found.learn(small, now, differs)
        if found.warming(now):
            return []
        if cv2.countNonZero(static) > RELEARN_SHARE * static.size:
            found.long = small.copy()  # the whole picture changed: light, not objects
            return []
        return self._blobs(found, static, small)

    def _blobs(self, backgrounds: Backgrounds, static: Mask, small: Grey) -> list[Detection]:
        """The static foreground's blobs over ``least`` that are not ghosts (ghosts are healed)."""
        contours, _ = cv2.findContours(static, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        height, width = static.shape
        least = self.least * height * width
        contours = [c for c in contours if cv2.contourArea(c) >= least]
        if not contours:
            return []
        edges_now, edges_then = _edges(small), _edges(backgrounds.long)  # once per picture
        found = []
        for contour in contours:
            blob = np.zeros_like(static)
            cv2.drawContours(blob, [contour], -1, 255, cv2.FILLED)
            if _is_ghost(blob, edges_now, edges_then):
                backgrounds.heal(blob, small)
                continue
            x, y, w, h = cv2.boundingRect(contour)
            fill = min(1.0, cv2.contourArea(contour) / max(1.0, float(w * h)))  # solid, not scattered
            box = (x / width, y / height, (x + w) / width, (y + h) / height)
            found.append(Detection(*box, fill, STATIC_LABEL))
        return found


def _over(difference: Grey) -> Mask:
    """255 where a difference is over ``DIFF_LEVEL``, 0 elsewhere."""
    return np.where(difference > DIFF_LEVEL, np.uint8(255), np.uint8(0)).astype(np.uint8)


def _is_ghost(blob: Mask, edges_now: Grey, edges_then: Grey) -> bool:
    """Are the blob's outline edges in the long-term background rather than in the picture (an
    object that was there when the backgrounds were learned, and has left)."""
    kernel = np.ones((3, 3), np.uint8)
    ring = cv2.subtract(cv2.dilate(blob, kernel), cv2.erode(blob, kernel))
    return float(cv2.mean(edges_then, ring)[0]) > float(cv2.mean(edges_now, ring)[0])


def _edges(grey: Grey) -> Grey:
    """Gradient magnitude (absolute Sobel in x plus in y)."""
    dx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(np.abs(dx) + np.abs(dy), np.float32)
