"""Safe zones: is the person inside, did they leave school, have they arrived by 09:00?

Why hysteresis. A GPS fix wanders by 5-30 m even when the watch lies still, and more in the
street canyons around a school; a geofence that flips at the exact boundary therefore raises an
"exit" and an "enter" every few minutes for a child standing at the school gate (the complaint
Traccar users make about geofence flapping). A guardian who gets ten false alarms ignores the
eleventh. So a zone decision here needs two things:

- **A margin band.** With margin ``m`` (``DEFAULT_MARGIN_M`` = 20 m, or the fix's reported
  accuracy when that is larger, capped at ``MAX_MARGIN_M`` = 100 m, and at half the zone's inner
  radius so that a small zone can still be entered), a fix is *clearly inside* when it lies inside
  the zone shrunk by ``m``, *clearly outside* when it lies outside the zone grown by ``m``; in
  between it changes nothing. This is computed exactly as a signed distance to the boundary
  (negative inside) in local metres, never by buffering polygons.
- **A dwell time.** A change is confirmed only once fixes have stayed clearly on the other side for
  ``DEFAULT_DWELL_S`` = 30 s (from the first such fix to the confirming one); a clear fix on the
  current side cancels it. A 10-second excursion through the gate raises nothing.

Only valid GPS fixes count (``stored_validity`` in ingest): a cell-tower or Wi-Fi position is
hundreds of metres off and would flip every zone it touches, so it never changes a zone state.
The first clear fix of a person for a zone sets the state without an alarm (nothing was crossed).

Alarms follow confirmed changes: an exit of a zone with ``alert_on_exit`` whose schedule covers the
moment the person left (the first clearly-outside fix) raises ``geofence_exit``, or ``left_school``
for a zone whose role is ``school``; an entry with ``alert_on_enter`` raises ``geofence_enter``. A
zone with ``arrive_by`` raises ``not_arrived`` once per Seoul day when the person has not been
confirmed inside by that time on a schedule day.

Geometry: every zone keeps its shape projected to metres on a local equal-area plane centred on
the zone itself (``core.geo``), so distances near the zone are exact to well under a metre. A fix is
measured against its own person's zones only (a handful), all fixes of a batch in one vectorised
call: a spatial index over every zone would return, for each fix, the zones of every child of the
same school (one shape, hundreds of persons) only to throw them away. The state lives in
``tracking_zone_states`` so a restart neither forgets a pending change nor raises an alarm twice.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from itertools import chain, islice
from time import monotonic
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput
from smartseoul.core.geo import EARTH_RADIUS_M, to_local_metres
from smartseoul.tracking.models import ZONE_KINDS, ZONE_ROLES, SafeZone, ZoneState

SEOUL = ZoneInfo("Asia/Seoul")
DEFAULT_MARGIN_M = 20.0
MAX_MARGIN_M = 100.0
DEFAULT_DWELL_S = 30.0
RADIUS_M = (20.0, 5000.0)
WIDTH_M = (10.0, 500.0)
MAX_VERTICES = 2000
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
METRES_PER_DEGREE = math.pi / 180 * EARTH_RADIUS_M


class ZoneError(InvalidInput):
    """An invalid zone; ``field`` names the offending field (``geometry``, ``radius_m``, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Side(Enum):
    INSIDE = "inside"
    OUTSIDE = "outside"
    BETWEEN = "between"


# ---------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Window:
    """Days (Monday = 0) and a time range in Seoul, start < end."""

    days: frozenset[int]
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end


def parse_hhmm(value: Any, field_name: str) -> time:
    if not isinstance(value, str) or not HHMM.match(value):
        raise ZoneError(field_name, f"{value!r} is not a time HH:MM (00:00-23:59)")
    return time(int(value[:2]), int(value[3:]))


def parse_schedule(raw: Any) -> tuple[Window, ...]:
    """``[{"days": [0-6], "start": "HH:MM", "end": "HH:MM"}]`` (Seoul time); empty = always."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ZoneError("schedule", "a list of {days, start, end}")
    windows = []
    for i, item in enumerate(raw):
        where = f"schedule[{i}]"
        if not isinstance(item, dict):
            raise ZoneError(where, "an object with days, start and end")
        days = item.get("days")
        if (
            not isinstance(days, list)
            or not days
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days)
        ):
            raise ZoneError(f"{where}.days", "a non-empty list of weekdays 0-6 (Monday = 0)")
        start = parse_hhmm(item.get("start"), f"{where}.start")
        end = parse_hhmm(item.get("end"), f"{where}.end")
        if not start < end:
            raise ZoneError(f"{where}.end", f"end {item['end']} must be after start {item['start']}")
        windows.append(Window(frozenset(days), start, end))
    return tuple(windows)


def parse_schedule_text(text: str) -> list[dict[str, Any]]:
    """``"mon-fri 08:30-15:00"`` or ``"mon,wed 09:00-12:00; sat 10:00-11:00"`` -> schedule JSON."""
    schedule: list[dict[str, Any]] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_text, _, hours = part.partition(" ")
        start, _, end = hours.strip().partition("-")
        days: list[int] = []
        for chunk in days_text.lower().split(","):
            first, _, last = chunk.partition("-")
            if first not in DAY_NAMES or (last and last not in DAY_NAMES):
                raise ZoneError("schedule", f"{part!r}: days as mon-fri or mon,wed,fri")
            a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
            if b < a:
                raise ZoneError("schedule", f"{part!r}: {chunk} runs backwards")
            days.extend(range(a, b + 1))
        schedule.append({"days": sorted(set(days)), "start": start, "end": end})
    parse_schedule(schedule)
    return schedule


# ---------------------------------------------------------------- validation


def _coords(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) >= 2
        and all(
            isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in value[:2]
        )
    )


def _inside_bounds(geometry: BaseGeometry, bounds: tuple[float, float, float, float] | None) -> bool:
    if bounds is None:
        return True
    return bool(box(*bounds).contains(geometry))


def validate_zone(
    *,
    name: str,
    kind: str,
    geometry: Any,
    role: str = "other",
    radius_m: float | None = None,
    width_m: float | None = None,
    schedule: Any = None,
    arrive_by: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    """Check a zone as a guardian typed it; returns the columns to store, or raises ZoneError."""
    if not name or not name.strip() or len(name.strip()) > 128:
        raise ZoneError("name", "1-128 characters")
    if kind not in ZONE_KINDS:
        raise ZoneError("kind", f"choose from {', '.join(ZONE_KINDS)}")
    if role not in ZONE_ROLES:
        raise ZoneError("role", f"choose from {', '.join(ZONE_ROLES)}")
    if not isinstance(geometry, dict):
        raise ZoneError("geometry", "a GeoJSON geometry object")
    expected = {"polygon": "Polygon", "circle": "Point", "corridor": "LineString"}[kind]
    if geometry.get("type") != expected:
        raise ZoneError("geometry", f"a {kind} zone needs a GeoJSON {expected}")
    coordinates = geometry.get("coordinates")
    try:
        if kind == "polygon":
            rings = coordinates if isinstance(coordinates, list) else []
            if not rings or not all(isinstance(r, list) and all(_coords(c) for c in r) for r in rings):
                raise ZoneError("geometry", "Polygon coordinates must be rings of [lon, lat]")
            if sum(len(r) for r in rings) > MAX_VERTICES:
                raise ZoneError("geometry", f"at most {MAX_VERTICES} vertices")
            found = shape(geometry)
            if found.is_empty or not found.is_valid:
                reason = shapely.is_valid_reason(found) if not found.is_empty else "empty"
                raise ZoneError("geometry", f"not a valid polygon ({reason})")
        elif kind == "circle":
            if not isinstance(coordinates, list) or not _coords(coordinates):
                raise ZoneError("geometry", "Point coordinates must be [lon, lat]")
            found = Point(coordinates[0], coordinates[1])
        else:
            if (
                not isinstance(coordinates, list)
                or len(coordinates) < 2
                or not all(map(_coords, coordinates))
            ):
                raise ZoneError("geometry", "LineString coordinates must be two or more [lon, lat]")
            if len(coordinates) > MAX_VERTICES:
                raise ZoneError("geometry", f"at most {MAX_VERTICES} vertices")
            found = LineString([c[:2] for c in coordinates])
            if found.length == 0:
                raise ZoneError("geometry", "the corridor has no length")
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        if isinstance(error, ZoneError):
            raise
        raise ZoneError("geometry", f"not a valid GeoJSON {expected}") from None
    if not _inside_bounds(found, bounds):
        raise ZoneError("geometry", "the zone must lie inside the city")
    if kind == "circle":
        if radius_m is None or not RADIUS_M[0] <= radius_m <= RADIUS_M[1]:
            raise ZoneError("radius_m", f"a circle needs a radius of {RADIUS_M[0]:.0f}-{RADIUS_M[1]:.0f} m")
    elif radius_m is not None:
        raise ZoneError("radius_m", "only a circle has a radius")
    if kind == "corridor":
        if width_m is None or not WIDTH_M[0] <= width_m <= WIDTH_M[1]:
            raise ZoneError("width_m", f"a corridor needs a width of {WIDTH_M[0]:.0f}-{WIDTH_M[1]:.0f} m")
    elif width_m is not None:
        raise ZoneError("width_m", "only a corridor has a width")
    windows = parse_schedule(schedule)
    if arrive_by is not None:
        parse_hhmm(arrive_by, "arrive_by")
    return {
        "name": name.strip(),
        "kind": kind,
        "role": role,
        "geometry": {"type": expected, "coordinates": shapely.geometry.mapping(found)["coordinates"]},
        "radius_m": radius_m,
        "width_m": width_m,
        "schedule": [
            {"days": sorted(w.days), "start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M")}
            for w in windows
        ],
        "arrive_by": arrive_by,
    }


# ---------------------------------------------------------------- rules and shapes


@dataclass(frozen=True)
class Rule:
    """What a zone asks for, without its geometry."""

    id: int
    person_id: int
    name: str
    role: str
    windows: tuple[Window, ...]
    alert_on_exit: bool
    alert_on_enter: bool
    arrive_by: time | None

    def watched_at(self, at: datetime) -> bool:
        """True when the schedule covers ``at`` (always, for an empty schedule)."""
        if not self.windows:
            return True
        local = at.astimezone(SEOUL)
        return any(w.contains(local) for w in self.windows)


@dataclass(frozen=True)
class Compiled:
    """A zone's shape in its own local metres: signed distance = distance(target) - offset,
    negated when ``area`` contains the point (polygons)."""

    k: float  # cos(lat0) of the zone's projection
    target: BaseGeometry  # polygon boundary, circle centre or corridor centre line
    offset: float  # 0, radius, half width
    area: BaseGeometry | None  # the polygon itself (for the sign), else None
    inner_radius: float  # half of this caps the margin
    envelope: tuple[float, float, float, float]  # lon/lat box of the zone itself


def compile_zone(
    kind: str, geometry: dict[str, Any], radius_m: float | None, width_m: float | None
) -> Compiled:
    lonlat = shape(geometry)
    lat0 = lonlat.centroid.y
    k = math.cos(math.radians(lat0))
    local = to_local_metres(lonlat, lat0)
    if kind == "polygon":
        assert isinstance(local, Polygon)
        inner = shapely.maximum_inscribed_circle(local, tolerance=1.0)
        return Compiled(k, local.boundary, 0.0, local, float(inner.length), lonlat.bounds)
    if kind == "circle":
        radius = float(radius_m or 0.0)
        d_lat = radius / METRES_PER_DEGREE
        d_lon = d_lat / max(k, 1e-6)
        lon, lat = lonlat.x, lonlat.y
        return Compiled(k, local, radius, None, radius, (lon - d_lon, lat - d_lat, lon + d_lon, lat + d_lat))
    half = float(width_m or 0.0) / 2
    d_lat = half / METRES_PER_DEGREE
    d_lon = d_lat / max(k, 1e-6)
    x0, y0, x1, y1 = lonlat.bounds
    return Compiled(k, local, half, None, half, (x0 - d_lon, y0 - d_lat, x1 + d_lon, y1 + d_lat))


def rule_of(zone: SafeZone) -> Rule:
    return Rule(
        id=zone.id,
        person_id=zone.person_id,
        name=zone.name,
        role=zone.role,
        windows=parse_schedule(zone.schedule or []),
        alert_on_exit=zone.alert_on_exit,
        alert_on_enter=zone.alert_on_enter,
        arrive_by=parse_hhmm(zone.arrive_by, "arrive_by") if zone.arrive_by else None,
    )


class ZoneFix(NamedTuple):
    """One valid GPS fix of a person, as zone evaluation needs it (a named tuple: one is made
    for every stored fix, and a frozen dataclass took several times longer to build)."""

    person_id: int
    device_id: int
    time: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    district_code: str | None = None


def margin_for(accuracy_m: float | None, base_m: float = DEFAULT_MARGIN_M) -> float:
    """The band half-width for one fix: the base margin, or the fix's accuracy when larger, capped."""
    return min(max(base_m, accuracy_m or 0.0), MAX_MARGIN_M)


SIDES_BY_CODE = (Side.INSIDE, Side.BETWEEN, Side.OUTSIDE)


def classify(signed_distance_m: float, margin_m: float) -> Side:
    """Negative distances are inside the zone."""
    if signed_distance_m < -margin_m:
        return Side.INSIDE
    if signed_distance_m > margin_m:
        return Side.OUTSIDE
    return Side.BETWEEN


class ZoneIndex:
    """Every active zone, compiled once, with its person's zones listed by person."""

    def __init__(self, zones: Sequence[tuple[Rule, Compiled]], signature: tuple[int, int] = (0, 0)) -> None:
        self.rules = [rule for rule, _ in zones]
        self.shapes = [compiled for _, compiled in zones]
        self.signature = signature
        self.by_person: dict[int, list[int]] = defaultdict(list)
        for i, rule in enumerate(self.rules):
            self.by_person[rule.person_id].append(i)
        self.position = {rule.id: i for i, rule in enumerate(self.rules)}
        self._person = np.array([r.person_id for r in self.rules], dtype=np.int64)
        self._k = np.array([c.k for c in self.shapes], dtype=float)
        self._offset = np.array([c.offset for c in self.shapes], dtype=float)
        self._cap = np.array([c.inner_radius / 2 for c in self.shapes], dtype=float)
        self._targets = np.array([c.target for c in self.shapes], dtype=object)
        self._areas = np.array([c.area for c in self.shapes], dtype=object)
        # circles are measured with NumPy alone (distance to the centre): no GEOS point per fix
        self._circle = np.array([isinstance(c.target, Point) for c in self.shapes], dtype=bool)
        self._cx = np.array([c.target.x if isinstance(c.target, Point) else 0.0 for c in self.shapes])
        self._cy = np.array([c.target.y if isinstance(c.target, Point) else 0.0 for c in self.shapes])

    def __len__(self) -> int:
        return len(self.rules)

    @classmethod
    def load(cls, session: Session) -> ZoneIndex:
        zones = session.scalars(select(SafeZone).where(SafeZone.active.is_(True)).order_by(SafeZone.id))
        compiled = [(rule_of(z), compile_zone(z.kind, z.geometry, z.radius_m, z.width_m)) for z in zones]
        return cls(compiled, signature(session))

    def signed_distances(self, lats: np.ndarray, lons: np.ndarray, zone_idx: np.ndarray) -> np.ndarray:
        """Signed distance in metres (negative inside) of each point to the matching zone."""
        if len(zone_idx) == 0:
            return np.zeros(0)
        k = self._k[zone_idx]
        x = lons * METRES_PER_DEGREE * k
        y = EARTH_RADIUS_M * np.sin(np.radians(lats)) / k
        circle = self._circle[zone_idx]
        signed: np.ndarray = np.hypot(x - self._cx[zone_idx], y - self._cy[zone_idx]) - self._offset[zone_idx]
        other = np.flatnonzero(~circle)
        if len(other):
            shapes = zone_idx[other]
            points = shapely.points(x[other], y[other])
            distance = shapely.distance(self._targets[shapes], points) - self._offset[shapes]
            inside = shapely.contains(self._areas[shapes], points)  # None (not a polygon): False
            signed[other] = np.where(inside, -distance, distance)
        return signed

    def pairs(
        self, fixes: Sequence[ZoneFix], base_margin_m: float = DEFAULT_MARGIN_M
    ) -> tuple[list[int], list[int], list[int]]:
        """Every (fix, zone of its person) pair, in fix order then the person's zone order, with
        its side as a code (0 inside, 1 in the band, 2 outside; see ``SIDES_BY_CODE``): three
        parallel lists of fix index, zone index and code, all pairs in one vectorised call."""
        if not fixes or not self.rules:
            return [], [], []
        by_person = self.by_person
        per_fix = [by_person.get(f.person_id, ()) for f in fixes]
        counts = np.fromiter((len(z) for z in per_fix), dtype=np.int64, count=len(fixes))
        total = int(counts.sum())
        if total == 0:
            return [], [], []
        fix_idx = np.repeat(np.arange(len(fixes)), counts)
        zone_idx = np.fromiter(chain.from_iterable(per_fix), dtype=np.int64, count=total)
        lats = np.fromiter((f.lat for f in fixes), dtype=float, count=len(fixes))[fix_idx]
        lons = np.fromiter((f.lon for f in fixes), dtype=float, count=len(fixes))[fix_idx]
        distances = self.signed_distances(lats, lons, zone_idx)
        margins = np.fromiter(
            (margin_for(f.accuracy_m, base_margin_m) for f in fixes), dtype=float, count=len(fixes)
        )
        caps = np.minimum(margins[fix_idx], self._cap[zone_idx])
        # the rule of classify(), for every pair at once
        codes = np.where(distances < -caps, 0, np.where(distances > caps, 2, 1))
        return fix_idx.tolist(), zone_idx.tolist(), codes.tolist()

    def sides(
        self, fixes: Sequence[ZoneFix], base_margin_m: float = DEFAULT_MARGIN_M
    ) -> list[dict[int, Side]]:
        """For each fix, the side of every zone of its person (by index into ``rules``)."""
        result: list[dict[int, Side]] = [
            dict.fromkeys(self.by_person.get(f.person_id, ()), Side.OUTSIDE) for f in fixes
        ]
        for f, z, code in zip(*self.pairs(fixes, base_margin_m), strict=True):
            result[f][z] = SIDES_BY_CODE[code]
        return result


def signature(session: Session) -> tuple[int, int]:
    """Changes when a zone is added or deactivated (how a long-running ingestor notices)."""
    row = session.execute(
        select(func.count(SafeZone.id), func.coalesce(func.max(SafeZone.id), 0)).where(
            SafeZone.active.is_(True)
        )
    ).one()
    return int(row[0]), int(row[1])


# ---------------------------------------------------------------- the state machine (pure)


@dataclass
class Tracked:
    inside: bool
    since: datetime
    pending_since: datetime | None = None
    last_fix_at: datetime | None = None
    last_inside_at: datetime | None = None
    not_arrived_on: date | None = None


@dataclass(frozen=True)
class Change:
    entered: bool
    crossed_at: datetime  # the first fix clearly on the new side
    confirmed_at: datetime  # the fix that completed the dwell


def step(
    state: Tracked | None, side: Side, at: datetime, dwell: timedelta
) -> tuple[Tracked | None, Change | None]:
    """One fix for one zone: the new state and the confirmed change, if any."""
    if state is None or state.last_fix_at is None:
        if side is Side.BETWEEN:
            return state, None
        inside = side is Side.INSIDE
        fresh = Tracked(
            inside,
            at,
            None,
            at,
            at if inside else None,
            state.not_arrived_on if state else None,
        )
        return fresh, None
    if at <= state.last_fix_at:
        return state, None  # late or repeated fix: the state already reflects newer ones
    state.last_fix_at = at
    change = None
    if side is Side.BETWEEN:
        pass
    elif (side is Side.INSIDE) == state.inside:
        state.pending_since = None
    else:
        if state.pending_since is None:
            state.pending_since = at
        if at - state.pending_since >= dwell:
            change = Change(not state.inside, state.pending_since, at)
            state.inside, state.since, state.pending_since = not state.inside, state.pending_since, None
    if state.inside:
        state.last_inside_at = at
    return state, change


def alarm_kinds(rule: Rule, change: Change) -> list[str]:
    """The alarms a confirmed change raises: only during the schedule, at the moment of crossing."""
    if not rule.watched_at(change.crossed_at):
        return []
    if change.entered:
        return ["geofence_enter"] if rule.alert_on_enter else []
    if not rule.alert_on_exit:
        return []
    return ["left_school"] if rule.role == "school" else ["geofence_exit"]


def arrival_overdue(rule: Rule, state: Tracked | None, now: datetime) -> bool:
    """True when ``not_arrived`` is due for this zone at ``now`` (and not raised yet today)."""
    if rule.arrive_by is None:
        return False
    local = now.astimezone(SEOUL)
    today = local.date()
    if rule.windows:
        windows = [w for w in rule.windows if local.weekday() in w.days]
        if not windows:
            return False
        latest_end = max(w.end for w in windows)
        if local.time() >= latest_end:
            return False  # the day's schedule is over: too late to be useful
    if local.time() < rule.arrive_by:
        return False
    if state is None:
        return True
    if state.not_arrived_on == today:
        return False
    arrived = state.last_inside_at is not None and state.last_inside_at.astimezone(SEOUL).date() == today
    return not arrived


# ---------------------------------------------------------------- with the database


@dataclass(frozen=True)
class ZoneAlarm:
    """An alarm decided by zone evaluation, to be stored and published by the ingestor."""

    kind: str
    zone_id: int
    person_id: int
    device_id: int | None
    district_code: str | None
    device_time: datetime | None
    lat: float | None
    lon: float | None


StateKey = tuple[int, int]  # (person id, zone id)
STATE_TABLE = cast(Table, ZoneState.__table__)
STATE_COLUMNS = STATE_TABLE.c


def _durable(state: Tracked | None) -> tuple[Any, ...] | None:
    """What must never be lost in a crash: the side, a change under way, today's not-arrived
    alarm, and whether the person was inside today. ``last_fix_at`` and the time of day of
    ``last_inside_at`` may lag by up to a checkpoint (a restart then re-reads a few fixes)."""
    if state is None:
        return None
    inside_day = state.last_inside_at.astimezone(SEOUL).date() if state.last_inside_at else None
    return (state.inside, state.since, state.pending_since, state.not_arrived_on, inside_day)


STATE_FIELDS = ("inside", "since", "pending_change_since", "last_fix_at", "last_inside_at", "not_arrived_on")
# bound parameters may not share a column's name in an UPDATE's SET clause
STATE_PARAMS: dict[str, Any] = {name: bindparam(f"v_{name}") for name in STATE_FIELDS}


def _values(key: StateKey, state: Tracked) -> dict[str, Any]:
    values = (
        state.inside,
        state.since,
        state.pending_since,
        state.last_fix_at,
        state.last_inside_at,
        state.not_arrived_on,
    )
    return {"p": key[0], "z": key[1], **{f"v_{n}": v for n, v in zip(STATE_FIELDS, values, strict=True)}}


@dataclass
class ZoneStates:
    """The zone states of the persons seen, kept in memory between batches and written behind.

    A state whose durable part (see :func:`_durable`) changed is written in the same
    transaction as the batch that changed it; one where only the times of the last fixes moved
    is written at the next checkpoint (``checkpoint_s``; 0 writes everything every time). Rows
    are read once per process and written with executemany, not one ORM object per row: at
    50,000 zones that was three quarters of the ingest's time. A checkpoint is spread over the
    next batches, ``checkpoint_rows`` at a time: written at once, 50,000 rows held SQLite's write
    lock for most of a second, and an SOS being stored waited behind it (``bench tracking``).
    """

    checkpoint_s: float = 0.0
    checkpoint_rows: int = 2_000
    checkpointing: bool = False  # a checkpoint is under way: soft states go out with each batch
    tracked: dict[StateKey, Tracked] = field(default_factory=dict)
    known: set[StateKey] = field(default_factory=set)  # looked up in the database
    stored: set[StateKey] = field(default_factory=set)  # has a row
    durable: set[StateKey] = field(default_factory=set)  # to write with this batch
    soft: set[StateKey] = field(default_factory=set)  # to write at the next checkpoint
    last_checkpoint: float = field(default_factory=monotonic)

    everything: bool = False  # every row read at once: a key not held has no row

    def preload(self, session: Session) -> None:
        """Read every state in one query (at start-up): otherwise the first minutes after a
        restart, when each batch brings persons not seen yet, pay one lookup per batch."""
        for row in session.execute(select(STATE_TABLE)):
            self._keep(row)
        self.everything = True

    def load(self, session: Session, keys: Iterable[StateKey]) -> None:
        if self.everything:
            return
        wanted = sorted(set(keys) - self.known)
        c = STATE_COLUMNS
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            query = select(STATE_TABLE).where(tuple_(c.person_id, c.zone_id).in_(chunk))
            for row in session.execute(query):
                self._keep(row)
        self.known.update(wanted)

    def _keep(self, row: Any) -> None:
        key = (row.person_id, row.zone_id)
        self.stored.add(key)
        self.tracked[key] = Tracked(
            row.inside,
            row.since,
            row.pending_change_since,
            row.last_fix_at,
            row.last_inside_at,
            row.not_arrived_on,
        )

    def get(self, key: StateKey) -> Tracked | None:
        return self.tracked.get(key)

    def put(self, key: StateKey, state: Tracked, before: tuple[Any, ...] | None) -> None:
        """Keep ``state``; ``before`` is :func:`_durable` of the state before it was changed."""
        self.tracked[key] = state
        (self.durable if before != _durable(state) else self.soft).add(key)

    def save(self, session: Session, *, force: bool = False) -> int:
        """Write what is due in the caller's transaction; returns the number of rows written."""
        due = self.due(force=force)
        if not due:
            return 0
        ordered = sorted(due)  # one order for every writer: no deadlock between two flushes
        updates = [_values(k, self.tracked[k]) for k in ordered if k in self.stored]
        inserts = [_values(k, self.tracked[k]) for k in ordered if k not in self.stored]
        c = STATE_COLUMNS
        if updates:
            session.execute(
                update(STATE_TABLE)
                .where(c.person_id == bindparam("p"), c.zone_id == bindparam("z"))
                .values(STATE_PARAMS),
                updates,
            )
        if inserts:
            row = {"person_id": bindparam("p"), "zone_id": bindparam("z"), **STATE_PARAMS}
            session.execute(insert(STATE_TABLE).values(row), inserts)
            self.stored.update(k for k in ordered if k not in self.stored)
        return len(ordered)

    def due(self, *, force: bool = False) -> set[StateKey]:
        """The states to write with this batch (taken off the lists): every durable change, and
        while a checkpoint is under way the next ``checkpoint_rows`` soft ones."""
        due = set(self.durable)
        self.soft -= due
        self.durable.clear()
        if force or self.checkpoint_s == 0:
            due |= self._take_soft(len(self.soft))
        elif self.checkpointing or monotonic() - self.last_checkpoint >= self.checkpoint_s:
            self.checkpointing = True
            due |= self._take_soft(self.checkpoint_rows)
        return due

    def _take_soft(self, limit: int) -> set[StateKey]:
        """Up to ``limit`` soft states to write now; the checkpoint ends when none is left."""
        if len(self.soft) <= limit:
            taken, self.soft = self.soft, set()
        else:
            taken = set(islice(self.soft, limit))
            self.soft -= taken
        if not self.soft:
            self.checkpointing = False
            self.last_checkpoint = monotonic()
        return taken


def evaluate(
    session: Session,
    index: ZoneIndex,
    fixes: Sequence[ZoneFix],
    *,
    now: datetime,
    margin_m: float = DEFAULT_MARGIN_M,
    dwell_s: float = DEFAULT_DWELL_S,
    states: ZoneStates | None = None,
) -> list[ZoneAlarm]:
    """Run a batch of fixes through every zone of their persons (in device-time order), write the
    states that are due (all of them without a long-lived ``states``), and return the alarms
    (confirmed changes, then overdue arrivals at ``now``).

    Nearly every fix leaves a zone where it was: same side (or in the band), nothing pending.
    Such a pair only moves the times of the last fixes, which :func:`_unchanged` does in place
    without the general :func:`step`; any other pair takes the general path."""
    ordered = sorted((f for f in fixes if index.by_person.get(f.person_id)), key=lambda f: f.time)
    if not ordered:
        return []
    fix_idx, zone_idx, codes = index.pairs(ordered, margin_m)
    states = states if states is not None else ZoneStates()
    if not states.everything:
        keys = {(ordered[f].person_id, index.rules[z].id) for f, z in zip(fix_idx, zone_idx, strict=True)}
        states.load(session, keys)
    dwell = timedelta(seconds=dwell_s)
    alarms: list[ZoneAlarm] = []
    last_fix: dict[int, ZoneFix] = {}
    tracked, soft = states.tracked, states.soft
    day_starts: dict[int, datetime] = {}  # fix index -> start of its Seoul day, in UTC
    rules = index.rules
    for f, z, code in zip(fix_idx, zone_idx, codes, strict=True):
        fix = ordered[f]
        rule = rules[z]
        key = (fix.person_id, rule.id)
        state = tracked.get(key)
        if state is not None and state.last_fix_at is not None and fix.time <= state.last_fix_at:
            continue  # a late or repeated fix: the state already holds newer ones (as in step)
        if state is not None and _unchanged(state, code, fix.time, day_starts, f):
            soft.add(key)
            continue
        before = _durable(state)
        state, change = step(state, SIDES_BY_CODE[code], fix.time, dwell)
        if state is not None:
            states.put(key, state, before)
        if change is None:
            continue
        alarms.extend(
            ZoneAlarm(
                kind, rule.id, fix.person_id, fix.device_id, fix.district_code, fix.time, fix.lat, fix.lon
            )
            for kind in alarm_kinds(rule, change)
        )
    for fix in ordered:
        last_fix[fix.person_id] = fix
    for person_id, fix in last_fix.items():
        for z in index.by_person[person_id]:
            if rules[z].arrive_by is not None:
                alarms.extend(_overdue(states, rules[z], now, fix))
    states.save(session)
    return alarms


def _unchanged(state: Tracked, code: int, at: datetime, day_starts: dict[int, datetime], f: int) -> bool:
    """Apply a fix that changes nothing durable (see :func:`_durable`) to ``state`` in place and
    return True, or return False and leave ``state`` alone: the same as :func:`step` for a newer
    fix on the side the state is already on (or in the band), with no change under way, that
    does not make the person's first inside fix of a Seoul day."""
    last = state.last_fix_at
    if last is None or at <= last or state.pending_since is not None:
        return False
    if code != 1 and (code == 0) != state.inside:  # clearly on the other side: a change starts
        return False
    if state.inside and not _same_seoul_day(state.last_inside_at, at, day_starts, f):
        return False
    state.last_fix_at = at
    if state.inside:
        state.last_inside_at = at
    return True


def _same_seoul_day(earlier: datetime | None, at: datetime, day_starts: dict[int, datetime], f: int) -> bool:
    """Whether ``earlier`` (not after ``at``) falls on ``at``'s Seoul day; the day's start is
    worked out once per fix, not once per zone."""
    if earlier is None:
        return False
    start = day_starts.get(f)
    if start is None:
        local = at.astimezone(SEOUL)
        midnight = datetime.combine(local.date(), time(0), tzinfo=SEOUL)
        start = day_starts[f] = midnight.astimezone(UTC)
    return earlier >= start


def _overdue(states: ZoneStates, rule: Rule, now: datetime, fix: ZoneFix | None) -> list[ZoneAlarm]:
    key = (rule.person_id, rule.id)
    state = states.get(key)
    if not arrival_overdue(rule, state, now):
        return []
    before = _durable(state)
    if state is None:
        # Never seen clearly: remember only that today's alarm is raised (no fix = no position).
        state = Tracked(False, now)
    state.not_arrived_on = now.astimezone(SEOUL).date()
    states.put(key, state, before)
    return [
        ZoneAlarm(
            "not_arrived",
            rule.id,
            rule.person_id,
            fix.device_id if fix else None,
            fix.district_code if fix else None,
            fix.time if fix else None,
            fix.lat if fix else None,
            fix.lon if fix else None,
        )
    ]


def arrivals(
    session: Session, index: ZoneIndex, now: datetime, states: ZoneStates | None = None
) -> list[ZoneAlarm]:
    """The periodic check: every zone with ``arrive_by`` whose person is overdue at ``now``."""
    rules = [r for r in index.rules if r.arrive_by is not None and arrival_overdue(r, None, now)]
    if not rules:
        return []
    states = states if states is not None else ZoneStates()
    states.load(session, ((r.person_id, r.id) for r in rules))
    alarms = [alarm for rule in rules for alarm in _overdue(states, rule, now, None)]
    states.save(session)
    return alarms


# ---------------------------------------------------------------- zones as guardians manage them


def city_bounds(session: Session) -> tuple[float, float, float, float] | None:
    """The city's lon/lat box (from the city's service API); None before the city is loaded."""
    from smartseoul.city.service import CityIndex

    index = CityIndex.from_session(session)
    return index.bounds if index.district_shapes else None


def add_zone(
    session: Session,
    person_id: int,
    *,
    actor: str,
    name: str,
    kind: str,
    geometry: Any,
    role: str = "other",
    radius_m: float | None = None,
    width_m: float | None = None,
    schedule: Any = None,
    arrive_by: str | None = None,
    alert_on_exit: bool = True,
    alert_on_enter: bool = False,
    bounds: tuple[float, float, float, float] | None = None,
) -> SafeZone:
    """Validate and store a zone (audited); a running ingestor picks it up within seconds."""
    values = validate_zone(
        name=name,
        kind=kind,
        geometry=geometry,
        role=role,
        radius_m=radius_m,
        width_m=width_m,
        schedule=schedule,
        arrive_by=arrive_by,
        bounds=bounds,
    )
    zone = SafeZone(
        person_id=person_id,
        created_by=actor,
        alert_on_exit=alert_on_exit,
        alert_on_enter=alert_on_enter,
        active=True,
        **values,
    )
    session.add(zone)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="zone.create",
        target=f"person:{person_id}",
        details={"zone_id": zone.id, "kind": kind, "role": role},
    )
    return zone


