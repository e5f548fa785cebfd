"""Rules per camera zone: what a track must do, where and when, to raise a detection.

A zone is a polygon in 0-1 picture coordinates (so it survives a change of stream resolution);
a person is in it when the middle of their feet (the bottom of the box) is. The kinds:

* ``intrusion``: anyone in the zone between ``start`` and ``end`` (HH:MM, Asia/Seoul; an end
  before the start wraps past midnight);
* ``loitering``: one person in the zone for more than ``dwell_s`` seconds;
* ``person_down``: a person whose box became wider than tall (lying) for ``hold_s`` seconds;
* ``crowding``: more than ``max_people`` people in the zone at once;
* ``running``: a person moving faster than ``speed`` body heights per second;
* ``vehicle_stopped``: a vehicle still for ``stopped_s`` seconds. The shipped person models see no
  vehicles, so every pipeline also reports stopped objects found without a model (``stationary.py``,
  label ``vehicle_sized``); an operator's ONNX model may report cars, buses, trucks, motorcycles.
  Like Frigate's object filters, the rule keeps only boxes of a vehicle's size and shape:
  ``min_area``/``max_area`` (shares of the picture) and ``min_ratio``/``max_ratio`` (width over
  height in pixels), so a person standing still is not a stopped car. A detector set that sees no
  vehicle at all (``detector_labels`` without one) is refused naming ``kind``.

Invalid input is refused with :class:`RuleError` naming the field. Each (rule, track) fires once;
a crowding rule fires once per crowd and again only after the zone emptied below the limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smartseoul.safety.monitoring.stationary import STATIC_LABEL
from smartseoul.safety.monitoring.tracker import Track

SEOUL = ZoneInfo("Asia/Seoul")
KINDS = ("intrusion", "loitering", "person_down", "crowding", "running", "vehicle_stopped")
VEHICLES = ("car", "bus", "truck", "motorcycle", "vehicle", STATIC_LABEL)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# parameter -> (default, low, high) per kind
PARAMS: dict[str, dict[str, tuple[float, float, float]]] = {
    "intrusion": {},
    "loitering": {"dwell_s": (30.0, 2.0, 3600.0)},
    "person_down": {"hold_s": (2.0, 0.5, 60.0)},
    "crowding": {"max_people": (5.0, 1.0, 500.0)},
    "running": {"speed": (1.5, 0.3, 20.0)},
    "vehicle_stopped": {  # stopped_s first: the console's editor sets the first parameter
        "stopped_s": (60.0, 5.0, 3600.0),
        "min_area": (0.003, 0.0005, 1.0),  # a far car in a 480 x 270 picture is about 30 x 15 px
        "max_area": (0.3, 0.0005, 1.0),
        "min_ratio": (0.8, 0.1, 10.0),  # a standing person is about 0.4; a car head-on about 1.2
        "max_ratio": (5.0, 0.1, 10.0),  # a bus side-on is about 3 to 4
    },
}
BOUNDS = (("min_area", "max_area"), ("min_ratio", "max_ratio"))
MAX_POINTS = 32
Point = tuple[float, float]


class RuleError(ValueError):
    """A zone or rule that cannot be used; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Rule:
    """One checked rule of a camera."""

    rule_id: int
    kind: str
    zone: tuple[Point, ...]
    params: dict[str, float] = field(default_factory=dict)
    start: str | None = None
    end: str | None = None
    name: str = ""


def check_zone(points: Any) -> tuple[Point, ...]:
    """A polygon of 3 to ``MAX_POINTS`` points inside the picture with some area, or RuleError."""
    if not isinstance(points, list | tuple) or not 3 <= len(points) <= MAX_POINTS:
        raise RuleError("zone", f"a zone is a list of 3 to {MAX_POINTS} [x, y] points")
    polygon = []
    for i, point in enumerate(points):
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
        ):
            raise RuleError(f"zone[{i}]", "each point is [x, y] with numbers between 0 and 1")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise RuleError(f"zone[{i}]", "points are shares of the picture: 0 to 1")
        polygon.append((x, y))
    if abs(_area(polygon)) < 1e-4:
        raise RuleError("zone", "the zone has no area (points in a line or repeated)")
    return tuple(polygon)


def check_rule(
    kind: Any,
    zone: Any,
    params: Any,
    start: Any = None,
    end: Any = None,
    detector_labels: tuple[str, ...] = ("person",),
) -> tuple[str, tuple[Point, ...], dict[str, float], str | None, str | None]:
    """The rule's parts, checked: (kind, zone, params with defaults, start, end)."""
    if kind not in KINDS:
        raise RuleError("kind", f"unknown rule kind {kind!r}; one of {', '.join(KINDS)}")
    if kind == "vehicle_stopped" and not set(detector_labels) & set(VEHICLES):
        raise RuleError(
            "kind",
            "the detectors in use see persons only: a stopped-vehicle rule needs one that sees vehicles",
        )
    polygon = check_zone(zone)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RuleError("params", "params is an object of numbers")
    allowed = PARAMS[kind]
    checked: dict[str, float] = {}
    for key in params:
        if key not in allowed:
            raise RuleError(f"params.{key}", f"{kind} takes {', '.join(allowed) or 'no parameters'}")
    for key, (default, low, high) in allowed.items():
        value = params.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
            raise RuleError(f"params.{key}", f"{key} is a number from {low:g} to {high:g}")
        checked[key] = float(value)
    for low_key, high_key in BOUNDS:
        if low_key in checked and checked[low_key] > checked[high_key]:
            raise RuleError(f"params.{high_key}", f"{high_key} must be at least {low_key}")
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, str) or not HHMM.match(value)):
            raise RuleError(name, f"{name} is a time HH:MM (Asia/Seoul)")
    if kind == "intrusion" and (start is None) != (end is None):
        raise RuleError("end" if end is None else "start", "give both start and end, or neither (always)")
    return kind, polygon, checked, start, end


