"""Safe zones as a guardian notices them: one alarm when the child really leaves, none for GPS
jitter, brief excursions, cell fixes or out-of-schedule walks; "not arrived" once a day."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from conftest import make_account
from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event
from smartseoul.core.geo import haversine_m
from smartseoul.tracking import consent, service, zones
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.models import Alarm, ProtectedPerson, SafeZone, ZoneState
from smartseoul.tracking.protocols import Fix, Message, Source

pytestmark = pytest.mark.anyio
SCHOOL = (37.5720, 126.9860)  # Jongno-gu
RADIUS_M = 150.0
METRES_PER_DEGREE_LAT = 111_195.0
MONDAY = date(2026, 11, 23)
SCHOOL_HOURS = [{"days": [0, 1, 2, 3, 4], "start": "08:30", "end": "15:00"}]


def seoul(day: date, hhmm: str, seconds: int = 0) -> datetime:
    local = datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=zones.SEOUL)
    return (local + timedelta(seconds=seconds)).astimezone(UTC)


def north(metres: float) -> tuple[float, float]:
    """A point ``metres`` north of the school's centre."""
    return SCHOOL[0] + metres / METRES_PER_DEGREE_LAT, SCHOOL[1]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _child(platform: Platform, guardian: str, device: str, **zone: Any) -> tuple[int, int]:
    """A child with consent, a watch, and a school zone (a 150 m circle, school hours)."""
    account = make_account(platform.db, guardian, ["guardian"])
    with platform.db.session() as session:
        user = auth.get_user(session, account.username)
        assert user is not None
        child = service.add_person(
            session, display_name="김하늘", category="child", actor="test", birth_date=date(2016, 5, 5)
        )
        service.add_guardian(
            session, child, user.id, relation="mother", actor="test", legal_representative=True
        )
        consent.give(session, child, given_by="guardian", guardian_user_id=user.id, recorded_by="test")
        service.register_device(session, device, "watch", actor="test", person_id=child.id)
        values: dict[str, Any] = {
            "name": "한빛초등학교",
            "kind": "circle",
            "geometry": {"type": "Point", "coordinates": [SCHOOL[1], SCHOOL[0]]},
            "radius_m": RADIUS_M,
            "role": "school",
            "schedule": SCHOOL_HOURS,
        }
        values.update(zone)
        made = zones.add_zone(session, child.id, actor=guardian, **values)
        return child.id, made.id


async def _walk(
    ingestor: Ingestor,
    clock: Clock,
    device: str,
    start: datetime,
    distances: Sequence[float],
    *,
    every_s: float = 10,
    source: Source = "gps",
    valid: bool = True,
) -> datetime:
    """Report one fix every ``every_s`` seconds at these distances north of the school's centre."""
    at = start
    for metres in distances:
        lat, lon = north(metres)
        clock.now = at + timedelta(seconds=1)
        fix = Fix(at, lat, lon, valid, source)
        assert await ingestor.accept(Message("watch", device, "position", 0, fix=fix))
        at += timedelta(seconds=every_s)
    return at


async def _events(platform: Platform) -> list[Event]:
    seen: list[Event] = []

    async def collect(event: Event) -> None:
        seen.append(event)

    await platform.bus.subscribe("tracking.alarm.raised.v1", collect)
    return seen


def _alarms(platform: Platform) -> list[tuple[str, int | None]]:
    with platform.db.session() as session:
        return [(a.kind, a.zone_id) for a in session.scalars(select(Alarm).order_by(Alarm.id))]


def _state(platform: Platform, person_id: int, zone_id: int) -> ZoneState | None:
    with platform.db.session() as session:
        return session.get(ZoneState, (person_id, zone_id))


def _ingestor(platform: Platform, clock: Clock) -> Ingestor:
    return Ingestor(platform, batch_delay=0, clock=clock)


# ---------------------------------------------------------------- what a guardian notices


