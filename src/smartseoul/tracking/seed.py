"""The demo's protected children: the pilot's first schools, a few children each, with watches.

The plan's pilot covered 7 schools and 2,195 children; the demo keeps the 7 schools and 10
children each so that it runs on a laptop. Each child has a guardian (the demo account
``guardian``), a consent that satisfies the Location Information Act for their age, a home near
the school, and a watch registered under a recognisable demo identifier.
"""

from __future__ import annotations

import math
import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city.models import School
from smartseoul.core import auth
from smartseoul.tracking import consent, service
from smartseoul.tracking.models import Device, ProtectedPerson

DEMO_PREFIX = "88000"
PILOT_SCHOOLS = 7
CHILDREN_PER_SCHOOL = 10
GIVEN_NAMES = ("서연", "민준", "하은", "도윤", "지우", "서준", "하윤", "예준", "수아", "시우", "지호", "채원")
FAMILY_NAMES = ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임")
DEMO_GUARDIAN = ("guardian", "Seoul-family-2015!")


def _guardian(session: Session) -> int:
    user = auth.get_user(session, DEMO_GUARDIAN[0])
    if user is None:
        user = auth.create_user(
            session,
            username=DEMO_GUARDIAN[0],
            password=DEMO_GUARDIAN[1],
            roles=["guardian"],
            actor="demo",
            display_name="보호자 (demo)",
        )
    return user.id


def seed_children(session: Session, seed: int) -> int:
    """Create the demo children once; returns how many exist."""
    existing = session.scalars(select(Device).where(Device.identifier.startswith(DEMO_PREFIX))).all()
    if existing:
        return len(existing)
    rng = random.Random(seed)
    guardian_id = _guardian(session)
    schools = session.scalars(select(School).order_by(School.id)).all()
    pilot = rng.sample(list(schools), min(PILOT_SCHOOLS, len(schools)))
    count = 0
    for school in pilot:
        for _ in range(CHILDREN_PER_SCHOOL):
            count += 1
            born = date(2026 - rng.randint(7, 12), rng.randint(1, 12), rng.randint(1, 28))
            child = service.add_person(
                session,
                display_name=rng.choice(FAMILY_NAMES) + rng.choice(GIVEN_NAMES),
                category="child",
                actor="demo",
                birth_date=born,
                school_id=school.id,
                district_code=school.district_code,
            )
            service.add_guardian(
                session, child, guardian_id, relation="parent", actor="demo", legal_representative=True
            )
            consent.give(
                session,
                child,
                given_by="guardian",
                guardian_user_id=guardian_id,
                recorded_by="demo",
                written_record=f"demo consent form {count:04d}",
            )
            service.register_device(
                session,
                f"{DEMO_PREFIX}{count:05d}",
                "watch",
                actor="demo",
                person_id=child.id,
                label=f"demo watch {count}",
            )
    return count


def homes_and_schools(
    session: Session, identifiers: list[str]
) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """Each demo watch's home (300-900 m from school, fixed by the seed) and school."""
    rows = session.execute(
        select(Device.identifier, School.lat, School.lon)
        .join(ProtectedPerson, Device.person_id == ProtectedPerson.id)
        .join(School, ProtectedPerson.school_id == School.id)
        .where(Device.identifier.in_(identifiers))
    ).all()
    places = {}
    for identifier, lat, lon in rows:
        rng = random.Random(identifier)
        distance, bearing = rng.uniform(300, 900), rng.uniform(0, 2 * math.pi)
        home = (
            round(lat + distance * math.cos(bearing) / 111_000, 6),
            round(lon + distance * math.sin(bearing) / 88_000, 6),
        )
        places[identifier] = (home, (lat, lon))
    return places
