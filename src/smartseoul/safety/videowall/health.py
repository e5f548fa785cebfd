"""Camera health from the pictures themselves: offline, frozen, black, covered, blurred, moved.

Pure functions and a small state machine, so each detector is tested on real frames (a scene with
the fault applied) without a server. The monitor (``monitor.py``) feeds them decoded frames.

How each problem is seen, on a grey copy scaled to ``ANALYSIS_WIDTH`` (cheap, and it evens out
JPEG noise):

* offline: no new frame for ``offline_after_s``;
* frozen: the frame did not change at all from the previous sample (a real scene always changes:
  people, cars, sensor noise, the burned-in clock), held for ``frozen_after_s``;
* black: 95% of the picture darker than ``BLACK_LEVEL``;
* covered: no contrast: the 5th and 95th brightness percentiles within ``COVERED_SPREAD`` (a
  hand or bag over the lens). Percentiles, not the mean and variance, so the camera's own
  on-screen text (a few % of the pixels) does not hide a dead picture;
* blurred: sharpness (the median over a 4x4 grid of the variance of the Laplacian, so text in one
  corner does not count) under ``blur_ratio`` of the sharpness of the camera's own reference
  frame: each camera is judged against itself, a foggy hillside camera is not "blurred";
* moved: against the stored reference frame, a phase correlation shift over ``moved_px`` pixels
  (at full size), or a low similarity of the two pictures (a turned view that no shift explains).

A problem is raised only after it held for its delay and cleared only after the camera was fine
for ``clear_after_s``: a flicker does not flap the alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from smartseoul.safety.videowall.scenes import Frame

Problem = Literal["offline", "frozen", "black", "covered", "blurred", "moved", "ok"]
PROBLEMS: tuple[Problem, ...] = ("offline", "frozen", "black", "covered", "blurred", "moved")
ANALYSIS_WIDTH = 320
REFERENCE_WIDTH = 160  # phase correlation and similarity on a smaller, smoother copy
BLACK_LEVEL = 32.0
COVERED_SPREAD = 28.0
FROZEN_DIFF = 0.05  # mean absolute grey difference between two samples: exactly 0 for a repeat
Grey = NDArray[np.float32]


@dataclass(frozen=True)
class Thresholds:
    """What counts as a problem, and for how long it must hold (from the settings)."""

    blur_ratio: float = 0.35
    moved_px: float = 12.0
    moved_similarity: float = 0.5
    offline_after_s: float = 10.0
    frozen_after_s: float = 5.0
    raise_after_s: float = 3.0
    clear_after_s: float = 5.0

    def delay(self, problem: Problem) -> float:
        """Seconds a problem must hold before it is raised (offline carries its own wait)."""
        if problem == "offline":
            return 0.0
        return self.frozen_after_s if problem == "frozen" else self.raise_after_s


@dataclass(frozen=True)
class Measures:
    """What one frame tells: brightness spread, sharpness, change and shift from the references."""

    p5: float
    p95: float
    sharpness: float
    change: float | None  # mean absolute difference from the previous sample
    shift_px: float | None  # phase correlation shift from the reference frame, at full size
    similarity: float | None  # correlation with the reference frame (1 = the same view)


@dataclass(frozen=True)
class Reference:
    """A camera's picture of itself when it was fine: its view and its usual sharpness."""

    small: Grey
    sharpness: float
    width: int


def grey(image: Frame) -> Grey:
    """The frame as float grey at ``ANALYSIS_WIDTH`` wide."""
    g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    height, width = g.shape[:2]
    scaled = cv2.resize(
        g, (ANALYSIS_WIDTH, max(1, round(height * ANALYSIS_WIDTH / width))), interpolation=cv2.INTER_AREA
    )
    return np.asarray(scaled, np.float32)