async def test_a_child_walking_out_of_school_during_school_hours_raises_one_left_school_alarm(
    platform: Platform,
) -> None:
    raised = await _events(platform)
    child, zone = _child(platform, "mother.kim", "8610000000001")
    clock = Clock(seoul(MONDAY, "10:00"))
    ingestor = _ingestor(platform, clock)
    # In the classroom, then out of the gate and down the street at 1.5 m/s for four minutes.
    at = await _walk(ingestor, clock, "8610000000001", seoul(MONDAY, "10:00"), [0, 10, 20, 30, 40, 50])
    await _walk(ingestor, clock, "8610000000001", at, [60 + 15 * i for i in range(24)])
    assert _alarms(platform) == [("left_school", zone)]
    state = _state(platform, child, zone)
    assert state is not None
    assert state.inside is False
    await asyncio.sleep(0.05)
    assert [(e.kind, e.person_id, e.zone_id) for e in raised] == [("left_school", child, zone)]  # type: ignore[attr-defined]
    assert "left school during school hours" in raised[0].summary("en")
    assert "학교 이탈" in raised[0].summary("ko")


async def test_gps_jitter_at_the_boundary_for_ten_minutes_raises_nothing(platform: Platform) -> None:
    _child(platform, "father.lee", "8610000000002", alert_on_enter=True)
    clock = Clock(seoul(MONDAY, "11:00"))
    ingestor = _ingestor(platform, clock)
    rng = random.Random(7)
    at = await _walk(ingestor, clock, "8610000000002", seoul(MONDAY, "11:00"), [0, 0, 0])
    jitter = [RADIUS_M + rng.uniform(-15, 15) for _ in range(120)]  # every 5 s for 10 minutes
    await _walk(ingestor, clock, "8610000000002", at, jitter, every_s=5)
    assert _alarms(platform) == []


async def test_a_ten_second_excursion_shorter_than_the_dwell_raises_nothing(platform: Platform) -> None:
    child, zone = _child(platform, "mother.park", "8610000000003")
    clock = Clock(seoul(MONDAY, "10:30"))
    ingestor = _ingestor(platform, clock)
    at = await _walk(ingestor, clock, "8610000000003", seoul(MONDAY, "10:30"), [0, 20])
    at = await _walk(ingestor, clock, "8610000000003", at, [250, 250, 250], every_s=5)  # 10 s outside
    await _walk(ingestor, clock, "8610000000003", at, [50, 40, 30, 20])
    assert _alarms(platform) == []
    state = _state(platform, child, zone)
    assert state is not None
    assert state.inside is True
    assert state.pending_change_since is None


async def test_leaving_outside_the_schedule_raises_nothing_but_the_state_follows(platform: Platform) -> None:
    child, zone = _child(platform, "father.choi", "8610000000004")
    clock = Clock(seoul(MONDAY, "16:00"))
    ingestor = _ingestor(platform, clock)
    at = await _walk(ingestor, clock, "8610000000004", seoul(MONDAY, "16:00"), [0, 0])
    await _walk(ingestor, clock, "8610000000004", at, [300] * 10)
    saturday = MONDAY + timedelta(days=5)
    at = await _walk(ingestor, clock, "8610000000004", seoul(saturday, "10:00"), [0] * 5)
    await _walk(ingestor, clock, "8610000000004", at, [300] * 10)
    assert _alarms(platform) == []
    state = _state(platform, child, zone)
    assert state is not None
    assert state.inside is False


async def test_cell_and_no_fix_positions_never_change_a_zone(platform: Platform) -> None:
    child, zone = _child(platform, "mother.jang", "8610000000005")
    clock = Clock(seoul(MONDAY, "09:30"))
    ingestor = _ingestor(platform, clock)
    at = await _walk(ingestor, clock, "8610000000005", seoul(MONDAY, "09:30"), [0, 0])
    at = await _walk(ingestor, clock, "8610000000005", at, [800] * 30, source="cell")  # 5 minutes
    at = await _walk(ingestor, clock, "8610000000005", at, [800] * 30, source="wifi")
    await _walk(ingestor, clock, "8610000000005", at, [800] * 30, valid=False)
    assert _alarms(platform) == []
    state = _state(platform, child, zone)
    assert state is not None
    assert state.inside is True
    assert state.pending_change_since is None


