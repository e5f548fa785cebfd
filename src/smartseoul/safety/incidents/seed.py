"""Demo agencies and bells: the 2016 police stations, fire (119), the pilot schools' security guards,
the 25 district duty rooms, and a few emergency bells per district linked to the cameras that see them.

Police stations have no coordinates in the open data: each gets a deterministic point inside its
district. Demo agencies have no webhook (they read hand-overs on /console/handovers); a real one is
given its URL with ``smartseoul agency add``.
"""

from __future__ import annotations

import logging
import math
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.city.models import District, School
from smartseoul.safety.incidents import bells, handovers
from smartseoul.safety.incidents.models import Agency, Bell
from smartseoul.safety.incidents.service import city_index

log = logging.getLogger("smartseoul.incidents.seed")
BELLS_PER_DISTRICT = 4
PILOT_SCHOOLS = 7
GUARD_RADIUS_M = 500.0
ACTOR = "demo"


def circle(lat: float, lon: float, radius_m: float, sides: int = 24) -> dict[str, Any]:
    """A GeoJSON polygon approximating a circle (the area of a school's guards)."""
    ring = []
    for step in range(sides + 1):
        angle = 2 * math.pi * step / sides
        ring.append(
            [
                round(lon + radius_m * math.sin(angle) / (111_320 * math.cos(math.radians(lat))), 6),
                round(lat + radius_m * math.cos(angle) / 111_195, 6),
            ]
        )
    return {"type": "Polygon", "coordinates": [ring]}


def _agency(session: Session, **fields: Any) -> None:
    handovers.add_agency(session, actor=ACTOR, **fields)


def seed_agencies(session: Session, seed: int) -> int:
    rng = random.Random(seed)
    index = city_index(session)
    districts = session.scalars(select(District).order_by(District.code)).all()
    for number, station in enumerate(city.police_stations(session), start=1):
        ((lat, lon),) = city.random_points_in(index.district_shapes[station.district_code], 1, rng)
        name = station.name_ko.removesuffix("서")
        _agency(
            session,
            code=f"police-{number:02d}",
            kind="police",
            name_ko=f"{name}경찰서",
            name_en=f"{name} Police Station",
            district_codes=[station.district_code],
            lat=lat,
            lon=lon,
        )
    _agency(
        session,
        code="fire-119",
        kind="fire",
        name_ko="서울소방재난본부 119종합상황실",
        name_en="Seoul Fire & Disaster HQ, 119 centre",
        district_codes=[d.code for d in districts],
    )
    schools = session.scalars(select(School).order_by(School.id)).all()
    # the same 7 pilot schools as the location service's demo children (same seed, same draw)
    for school in random.Random(seed).sample(list(schools), min(PILOT_SCHOOLS, len(schools))):
        _agency(
            session,
            code=f"guard-school-{school.id}",
            kind="school_guard",
            name_ko=f"{school.name_ko} 학교보안관",
            name_en=f"{school.name_en} security guards",
            district_codes=[],
            area=circle(school.lat, school.lon, GUARD_RADIUS_M),
            lat=school.lat,
            lon=school.lon,
        )
    for district in districts:
        _agency(
            session,
            code=f"district-{district.code}",
            kind="district",
            name_ko=f"{district.name_ko} 재난안전상황실",
            name_en=f"{district.name_en} duty room",
            district_codes=[district.code],
            lat=district.centroid_lat,
            lon=district.centroid_lon,
        )
    return session.query(Agency).count()


def _linked_cameras(session: Session, lat: float, lon: float) -> list[int]:
    """The cameras that see the bell's spot (from the cctv service, when it has cameras)."""
    try:
        from smartseoul.safety.cctv import service as cctv
    except ImportError:
        return []
    try:
        return [c.camera_id for c in cctv.cameras_covering(session, lat, lon, limit=3)]
    except Exception:  # the cctv registry may be empty or not there yet: bells work without cameras
        log.warning("no cameras linked to the demo bells", exc_info=True)
        return []


def bell_places(session: Session, seed: int) -> dict[str, list[tuple[float, float]]]:
    """Where the demo bells stand, per district: on the poles of demo cameras (Seoul mounts its
    safety bells on CCTV poles), or at random points of the district when there are no cameras."""
    index = city_index(session)
    rng = random.Random(seed + 1)
    places: dict[str, list[tuple[float, float]]] = {code: [] for code in index.district_shapes}
    try:
        from smartseoul.safety.cctv.seed import demo_camera_points

        poles = demo_camera_points(seed)
    except ImportError:
        poles = []
    for lat, lon in rng.sample(poles, min(len(poles), 40 * BELLS_PER_DISTRICT * len(places))):
        code = index.district_at(lat, lon)
        if code in places and len(places[code]) < BELLS_PER_DISTRICT:
            places[code].append((lat, lon))
    for code, found in places.items():
        missing = BELLS_PER_DISTRICT - len(found)
        if missing > 0:
            found.extend(city.random_points_in(index.district_shapes[code], missing, rng))
    return places


def seed_bells(session: Session, seed: int) -> int:
    for code, places in sorted(bell_places(session, seed).items()):
        for number, (lat, lon) in enumerate(places, start=1):
            bell_id = f"B{code}-{number:02d}"
            bell = bells.add_bell(
                session,
                bell_id,
                lat,
                lon,
                actor=ACTOR,
                district_code=code,
                name=bell_id,
                camera_ids=_linked_cameras(session, lat, lon),
            )
            bell.last_heartbeat_at = bell.created_at
    return session.query(Bell).count()


def seed_demo(session: Session, seed: int) -> tuple[int, int]:
    """Agencies and bells, once (a second run finds them and adds nothing)."""
    if session.scalar(select(Agency.id).limit(1)) is None:
        seed_agencies(session, seed)
    if session.scalar(select(Bell.id).limit(1)) is None:
        seed_bells(session, seed)
    return session.query(Agency).count(), session.query(Bell).count()