def person_zones(session: Session, person_id: int) -> list[SafeZone]:
    return list(
        session.scalars(
            select(SafeZone)
            .where(SafeZone.person_id == person_id, SafeZone.active.is_(True))
            .order_by(SafeZone.id)
        )
    )


def remove_zone(session: Session, person_id: int, zone_id: int, *, actor: str) -> bool:
    """Deactivate a zone (its alarms keep pointing at it) and forget its states; False if unknown."""
    zone = session.get(SafeZone, zone_id)
    if zone is None or zone.person_id != person_id or not zone.active:
        return False
    zone.active = False
    session.execute(delete(ZoneState).where(ZoneState.zone_id == zone_id))
    audit.record(
        session, actor=actor, action="zone.delete", target=f"person:{person_id}", details={"zone_id": zone_id}
    )
    return True


def zone_dict(zone: SafeZone) -> dict[str, Any]:
    return {
        "id": zone.id,
        "person_id": zone.person_id,
        "name": zone.name,
        "kind": zone.kind,
        "geometry": zone.geometry,
        "radius_m": zone.radius_m,
        "width_m": zone.width_m,
        "schedule": zone.schedule,
        "role": zone.role,
        "alert_on_exit": zone.alert_on_exit,
        "alert_on_enter": zone.alert_on_enter,
        "arrive_by": zone.arrive_by,
        "created_by": zone.created_by,
        "created_at": zone.created_at.isoformat(),
    }