async def test_a_pending_exit_survives_a_restart_and_is_raised_once(platform: Platform) -> None:
    child, zone = _child(platform, "father.yoon", "8610000000006")
    clock = Clock(seoul(MONDAY, "13:00"))
    at = await _walk(
        _ingestor(platform, clock), clock, "8610000000006", seoul(MONDAY, "13:00"), [0, 300, 300]
    )
    state = _state(platform, child, zone)
    assert state is not None
    assert state.inside is True
    assert state.pending_change_since is not None
    # The server restarts (reading every zone state at start-up, as `serve` does): a new ingestor
    # confirms the exit from the stored pending change.
    restarted = _ingestor(platform, clock)
    await restarted.warm_zones()
    at = await _walk(restarted, clock, "8610000000006", at, [300, 300])
    assert _alarms(platform) == [("left_school", zone)]
    # And another restart does not raise it again.
    await _walk(_ingestor(platform, clock), clock, "8610000000006", at, [300] * 6)
    assert _alarms(platform) == [("left_school", zone)]


async def test_zone_states_are_written_behind_but_a_change_of_side_at_once(platform: Platform) -> None:
    """Inside fix after inside fix only moves the times (written at the checkpoint or at shutdown);
    a change under way is written with its batch, so a crash loses no pending exit."""
    child, zone = _child(platform, "mother.cho", "8610000000009")
    clock = Clock(seoul(MONDAY, "11:00"))
    ingestor = _ingestor(platform, clock)
    at = await _walk(ingestor, clock, "8610000000009", seoul(MONDAY, "11:00"), [0])
    first = _state(platform, child, zone)
    assert first is not None
    assert first.inside is True
    at = await _walk(ingestor, clock, "8610000000009", at, [10, 0, 10])  # still in the classroom
    assert _state(platform, child, zone).last_fix_at == first.last_fix_at  # type: ignore[union-attr]
    at = await _walk(ingestor, clock, "8610000000009", at, [300])  # out of the gate: pending
    pending = _state(platform, child, zone)
    assert pending is not None
    assert pending.pending_change_since is not None
    assert pending.last_fix_at == at - timedelta(seconds=10)  # the fix that started the change
    await ingestor.drain()  # shutdown writes the rest
    assert _state(platform, child, zone).last_fix_at == pending.last_fix_at  # type: ignore[union-attr]


async def test_not_arrived_at_school_by_nine_fires_once(platform: Platform) -> None:
    raised = await _events(platform)
    late, zone = _child(platform, "mother.seo", "8610000000007", arrive_by="09:00", alert_on_exit=False)
    _child(platform, "mother.han", "8610000000008", arrive_by="09:00", alert_on_exit=False)
    clock = Clock(seoul(MONDAY, "08:40"))
    ingestor = _ingestor(platform, clock)
    await _walk(
        ingestor, clock, "8610000000008", seoul(MONDAY, "08:40"), [400, 200, 100, 50, 0, 0, 0, 0]
    )  # on time
    await _walk(ingestor, clock, "8610000000007", seoul(MONDAY, "08:50"), [1500, 1500])  # still at home
    assert await ingestor.check_arrivals(seoul(MONDAY, "08:59", 59)) == []
    first = await ingestor.check_arrivals(seoul(MONDAY, "09:00"))
    assert [(e.kind, e.person_id) for e in first] == [("not_arrived", late)]  # type: ignore[attr-defined]
    assert await ingestor.check_arrivals(seoul(MONDAY, "09:01")) == []
    await _walk(ingestor, clock, "8610000000007", seoul(MONDAY, "09:02"), [1400, 1300])  # a position
    restarted = _ingestor(platform, clock)
    assert await restarted.check_arrivals(seoul(MONDAY, "09:05")) == []
    assert _alarms(platform) == [("not_arrived", zone)]
    with platform.db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
    assert alarm.lat == pytest.approx(north(1500)[0])  # the last known position, at home
    assert alarm.position_is_last_known is True
    # Saturday is not a school day.
    assert await restarted.check_arrivals(seoul(MONDAY + timedelta(days=5), "09:30")) == []
    await asyncio.sleep(0.05)
    assert [e.kind for e in raised] == ["not_arrived"]  # type: ignore[attr-defined]
    assert "not arrived" in raised[0].summary("en")