def sharpness(g: Grey) -> float:
    """Median over a 4x4 grid of the variance of the Laplacian (text in one block does not count)."""
    lap = cv2.Laplacian(g, cv2.CV_32F)
    h, w = lap.shape
    blocks = [
        float(lap[i * h // 4 : (i + 1) * h // 4, j * w // 4 : (j + 1) * w // 4].var())
        for i in range(4)
        for j in range(4)
    ]
    return float(np.median(blocks))


def _small(g: Grey) -> Grey:
    height, width = g.shape
    size = (REFERENCE_WIDTH, max(1, round(height * REFERENCE_WIDTH / width)))
    return np.asarray(
        cv2.GaussianBlur(cv2.resize(g, size, interpolation=cv2.INTER_AREA), (0, 0), 1.0), np.float32
    )


def make_reference(image: Frame) -> Reference:
    g = grey(image)
    return Reference(_small(g), sharpness(g), image.shape[1])


def _compare(reference: Reference, g: Grey) -> tuple[float, float]:
    """(shift in full-size pixels, correlation) of this frame against the reference view."""
    small = _small(g)
    if small.shape != reference.small.shape:
        return math.inf, 0.0
    window = cv2.createHanningWindow(small.shape[::-1], cv2.CV_32F)
    # copies: OpenCV applies the window to its inputs in place, which would wear the reference away
    (dx, dy), _response = cv2.phaseCorrelate(reference.small.copy(), small.copy(), window)
    return math.hypot(dx, dy) * reference.width / REFERENCE_WIDTH, _block_similarity(reference.small, small)


def _correlation(a: Grey, b: Grey) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-6 else 1.0


def _block_similarity(reference: Grey, current: Grey) -> float:
    """Median over a 4x4 grid of the correlation of each block with the reference's.

    People and cars change a few blocks of a fixed view; a turned or shifted view changes them all.
    """
    h, w = reference.shape
    scores = [
        _correlation(
            reference[i * h // 4 : (i + 1) * h // 4, j * w // 4 : (j + 1) * w // 4],
            current[i * h // 4 : (i + 1) * h // 4, j * w // 4 : (j + 1) * w // 4],
        )
        for i in range(4)
        for j in range(4)
    ]
    return float(np.median(scores))


def measure(image: Frame, previous: Grey | None, reference: Reference | None) -> tuple[Measures, Grey]:
    """The measures of a frame, and its grey copy (the ``previous`` of the next sample)."""
    g = grey(image)
    p5, p95 = (float(v) for v in np.percentile(g, (5, 95)))
    change = (
        float(np.abs(g - previous).mean()) if previous is not None and previous.shape == g.shape else None
    )
    shift = similarity = None
    if reference is not None:
        shift, similarity = _compare(reference, g)
    return Measures(p5, p95, sharpness(g), change, shift, similarity), g


def classify(m: Measures, reference: Reference | None, thresholds: Thresholds) -> tuple[Problem, str]:
    """The one problem a frame shows (the most basic first: a black frame is also blurred), and why."""
    if m.change is not None and m.change < FROZEN_DIFF:
        return "frozen", f"picture unchanged (mean difference {m.change:.3f})"
    if m.p95 < BLACK_LEVEL:
        return "black", f"95% of the picture darker than {BLACK_LEVEL:.0f} (p95 {m.p95:.1f})"
    if m.p95 - m.p5 < COVERED_SPREAD:
        return "covered", f"no contrast: brightness p5-p95 {m.p5:.1f}-{m.p95:.1f}"
    if reference is not None:
        if reference.sharpness > 0 and m.sharpness < thresholds.blur_ratio * reference.sharpness:
            share = m.sharpness / reference.sharpness
            return "blurred", f"sharpness {share:.0%} of the reference frame's"
        shifted = m.shift_px is not None and m.shift_px > thresholds.moved_px
        unlike = m.similarity is not None and m.similarity < thresholds.moved_similarity
        if shifted or unlike:
            return (
                "moved",
                f"view shifted {m.shift_px:.0f} px, similarity {m.similarity:.2f} to the reference",
            )
    return "ok", ""


@dataclass(frozen=True)
class Transition:
    """A problem raised (``ok`` False) or cleared (``ok`` True)."""

    problem: Problem
    ok: bool
    detail: str


@dataclass
class HealthState:
    """The hysteresis of one camera: what is raised, and what has been seen since when."""

    active: Problem = "ok"
    candidate: Problem = "ok"
    candidate_since: datetime | None = None
    detail: str = ""

    def observe(
        self, problem: Problem, detail: str, now: datetime, thresholds: Thresholds
    ) -> list[Transition]:
        """Take one sample's verdict; return what is raised or cleared by it (often nothing)."""
        if problem != self.candidate or self.candidate_since is None:
            self.candidate, self.candidate_since = problem, now
        if problem != "ok":
            self.detail = detail
        if self.candidate == self.active:
            return []
        held = (now - self.candidate_since).total_seconds()
        if self.candidate == "ok":
            if held < thresholds.clear_after_s:
                return []
            changes = [Transition(self.active, True, "cleared")]
        else:
            if held < thresholds.delay(self.candidate):
                return []
            changes = [Transition(self.active, True, "cleared")] if self.active != "ok" else []
            changes.append(Transition(self.candidate, False, self.detail))
        self.active = self.candidate
        return changes