def _area(polygon: list[Point] | tuple[Point, ...]) -> float:
    return 0.5 * sum(
        polygon[i][0] * polygon[i - 1][1] - polygon[i - 1][0] * polygon[i][1] for i in range(len(polygon))
    )


def inside(point: Point, polygon: tuple[Point, ...]) -> bool:
    """Ray casting: is the point inside the polygon."""
    x, y = point
    found = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            found = not found
        j = i
    return found


def in_window(start: str | None, end: str | None, at: datetime) -> bool:
    """Is ``at`` (aware) within the daily window in Seoul time; no window means always."""
    if start is None or end is None:
        return True
    now = at.astimezone(SEOUL).strftime("%H:%M")
    return start <= now < end if start <= end else now >= start or now < end


@dataclass(frozen=True)
class Hit:
    """A rule that fired: for which track (0 for a crowd), how sure, since when (seconds)."""

    rule: Rule
    track_id: int
    confidence: float
    since: float
    detail: str


@dataclass
class RuleState:
    """What the rules of one camera remember between frames."""

    fired: set[tuple[int, int]] = field(default_factory=set)
    entered: dict[tuple[int, int], float] = field(default_factory=dict)
    down_since: dict[int, float] = field(default_factory=dict)
    crowded: set[int] = field(default_factory=set)


def evaluate(
    rules: list[Rule], tracks: list[Track], now: float, at: datetime, state: RuleState, aspect: float = 1.0
) -> list[Hit]:
    """The rules that fire on this frame's confirmed tracks (``now`` in seconds, ``at`` aware;
    ``aspect`` is the picture's width over height, to tell a lying person from 0-1 boxes)."""
    hits: list[Hit] = []
    _update_posture(tracks, now, state, aspect)
    for rule in rules:
        people = [
            t for t in tracks if inside(t.foot, rule.zone) and _is_kind(t, rule) and fits(t, rule, aspect)
        ]
        for track in people:
            state.entered.setdefault((rule.rule_id, track.track_id), now)
        if rule.kind == "crowding":
            hits.extend(_crowding(rule, people, now, state))
            continue
        for track in people:
            hit = _check(rule, track, now, at, state)
            if hit is not None and (rule.rule_id, track.track_id) not in state.fired:
                state.fired.add((rule.rule_id, track.track_id))
                hits.append(hit)
    live = {t.track_id for t in tracks}
    state.entered = {k: v for k, v in state.entered.items() if k[1] in live}
    return hits


def _is_kind(track: Track, rule: Rule) -> bool:
    return (track.label in VEHICLES) == (rule.kind == "vehicle_stopped")


def fits(track: Track, rule: Rule, aspect: float) -> bool:
    """Is the box within the rule's size and shape bounds (a rule without bounds takes any)."""
    if "min_area" not in rule.params:
        return True
    area = track.width * track.height
    ratio = track.width * aspect / max(track.height, 1e-6)
    p = rule.params
    return p["min_area"] <= area <= p["max_area"] and p["min_ratio"] <= ratio <= p["max_ratio"]


def _update_posture(tracks: list[Track], now: float, state: RuleState, aspect: float) -> None:
    """A person whose box is clearly wider than tall (in pixels) is lying."""
    lying = {t.track_id for t in tracks if t.label == "person" and t.width * aspect > 1.2 * t.height}
    for track_id in lying:
        state.down_since.setdefault(track_id, now)
    for track_id in list(state.down_since):
        if track_id not in lying:
            del state.down_since[track_id]


def _check(rule: Rule, track: Track, now: float, at: datetime, state: RuleState) -> Hit | None:
    since = state.entered[(rule.rule_id, track.track_id)]
    if rule.kind == "intrusion":
        if in_window(rule.start, rule.end, at):
            return Hit(rule, track.track_id, track.score, since, "in the zone")
    elif rule.kind == "loitering":
        dwell = now - since
        if dwell > rule.params["dwell_s"]:
            return Hit(rule, track.track_id, track.score, since, f"in the zone for {dwell:.0f} s")
    elif rule.kind == "person_down":
        down = state.down_since.get(track.track_id)
        if down is not None and now - down >= rule.params["hold_s"]:
            return Hit(rule, track.track_id, track.score, down, f"lying for {now - down:.0f} s")
    elif rule.kind == "running":
        speed = track.speed()
        if speed > rule.params["speed"]:
            return Hit(rule, track.track_id, track.score, since, f"{speed:.1f} body heights/s")
    elif rule.kind == "vehicle_stopped":
        still = [h for h in track.history if h[0] >= now - rule.params["stopped_s"]]
        seen = now - track.first_seen
        if seen >= rule.params["stopped_s"] and still and track.speed(5.0) < 0.05:
            what = "vehicle-sized object" if track.label == STATIC_LABEL else track.label
            return Hit(rule, track.track_id, track.score, since, f"stopped {what} for {seen:.0f} s")
    return None


def _crowding(rule: Rule, people: list[Track], now: float, state: RuleState) -> list[Hit]:
    limit = int(rule.params["max_people"])
    if len(people) <= limit:
        state.crowded.discard(rule.rule_id)
        return []
    if rule.rule_id in state.crowded:
        return []
    state.crowded.add(rule.rule_id)
    confidence = sum(t.score for t in people) / len(people)
    since = min(state.entered[(rule.rule_id, t.track_id)] for t in people)
    return [Hit(rule, 0, confidence, since, f"{len(people)} people (limit {limit})")]