async def test_not_arrived_is_also_raised_by_a_position_after_the_deadline(platform: Platform) -> None:
    _late, zone = _child(platform, "father.oh", "8610000000009", arrive_by="09:00")
    clock = Clock(seoul(MONDAY, "09:10"))
    ingestor = _ingestor(platform, clock)
    await _walk(ingestor, clock, "8610000000009", seoul(MONDAY, "09:10"), [900, 900, 900])
    assert _alarms(platform) == [("not_arrived", zone)]


async def test_zone_evaluation_can_be_switched_off(platform: Platform) -> None:
    platform.settings.tracking_zones = False
    _child(platform, "mother.lim", "8610000000010")
    clock = Clock(seoul(MONDAY, "10:00"))
    ingestor = _ingestor(platform, clock)
    await _walk(ingestor, clock, "8610000000010", seoul(MONDAY, "10:00"), [0, 0] + [400] * 10)
    assert _alarms(platform) == []
    assert await ingestor.check_arrivals() == []


# ---------------------------------------------------------------- the engine


def test_the_hysteresis_rule() -> None:
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    dwell = timedelta(seconds=30)
    state, change = zones.step(None, zones.Side.BETWEEN, t0, dwell)
    assert state is None
    assert change is None
    state, change = zones.step(None, zones.Side.INSIDE, t0, dwell)
    assert state is not None
    assert state.inside
    assert change is None
    for s in (0, 10, 20):
        state, change = zones.step(state, zones.Side.OUTSIDE, t0 + timedelta(seconds=40 + s), dwell)
        assert change is None
    state, change = zones.step(state, zones.Side.BETWEEN, t0 + timedelta(seconds=65), dwell)
    assert change is None
    assert state is not None
    assert state.pending_since is not None
    state, change = zones.step(state, zones.Side.OUTSIDE, t0 + timedelta(seconds=70), dwell)
    assert change == zones.Change(False, t0 + timedelta(seconds=40), t0 + timedelta(seconds=70))
    late, change = zones.step(state, zones.Side.INSIDE, t0 + timedelta(seconds=5), dwell)
    assert change is None
    assert late is not None
    assert late.inside is False
    assert zones.margin_for(None) == 20.0
    assert zones.margin_for(45.0) == 45.0
    assert zones.margin_for(900.0) == zones.MAX_MARGIN_M


