"""The analysis of one camera's frame: downscale, health, motion, detector on motion, track, rules.

One :class:`CameraPipeline` per camera holds everything that camera remembers (background, tracks,
rule state, health hysteresis). The detector runs at most once per frame, on one crop around what
moved, and not at all when nothing moved: that is where the CPU is saved (a street at night, or a
corridor between two passers-by, costs a resize and a subtraction).

Camera health comes from the same decoded frame, with the video wall's checks (black, covered,
blurred, frozen, moved: ``videowall.health``), so a camera that is analysed is also watched for
faults; a camera whose stream fails is reported ``offline`` with the decoder's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from smartseoul.safety.monitoring.detectors import Detection, Detector, Image, nms
from smartseoul.safety.monitoring.motion import MotionDetector, crop_for
from smartseoul.safety.monitoring.rules import Hit, Rule, RuleState, evaluate
from smartseoul.safety.monitoring.tracker import Track, Tracker
from smartseoul.safety.videowall import health
from smartseoul.safety.videowall.scenes import encode_jpeg

BLIND = ("black", "covered", "frozen")  # problems under which detection makes no sense
SNAPSHOT_QUALITY = 80
WHOLE_EVERY_S = 1.0  # while something moves, the detector sees the whole picture this often


@dataclass(frozen=True)
class Analysis:
    """What one analysed frame gave."""

    camera_id: int
    at: datetime
    motion: bool
    detector_called: bool
    detections: list[Detection]  # 0-1 boxes
    tracks: list[Track]
    hits: list[Hit]
    health: list[health.Transition]
    snapshot: bytes | None = None  # JPEG with the boxes drawn, when a rule fired


def downscale(image: Image, width: int) -> Image:
    """The frame at most ``width`` wide (sub-streams are often already small: left alone)."""
    if image.shape[1] <= width:
        return image
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


@dataclass
class CameraPipeline:
    """Everything one camera's analysis remembers between frames."""

    camera_id: int
    detector: Detector
    rules: list[Rule] = field(default_factory=list)
    threshold: float = 0.5
    width: int = 480
    thresholds: health.Thresholds = field(default_factory=health.Thresholds)
    motion: MotionDetector = field(default_factory=MotionDetector)
    tracker: Tracker = field(default_factory=Tracker)
    state: RuleState = field(default_factory=RuleState)
    health_state: health.HealthState = field(default_factory=health.HealthState)
    _reference: health.Reference | None = field(default=None, init=False)
    _previous: health.Grey | None = field(default=None, init=False)
    _whole_at: float = field(default=0.0, init=False)

    def set_threshold(self, threshold: float) -> None:
        """The camera's detection threshold (tuned by feedback); tracks start above it."""
        self.threshold = threshold
        self.tracker.high = threshold
        self.tracker.low = threshold * 0.5

    def __post_init__(self) -> None:
        self.set_threshold(self.threshold)

    def no_frame(self, at: datetime, reason: str) -> list[health.Transition]:
        """The stream gave nothing (it does not answer, ended, or sent a corrupt frame)."""
        self.motion.reset()
        return self.health_state.observe("offline", reason, at, self.thresholds)

    def _health(self, image: Image, at: datetime) -> list[health.Transition]:
        measures, self._previous = health.measure(image, self._previous, self._reference)
        problem, detail = health.classify(measures, self._reference, self.thresholds)
        if problem == "ok" and self._reference is None:
            self._reference = health.make_reference(image)
        return self.health_state.observe(problem, detail, at, self.thresholds)

    def _detect(self, image: Image, now: float) -> tuple[bool, list[Detection]]:
        regions = self.motion.regions(image)
        height, width = image.shape[:2]
        if regions:  # people already followed stay in the crop even while they stand still
            regions += [
                (int(t.box[0] * width), int(t.box[1] * height), int(t.box[2] * width), int(t.box[3] * height))
                for t in self.tracker.tracks
            ]
        crop = crop_for(regions, width, height)
        if crop is None:
            return False, []
        if now - self._whole_at >= WHOLE_EVERY_S:  # now and then the whole picture: people who
            crop, self._whole_at = (0, 0, width, height), now  # stand still are found again
        x1, y1, x2, y2 = crop
        found = self.detector.detect(image[y1:y2, x1:x2], self.tracker.low)
        boxes = [d.shifted(x1, y1) for d in nms(found)]
        return True, [
            Detection(d.x1 / width, d.y1 / height, d.x2 / width, d.y2 / height, d.score, d.label)
            for d in boxes
        ]

    def analyse(self, frame: Image, at: datetime) -> Analysis:
        """One frame taken at ``at`` (aware): its health, motion, detections, tracks and hits."""
        image = downscale(frame, self.width)
        now = at.timestamp()  # epoch seconds: hits carry when their track started, absolutely
        transitions = self._health(image, at)
        blind = self.health_state.active in BLIND or self.health_state.candidate in BLIND
        called, detections = (False, []) if blind else self._detect(image, now)
        tracks = self.tracker.update(detections, now)
        aspect = image.shape[1] / image.shape[0]
        hits = evaluate(self.rules, tracks, now, at, self.state, aspect)
        snapshot = _snapshot(image, tracks, hits) if hits else None
        return Analysis(self.camera_id, at, called, called, detections, tracks, hits, transitions, snapshot)


def _snapshot(image: Image, tracks: list[Track], hits: list[Hit]) -> bytes:
    """The frame with every track boxed, the ones that fired in red, as JPEG (the evidence)."""
    picture = image.copy()
    height, width = picture.shape[:2]
    firing = {hit.track_id for hit in hits}
    for track in tracks:
        colour = (0, 0, 255) if track.track_id in firing or 0 in firing else (0, 200, 0)
        x1, y1, x2, y2 = (
            int(v)
            for v in (
                track.box[0] * width,
                track.box[1] * height,
                track.box[2] * width,
                track.box[3] * height,
            )
        )
        cv2.rectangle(picture, (x1, y1), (x2, y2), colour, 2)
        cv2.putText(
            picture,
            f"#{track.track_id}",
            (x1, max(10, y1 - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            colour,
            1,
            cv2.LINE_AA,
        )
    for hit in hits:
        zone = np.array([[x * width, y * height] for x, y in hit.rule.zone], np.int32)
        cv2.polylines(picture, [zone], True, (0, 200, 255), 1)
    return encode_jpeg(picture, SNAPSHOT_QUALITY)
