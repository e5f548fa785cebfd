"""The analysis of one camera's frame: downscale, health, motion, detector on motion, track, rules.

One :class:`CameraPipeline` per camera holds everything that camera remembers (background, tracks,
rule state, health hysteresis). The detector runs at most once per frame, on one crop around what
moved, and not at all when nothing moved: that is where the CPU is saved (a street at night, or a
corridor between two passers-by, costs a resize and a subtraction).

Camera health comes from the same decoded frame, with the video wall's checks (black, covered,
blurred, frozen, moved: ``videowall.health``), so a camera that is analysed is also watched for
faults; a camera whose stream fails is reported ``offline`` with the decoder's reason.

A camera with a ``vehicle_stopped`` rule also looks for stopped objects without any model
(``stationary.py``: a long-term and a short-term background of the motion step's small grey
picture). Their blobs are followed by a second tracker (same id sequence, so ids never clash) that
keeps a track through the seconds between idle samples; a stopped track that ever matches the box
of a person tracked lately (a person who stopped walking: the person detector runs only while
something moves, so their track ends seconds before their blob appears) is never reported. The
rule then decides which are vehicle-sized and stopped long enough. Cameras without such a rule
pay nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from smartseoul.safety.monitoring.detectors import DETECTOR_LABELS, Detection, Detector, Image, iou, nms
from smartseoul.safety.monitoring.motion import MotionDetector, crop_for
from smartseoul.safety.monitoring.rules import Hit, Rule, RuleState, evaluate, fits
from smartseoul.safety.monitoring.stationary import STATIC_LABEL, StationaryDetector
from smartseoul.safety.monitoring.tracker import Track, Tracker
from smartseoul.safety.videowall import health
from smartseoul.safety.videowall.scenes import encode_jpeg

BLIND = ("black", "covered", "frozen")  # problems under which detection makes no sense
SNAPSHOT_QUALITY = 80
WHOLE_EVERY_S = 1.0  # while something moves, the detector sees the whole picture this often
STOPPED_MAX_AGE_S = 15.0  # a stopped object's track outlives idle sampling (every camera is
# analysed at least every 10 s) and a passer-by hiding it for a moment
PERSON_MEMORY_S = 10.0  # a person's last box is remembered this long after their track ended
PERSON_IOU = 0.4  # a stopped blob this much like a person's box is that person (a driver getting
# out of a stopped car overlaps it far less, and must not veto it)
Box = tuple[float, float, float, float]


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


def labels_seen(detector: str) -> tuple[str, ...]:
    """What a camera's analysis can report with this detector: the model's labels, and the stopped
    objects every pipeline finds without a model (what a new rule is checked against)."""
    return (*DETECTOR_LABELS.get(detector, ("person",)), STATIC_LABEL)


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
    stationary: StationaryDetector = field(default_factory=StationaryDetector)
    stopped: Tracker = field(
        default_factory=lambda: Tracker(high=0.3, low=0.1, match_iou=0.3, max_age_s=STOPPED_MAX_AGE_S)
    )
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

    _people: dict[int, tuple[Box, float]] = field(default_factory=dict, init=False)
    _not_vehicles: set[int] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.set_threshold(self.threshold)
        self.stopped.ids = self.tracker.ids  # one id sequence: rule state is keyed by track id

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

    def _stopped_objects(self, now: float) -> list[Detection]:
        """Stopped blobs of this picture, for cameras with a stopped-vehicle rule only."""
        small = self.motion.small
        if small is None or not any(rule.kind == "vehicle_stopped" for rule in self.rules):
            self.stationary.reset()  # learned afresh when such a rule is added
            return []
        return self.stationary.update(small, now, self.motion.keep_mask())

    def _stopped_tracks(self, now: float, blind: bool, aspect: float) -> list[Track]:
        """The confirmed stopped-object tracks of a vehicle's size and shape for one of the rules
        (the console draws these), less those where a person stopped."""
        for track in self.tracker.tracks:
            if track.label == "person":
                self._people[track.track_id] = (track.box, track.last_seen)
        self._people = {k: v for k, v in self._people.items() if now - v[1] <= PERSON_MEMORY_S}
        confirmed = self.stopped.update([] if blind else self._stopped_objects(now), now)
        people = [box for box, _ in self._people.values()]
        alive = {t.track_id for t in self.stopped.tracks}
        self._not_vehicles = {i for i in self._not_vehicles if i in alive} | {
            t.track_id for t in self.stopped.tracks if any(iou(t.box, p) >= PERSON_IOU for p in people)
        }
        vehicle_rules = [rule for rule in self.rules if rule.kind == "vehicle_stopped"]
        return [
            t
            for t in confirmed
            if t.track_id not in self._not_vehicles and any(fits(t, rule, aspect) for rule in vehicle_rules)
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
        tracks = tracks + self._stopped_tracks(now, blind, aspect)
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