def test_zone_validation_names_the_field() -> None:
    point = {"type": "Point", "coordinates": [SCHOOL[1], SCHOOL[0]]}
    bounds = (126.76, 37.42, 127.19, 37.70)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "circle", "geometry": point, "radius_m": 5}, "radius_m"),
        ({"kind": "circle", "geometry": point, "radius_m": 6000}, "radius_m"),
        (
            {
                "kind": "circle",
                "geometry": {"type": "Point", "coordinates": [129.07, 35.18]},
                "radius_m": 100,
            },
            "geometry",
        ),
        ({"kind": "polygon", "geometry": point}, "geometry"),
        (
            {
                "kind": "polygon",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[126.98, 37.57], [126.99, 37.58], [126.99, 37.57], [126.98, 37.58], [126.98, 37.57]]
                    ],
                },
            },
            "geometry",
        ),
        (
            {
                "kind": "corridor",
                "geometry": {"type": "LineString", "coordinates": [[126.98, 37.57], [126.99, 37.58]]},
                "width_m": 600,
            },
            "width_m",
        ),
        (
            {
                "kind": "circle",
                "geometry": point,
                "radius_m": 100,
                "schedule": [{"days": [0], "start": "15:00", "end": "08:30"}],
            },
            "schedule[0].end",
        ),
        (
            {
                "kind": "circle",
                "geometry": point,
                "radius_m": 100,
                "schedule": [{"days": [7], "start": "08:00", "end": "09:00"}],
            },
            "schedule[0].days",
        ),
        ({"kind": "circle", "geometry": point, "radius_m": 100, "arrive_by": "9:00"}, "arrive_by"),
        ({"kind": "circle", "geometry": point, "radius_m": 100, "role": "office"}, "role"),
    ]
    for values, field in cases:
        with pytest.raises(zones.ZoneError) as error:
            zones.validate_zone(name="zone", bounds=bounds, **values)
        assert error.value.field == field, values
    assert zones.parse_schedule_text("mon-fri 08:30-15:00") == SCHOOL_HOURS
    with pytest.raises(zones.ZoneError):
        zones.parse_schedule_text("fri-mon 08:30-15:00")


def _reference_side(
    kind: str, centre: tuple[float, float], size: float, lat: float, lon: float, m: float
) -> str:
    """An independent signed distance: haversine for circles, a flat-earth square or a north-south
    segment around the centre for polygons and corridors."""
    if kind == "circle":
        signed = haversine_m(lat, lon, *centre) - size
    else:
        dy = (lat - centre[0]) * METRES_PER_DEGREE_LAT
        dx = (lon - centre[1]) * METRES_PER_DEGREE_LAT * math.cos(math.radians(centre[0]))
        if kind == "polygon":  # a square of side 2 * size
            ox, oy = abs(dx) - size, abs(dy) - size
            outside = math.hypot(max(ox, 0.0), max(oy, 0.0))
            signed = outside if outside > 0 else max(ox, oy)
        else:  # a corridor 2 * size wide along a 400 m north-south segment
            along = min(max(dy, -200.0), 200.0)
            signed = math.hypot(dx, dy - along) - size
    if signed < -m:
        return "inside"
    if signed > m:
        return "outside"
    return "between"


