"""Stopped vehicles on the default CPU pipeline: synthetic streets where a car-sized object drives
in and stops (or does not), analysed as the scheduler would (5 fps while something moves, then a
frame every 2 s)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from smartseoul.safety.monitoring.detectors import Detection, Detector, Image, SsdLiteDetector
from smartseoul.safety.monitoring.pipeline import CameraPipeline
from smartseoul.safety.monitoring.rules import Hit, Rule
from smartseoul.safety.monitoring.stationary import STATIC_LABEL, WARMUP_S
from smartseoul.safety.monitoring.tracker import Track

START = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
WIDTH, HEIGHT = 480, 270
NO_STOPPING = ((0.55, 0.55), (0.98, 0.55), (0.98, 0.98), (0.55, 0.98))  # lower right kerb
STOPPED_S = 10.0
CAR = (80, 40)  # pixels: a car side-on, 2.5% of the picture
PERSON = (22, 60)
MAGENTA = (255, 0, 255)  # what the test's person detector recognises as people


@dataclass(frozen=True)
class Mover:
    """A rectangle that appears at ``start`` (top-left corner, pixels) at ``begin`` seconds, drives
    to ``stop`` at ``speed`` pixels per second and stands there; ``leave_at``: when it vanishes
    (None: never). Movers begin after the stopped-object warm-up unless told otherwise."""

    start: tuple[float, float]
    stop: tuple[float, float]
    size: tuple[int, int]
    colour: tuple[int, int, int] = (30, 30, 30)
    speed: float = 120.0
    leave_at: float | None = None
    begin: float = WARMUP_S + 2.0

    def arrived_at(self) -> float:
        distance = float(np.hypot(self.stop[0] - self.start[0], self.stop[1] - self.start[1]))
        return self.begin + distance / self.speed

    def corner(self, t: float) -> tuple[int, int] | None:
        if t < self.begin or (self.leave_at is not None and t >= self.leave_at):
            return None
        travel = self.arrived_at() - self.begin
        share = min(1.0, (t - self.begin) / travel) if travel > 0 else 1.0
        x = self.start[0] + (self.stop[0] - self.start[0]) * share
        y = self.start[1] + (self.stop[1] - self.start[1]) * share
        return round(x), round(y)


def street() -> Image:
    """An empty street: pavement, road, lane marks and some fixed texture."""
    image = np.full((HEIGHT, WIDTH, 3), 115, np.uint8)
    image[:120] = (150, 155, 160)  # pavement
    image[118:122] = 200  # kerb
    for x in range(0, WIDTH, 60):
        image[190:194, x : x + 30] = 230  # lane marks
    texture = cv2.GaussianBlur(np.random.default_rng(1).normal(0, 10, (HEIGHT, WIDTH)), (0, 0), 2)
    return np.asarray(np.clip(image + texture[..., None], 0, 255), np.uint8)


def render(background: Image, movers: list[Mover], t: float, rng: np.random.Generator) -> Image:
    """The street at ``t`` with its movers and fresh sensor noise."""
    image = background.copy()
    for mover in movers:
        corner = mover.corner(t)
        if corner is None:
            continue
        x, y = corner
        w, h = mover.size
        cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), mover.colour, cv2.FILLED)
        if mover.size[0] > mover.size[1]:  # a car: lighter windows
            cv2.rectangle(image, (x + 12, y + 4), (x + w - 14, y + h // 3), (170, 160, 150), cv2.FILLED)
    noise = rng.normal(0, 3, image.shape)
    return np.asarray(np.clip(image + noise, 0, 255), np.uint8)


def analysis_times(moving_until: float, end: float) -> Iterator[float]:
    """As the scheduler: 5 fps while something moves (and 3 s after), then every 2 s."""
    t = 0.0
    while t <= end:
        yield t
        t += 0.2 if t < moving_until + 3.0 else 2.0


class ColourPeople:
    """A person detector for synthetic scenes: magenta rectangles are people."""

    name = "colour"
    labels: tuple[str, ...] = ("person",)

    def detect(self, image: Image, threshold: float) -> list[Detection]:
        mask = cv2.inRange(image, (200, 0, 200), (255, 60, 255))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        found = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= 100:
                found.append(Detection(x, y, x + w, y + h, 0.9))
        return found


@pytest.fixture(scope="module")
def ssdlite() -> SsdLiteDetector:
    cv2.setNumThreads(1)
    return SsdLiteDetector()


def run(
    movers: list[Mover], detector: Detector, end: float, zone: tuple[tuple[float, float], ...] = NO_STOPPING
) -> tuple[list[tuple[float, Hit]], list[Track]]:
    """Analyse the scene until ``end`` seconds; the hits with the time they came, and the
    vehicle-sized tracks of the last picture (the boxes the console draws)."""
    rule = Rule(1, "vehicle_stopped", zone, {"stopped_s": STOPPED_S, **BOUNDS})
    pipeline = CameraPipeline(9, detector, [rule])
    background, rng = street(), np.random.default_rng(7)
    moving_until = max(m.arrived_at() if m.leave_at is None else m.leave_at for m in movers)
    hits, tracks = [], []
    for t in analysis_times(moving_until, end):
        result = pipeline.analyse(render(background, movers, t, rng), START + timedelta(seconds=t))
        hits += [(t, hit) for hit in result.hits]
        tracks = [track for track in result.tracks if track.label == STATIC_LABEL]
    return hits, tracks


BOUNDS = {"min_area": 0.003, "max_area": 0.3, "min_ratio": 0.8, "max_ratio": 5.0}  # the defaults


def test_a_car_that_stops_in_the_no_stopping_zone_raises_one_event_after_stopped_s(
    ssdlite: SsdLiteDetector,
) -> None:
    car = Mover(start=(-90, 160), stop=(300, 170), size=CAR)
    hits, tracks = run([car], ssdlite, end=car.arrived_at() + STOPPED_S + 20)
    assert len(hits) == 1
    at, hit = hits[0]
    assert hit.rule.kind == "vehicle_stopped"
    # the short-term background takes a few seconds to learn it, and idle frames come every 2 s
    assert STOPPED_S <= at - car.arrived_at() <= STOPPED_S + 10
    assert hit.detail.startswith("stopped vehicle-sized object for ")
    assert [t.track_id for t in tracks] == [hit.track_id]  # still boxed on the console
    x1, _, x2, y2 = tracks[0].box
    assert abs(x1 * WIDTH - 300) <= 12
    assert abs(x2 * WIDTH - 380) <= 12
    assert abs(y2 * HEIGHT - 210) <= 12


def test_a_car_that_drives_through_the_zone_raises_nothing() -> None:
    car = Mover(start=(-90, 170), stop=(WIDTH + 10, 170), size=CAR, speed=60.0)
    hits, tracks = run([car], ColourPeople(), end=car.arrived_at() + STOPPED_S + 20)
    assert hits == []
    assert tracks == []


def test_a_car_that_stops_outside_the_zone_raises_nothing() -> None:
    car = Mover(start=(-90, 130), stop=(60, 130), size=CAR)
    hits, tracks = run([car], ColourPeople(), end=car.arrived_at() + STOPPED_S + 20)
    assert hits == []
    assert len(tracks) == 1  # it was seen standing, just not where it is banned


def test_a_person_standing_still_in_the_zone_is_not_a_stopped_vehicle() -> None:
    person = Mover(start=(470, 130), stop=(330, 170), size=PERSON, colour=(60, 50, 40), speed=40.0)
    hits, tracks = run([person], ColourPeople(), end=person.arrived_at() + STOPPED_S + 20)
    assert hits == []  # too tall and thin for a vehicle
    assert tracks == []


def test_people_side_by_side_the_person_detector_saw_are_not_a_stopped_vehicle() -> None:
    group = Mover(start=(470, 140), stop=(330, 160), size=(50, 55), colour=MAGENTA, speed=40.0)
    hits, _ = run([group], ColourPeople(), end=group.arrived_at() + STOPPED_S + 20)
    assert hits == []
    unseen = Mover(start=(470, 140), stop=(330, 160), size=(50, 55), colour=(60, 50, 40), speed=40.0)
    hits, _ = run([unseen], ColourPeople(), end=unseen.arrived_at() + STOPPED_S + 20)
    assert len(hits) == 1  # the same shape the person detector did not see passes the size bounds


def test_a_car_parked_since_start_up_that_leaves_leaves_no_ghost() -> None:
    parked = Mover(start=(320, 175), stop=(320, 175), size=CAR, begin=0.0, leave_at=WARMUP_S + 5)
    hits, tracks = run([parked], ColourPeople(), end=WARMUP_S + 5 + STOPPED_S + 20)
    assert hits == []
    assert tracks == []
