"""The control room's card of a protected person: no more personal data than the duty needs.

The card carries the facts a rescuer acts on (who: name, category, age in years; which school;
how to reach the family: through the app; the devices' battery and when they were last heard)
and never the birth date, the consent forms or the guardians' accounts. Help nearby (the
nearest schools, whose security guards can go and look, and the police station of the district
the person is in) is worked out from the newest position, so it is a provision like any read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.city.models import School
from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.db import utcnow
from smartseoul.core.geo import haversine_m
from smartseoul.tracking import emergency, service
from smartseoul.tracking.models import Device, Guardianship, ProtectedPerson

CARD_ROLES = ("admin", "operator", "dispatcher")


def age_years(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def person_facts(
    session: Session, principal: Principal, person: ProtectedPerson, reason: str
) -> dict[str, Any]:
    """The card's facts (no location); the read of personal data is written to the audit ledger."""
    school = session.get(School, person.school_id) if person.school_id else None
    relations = list(
        session.scalars(
            select(Guardianship.relation).where(
                Guardianship.person_id == person.id, Guardianship.receives_alerts.is_(True)
            )
        )
    )
    devices = session.scalars(select(Device).where(Device.person_id == person.id).order_by(Device.id)).all()
    audit.record(
        session,
        actor=principal.name,
        action="tracking.person.card",
        target=f"person:{person.id}",
        reason=reason,
    )
    return {
        "id": person.id,
        "display_name": person.display_name,
        "category": person.category,
        "age": age_years(person.birth_date, utcnow().date()),
        "district_code": person.district_code,
        "school": {"id": school.id, "name_ko": school.name_ko, "name_en": school.name_en} if school else None,
        "guardians": relations,
        "devices": [
            {
                "protocol": d.protocol,
                "battery_pct": d.battery_pct,
                "last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None,
            }
            for d in devices
        ],
    }


@dataclass(frozen=True)
class Place:
    kind: str
    name_ko: str
    name_en: str
    lat: float | None
    lon: float | None
    distance_m: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name_ko": self.name_ko,
            "name_en": self.name_en,
            "lat": self.lat,
            "lon": self.lon,
            "distance_m": None if self.distance_m is None else round(self.distance_m),
        }


def nearest_schools(session: Session, lat: float, lon: float, count: int = 3) -> list[Place]:
    """The nearest elementary schools: each has a school security guard who can go and look."""
    measured = [(haversine_m(lat, lon, s.lat, s.lon), s) for s in session.scalars(select(School))]
    ranked = sorted(measured, key=lambda pair: pair[0])[:count]
    return [Place("school", s.name_ko, s.name_en, s.lat, s.lon, metres) for metres, s in ranked]


def police_for(session: Session, district_code: str | None) -> list[Place]:
    """The police stations whose jurisdiction is the district the person is in."""
    if district_code is None:
        return []
    return [
        Place("police", p.name_ko, p.name_ko, None, None, None)
        for p in city.police_stations(session)
        if p.district_code == district_code
    ]


def help_nearby(
    session: Session, principal: Principal, person: ProtectedPerson, reason: str, index: city.CityIndex
) -> dict[str, Any]:
    """Who can help where the person is now (a provision of location: it is recorded)."""
    position = emergency.latest_position(session, person.id)
    where = (position.lat, position.lon) if position and position.lat is not None and position.lon else None
    district = index.district_at(*where) if where else person.district_code
    schools = nearest_schools(session, *where) if where else []
    service.provide(
        session,
        person_id=person.id,
        recipient=principal.name,
        recipient_role=emergency.role_of(principal),
        what="help nearby",
        purpose=reason,
    )
    return {
        "from": service.position_dict(position) if position else None,
        "district_code": district,
        "schools": [s.as_dict() for s in schools],
        "police": [p.as_dict() for p in police_for(session, district)],
    }