def _square(centre: tuple[float, float], half_m: float) -> dict[str, Any]:
    d_lat = half_m / METRES_PER_DEGREE_LAT
    d_lon = d_lat / math.cos(math.radians(centre[0]))
    lat, lon = centre
    ring = [
        [lon - d_lon, lat - d_lat],
        [lon + d_lon, lat - d_lat],
        [lon + d_lon, lat + d_lat],
        [lon - d_lon, lat + d_lat],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_fifty_thousand_zones_evaluate_correctly() -> None:
    rng = random.Random(2015)
    kinds = ("circle", "polygon", "corridor")
    specs: list[tuple[int, str, tuple[float, float], float]] = []
    compiled: list[tuple[zones.Rule, zones.Compiled]] = []
    for i in range(50_000):
        person = i // 10 + 1
        kind = kinds[i % 3]
        centre = (rng.uniform(37.45, 37.68), rng.uniform(126.80, 127.15))
        size = rng.uniform(60, 400)
        if kind == "circle":
            shape = zones.compile_zone(
                "circle", {"type": "Point", "coordinates": [centre[1], centre[0]]}, size, None
            )
        elif kind == "polygon":
            shape = zones.compile_zone("polygon", _square(centre, size), None, None)
        else:
            d_lat = 200 / METRES_PER_DEGREE_LAT
            line = {
                "type": "LineString",
                "coordinates": [[centre[1], centre[0] - d_lat], [centre[1], centre[0] + d_lat]],
            }
            shape = zones.compile_zone("corridor", line, None, 2 * size)
        rule = zones.Rule(i + 1, person, f"zone {i}", "other", (), True, False, None)
        compiled.append((rule, shape))
        specs.append((person, kind, centre, size))
    index = zones.ZoneIndex(compiled)
    fixes = []
    for _ in range(3000):
        zone = rng.randrange(50_000)
        person, _, centre, size = specs[zone]
        distance, bearing = rng.uniform(0, size * 2.5), rng.uniform(0, 2 * math.pi)
        lat = centre[0] + distance * math.cos(bearing) / METRES_PER_DEGREE_LAT
        lon = centre[1] + distance * math.sin(bearing) / (
            METRES_PER_DEGREE_LAT * math.cos(math.radians(centre[0]))
        )
        fixes.append(
            zones.ZoneFix(person, 1, datetime(2026, 11, 23, tzinfo=UTC), lat, lon, rng.choice([None, 35.0]))
        )
    sides = index.sides(fixes)
    checked = 0
    for fix, found in zip(fixes, sides, strict=True):
        assert set(found) == set(index.by_person[fix.person_id])  # every zone of the person, no other
        for z, side in found.items():
            _, kind, centre, size = specs[z]
            m = min(zones.margin_for(fix.accuracy_m), index.shapes[z].inner_radius / 2)
            for slack in (-1.0, 1.0):  # the two distances agree within a metre
                expected = _reference_side(kind, centre, size, fix.lat, fix.lon, m + slack)
                if expected == _reference_side(kind, centre, size, fix.lat, fix.lon, m - slack):
                    break
            else:
                continue
            assert side.value == expected, (kind, size, fix)
            checked += 1
    assert checked > 25_000


def test_fifty_thousand_zones_load_from_the_database(db: Session) -> None:
    """The index loads every active zone of both engines, and finds each person's own."""
    db.execute(
        insert(ProtectedPerson),
        [{"display_name": f"아동 {i}", "category": "child", "cannot_consent": False} for i in range(500)],
    )
    persons = list(db.scalars(select(ProtectedPerson.id).order_by(ProtectedPerson.id)))[-500:]
    rng = random.Random(20151)
    rows = []
    for i in range(50_000):
        lat, lon = rng.uniform(37.45, 37.68), rng.uniform(126.80, 127.15)
        rows.append(
            {
                "person_id": persons[i % 500],
                "name": f"zone {i}",
                "kind": "circle",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "radius_m": 100.0,
                "schedule": [],
                "role": "other",
                "alert_on_exit": True,
                "alert_on_enter": False,
                "created_by": "test",
                "active": i % 1000 != 0,
            }
        )
    db.execute(insert(SafeZone), rows)
    index = zones.ZoneIndex.load(db)
    mine = [z for z in index.rules if z.person_id in set(persons)]
    assert len(mine) == 49_950
    target = rows[1]
    lon, lat = target["geometry"]["coordinates"]
    fix = zones.ZoneFix(persons[1], 1, datetime(2026, 11, 23, tzinfo=UTC), lat, lon)
    sides = index.sides([fix])[0]
    assert len(sides) == 100
    inside = [index.rules[z].name for z, side in sides.items() if side is zones.Side.INSIDE]
    assert "zone 1" in inside


# ---------------------------------------------------------------- the API and the command line


def _bearer(client: Any, username: str) -> dict[str, str]:
    from conftest import PASSWORD, Account, token_for

    return {"Authorization": f"Bearer {token_for(client, Account(username, PASSWORD, ['guardian'], None))}"}


CIRCLE = {
    "name": "한빛초등학교",
    "kind": "circle",
    "geometry": {"type": "Point", "coordinates": [SCHOOL[1], SCHOOL[0]]},
    "radius_m": 150,
    "role": "school",
    "schedule": SCHOOL_HOURS,
    "arrive_by": "09:00",
}


def test_a_guardian_adds_lists_and_removes_their_childs_zones(client: Any, platform: Platform) -> None:
    child, _ = _child(platform, "mother.bae", "8610000000020")
    headers = _bearer(client, "mother.bae")
    url = f"/api/v1/tracking/persons/{child}/zones"
    route = {
        "name": "등굣길",
        "kind": "corridor",
        "geometry": {"type": "LineString", "coordinates": [[126.9860, 37.5720], [126.9900, 37.5760]]},
        "width_m": 60,
        "role": "route",
    }
    created = client.post(url, json=route, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "mother.bae"
    listed = client.get(url, headers=headers).json()
    assert [z["name"] for z in listed] == ["한빛초등학교", "등굣길"]
    assert client.delete(f"{url}/{created.json()['id']}", headers=headers).status_code == 204
    assert [z["name"] for z in client.get(url, headers=headers).json()] == ["한빛초등학교"]
    assert client.delete(f"{url}/{created.json()['id']}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"radius_m": 5}, "radius_m"),
        ({"radius_m": 8000}, "radius_m"),
        ({"geometry": {"type": "Point", "coordinates": [129.0756, 35.1796]}}, "geometry"),  # Busan
        (
            {
                "kind": "polygon",
                "radius_m": None,
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[126.98, 37.57], [126.99, 37.58], [126.99, 37.57], [126.98, 37.58], [126.98, 37.57]]
                    ],
                },
            },
            "geometry",
        ),
        (
            {
                "kind": "corridor",
                "radius_m": None,
                "geometry": {"type": "LineString", "coordinates": [[126.98, 37.57], [126.99, 37.58]]},
                "width_m": 600,
            },
            "width_m",
        ),
        ({"schedule": [{"days": [0], "start": "15:00", "end": "08:30"}]}, "schedule[0].end"),
        ({"schedule": [{"days": [0], "start": "8:30", "end": "15:00"}]}, "schedule[0].start"),
        ({"arrive_by": "25:00"}, "arrive_by"),
    ],
)
def test_an_invalid_zone_is_refused_with_a_problem_naming_the_field(
    client: Any, platform: Platform, change: dict[str, Any], field: str
) -> None:
    child, _ = _child(platform, "father.ryu", "8610000000021")
    response = client.post(
        f"/api/v1/tracking/persons/{child}/zones",
        json={**CIRCLE, **change},
        headers=_bearer(client, "father.ryu"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_zone", field)
    assert body["detail"].startswith(f"{field}: ")


def test_a_zone_of_an_unknown_kind_is_refused_by_the_schema(client: Any, platform: Platform) -> None:
    child, _ = _child(platform, "mother.nam", "8610000000022")
    response = client.post(
        f"/api/v1/tracking/persons/{child}/zones",
        json={**CIRCLE, "kind": "hexagon"},
        headers=_bearer(client, "mother.nam"),
    )
    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["body.kind"]


def test_a_stranger_gets_404_for_zones_and_the_attempt_is_audited(client: Any, platform: Platform) -> None:
    from smartseoul.core.models import AuditEntry

    child, zone = _child(platform, "father.go", "8610000000023")
    make_account(platform.db, "stranger.ha", ["guardian"])
    headers = _bearer(client, "stranger.ha")
    url = f"/api/v1/tracking/persons/{child}/zones"
    assert client.get(url, headers=headers).status_code == 404
    refused = client.post(url, json=CIRCLE, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (404, "unknown_person")
    assert client.delete(f"{url}/{zone}", headers=headers).status_code == 404
    unknown = client.get("/api/v1/tracking/persons/999999/zones", headers=headers)
    assert unknown.json()["detail"] == refused.json()["detail"].replace(str(child), "999999")
    with platform.db.session() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
        assert [row.actor for row in denied] == ["stranger.ha"] * 4
        assert session.get(SafeZone, zone).active is True  # type: ignore[union-attr]


def test_a_guardian_without_the_zone_right_cannot_change_zones(client: Any, platform: Platform) -> None:
    from smartseoul.tracking.models import Guardianship

    child, _ = _child(platform, "grandma.song", "8610000000024")
    with platform.db.session() as session:
        for link in session.scalars(select(Guardianship).where(Guardianship.person_id == child)):
            link.can_manage_zones = False
    response = client.post(
        f"/api/v1/tracking/persons/{child}/zones", json=CIRCLE, headers=_bearer(client, "grandma.song")
    )
    assert (response.status_code, response.json()["code"]) == (403, "zones_forbidden")


def test_an_operator_manages_any_persons_zones(client: Any, platform: Platform) -> None:
    from conftest import token_for

    child, _ = _child(platform, "father.ahn", "8610000000025")
    operator = make_account(platform.db, "officer.jin", ["operator"])
    headers = {"Authorization": f"Bearer {token_for(client, operator)}"}
    created = client.post(f"/api/v1/tracking/persons/{child}/zones", json=CIRCLE, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["schedule"] == SCHOOL_HOURS


def test_the_zone_add_command(tmp_path: Any) -> None:
    from smartseoul.core.bootstrap import bootstrap
    from smartseoul.core.settings import Settings
    from smartseoul.core.tests.cli_helpers import run_cli

    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    person = run_cli("person", "add", "--name", "이서준", "--category", "child", env=env).stdout.strip()
    added = run_cli(
        "person", "zone-add", person, "--name", "한빛초등학교", "--circle", "37.5720,126.9860,150",
        "--role", "school", "--schedule", "mon-fri 08:30-15:00", "--arrive-by", "09:00", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    small = run_cli("person", "zone-add", person, "--name", "x", "--circle", "37.5720,126.9860,5", env=env)
    assert small.returncode == 2
    assert "radius_m:" in small.stderr
    backwards = run_cli(
        "person", "zone-add", person, "--name", "x", "--circle", "37.5720,126.9860,100",
        "--schedule", "mon-fri 15:00-08:30", env=env,
    )  # fmt: skip
    assert backwards.returncode == 2
    assert "schedule[0].end:" in backwards.stderr
    platform = bootstrap(Settings(data_dir=tmp_path))
    with platform.db.session() as session:
        zone = session.get(SafeZone, int(added.stdout))
        assert zone is not None
        assert (zone.kind, zone.radius_m, zone.role, zone.schedule, zone.arrive_by) == (
            "circle",
            150.0,
            "school",
            SCHOOL_HOURS,
            "09:00",
        )
    platform.db.dispose()


def test_a_checkpoint_is_spread_over_the_next_batches_but_a_change_of_side_is_not() -> None:
    """50,000 soft states written in one transaction held SQLite's write lock for most of a
    second, and an SOS waited behind it: a due checkpoint goes out a slice per batch, while a
    change of side (durable) still goes out with its own batch, whole."""
    states = zones.ZoneStates(checkpoint_s=30.0, checkpoint_rows=2)
    states.soft = {(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)}
    assert states.due() == set()  # the checkpoint is not due yet: nothing soft goes out
    states.last_checkpoint -= 31
    states.durable = {(9, 9), (8, 8), (7, 7)}
    first = states.due()
    assert {(9, 9), (8, 8), (7, 7)} <= first  # every durable change, whatever the slice size
    assert len(first) == 5  # and two soft ones
    second, third = states.due(), states.due()
    assert (len(second), len(third)) == (2, 1)
    assert first | second | third == {(9, 9), (8, 8), (7, 7), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1)}
    assert states.checkpointing is False  # done: the next one is due in 30 s
    states.soft = {(1, 1)}
    assert states.due() == set()
    assert states.due(force=True) == {(1, 1)}  # shutdown writes everything at once
