"""Tracking: stable ids for the people a camera sees, in numpy, ByteTrack-style.

Each analysed frame's detections are matched to the live tracks by overlap (IoU), best pairs
first. As in ByteTrack, confident detections are matched first and weak ones (a person half behind
a pole) only keep existing tracks alive, never start one. A track is confirmed after ``min_hits``
matches (one stray box is not a person) and dropped after ``max_age_s`` without one. Positions are
kept in 0-1 picture coordinates so rules do not depend on the analysis size.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from smartseoul.safety.monitoring.detectors import Detection, iou

HISTORY = 60  # positions kept per track (speed, dwell)


@dataclass
class Track:
    """One person (or vehicle) followed over frames; ``box`` in 0-1 coordinates."""

    track_id: int
    box: tuple[float, float, float, float]
    score: float
    label: str
    first_seen: float
    last_seen: float
    hits: int = 1
    history: deque[tuple[float, float, float, float]] = field(default_factory=lambda: deque(maxlen=HISTORY))

    @property
    def foot(self) -> tuple[float, float]:
        """Where the person stands: the middle of the box's bottom edge."""
        return ((self.box[0] + self.box[2]) / 2, self.box[3])

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    def speed(self, window_s: float = 1.5) -> float:
        """Ground speed in body heights per second over the last ``window_s`` seconds."""
        recent = [h for h in self.history if h[0] >= self.last_seen - window_s]
        if len(recent) < 2 or recent[-1][0] - recent[0][0] < 0.3:
            return 0.0
        (t0, x0, y0, _), (t1, x1, y1, _) = recent[0], recent[-1]
        body = max(float(np.median([h[3] for h in recent])), 1e-3)
        return float(np.hypot(x1 - x0, y1 - y0) / body / (t1 - t0))


@dataclass
class Tracker:
    """The live tracks of one camera."""

    high: float = 0.5
    low: float = 0.25
    match_iou: float = 0.2
    min_hits: int = 2
    max_age_s: float = 2.0
    tracks: list[Track] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))  # shareable: one
    # camera's trackers (people, stopped objects) then never give two tracks the same id

    def _match(self, tracks: list[Track], detections: list[Detection]) -> list[tuple[int, int]]:
        """Greedy best-overlap pairs (track index, detection index) above ``match_iou``."""
        if not tracks or not detections:
            return []
        scores = np.array([[iou(t.box, d.box) for d in detections] for t in tracks])
        pairs = []
        while scores.size and scores.max() >= self.match_iou:
            ti, di = np.unravel_index(int(scores.argmax()), scores.shape)
            pairs.append((int(ti), int(di)))
            scores[ti, :] = -1
            scores[:, di] = -1
        return pairs

    def update(self, detections: list[Detection], now: float) -> list[Track]:
        """Take one frame's detections (0-1 boxes) at ``now`` (seconds); the confirmed tracks."""
        strong = [d for d in detections if d.score >= self.high]
        weak = [d for d in detections if self.low <= d.score < self.high]
        current = list(self.tracks)
        pairs = self._match(current, strong)
        for ti, di in pairs:
            self._refresh(current[ti], strong[di], now)
        matched = {ti for ti, _ in pairs}
        rest = [t for i, t in enumerate(current) if i not in matched]
        for ti, di in self._match(rest, weak):
            self._refresh(rest[ti], weak[di], now)
        used = {di for _, di in pairs}
        for di, detection in enumerate(strong):
            if di not in used:
                self._start(detection, now)
        self.tracks = [t for t in self.tracks if now - t.last_seen <= self.max_age_s]
        return self.confirmed()

    def confirmed(self) -> list[Track]:
        return [t for t in self.tracks if t.hits >= self.min_hits]

    def _refresh(self, track: Track, detection: Detection, now: float) -> None:
        if track.last_seen == now:
            return
        track.box, track.score, track.last_seen = detection.box, detection.score, now
        track.hits += 1
        track.history.append((now, *track.foot, track.height))

    def _start(self, detection: Detection, now: float) -> None:
        track = Track(next(self.ids), detection.box, detection.score, detection.label, now, now)
        track.history.append((now, *track.foot, track.height))
        self.tracks.append(track)
