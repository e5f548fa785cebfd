"""Small builders the reservations tests share: a facility with slots, citizens."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from smartseoul.core.models import User, UserRole
from smartseoul.services.reservations import service
from smartseoul.services.reservations.models import Facility, Slot

GANGNAM, NOWON = "11230", "11350"
_codes = count(1)


def facility(session: Session, **rules: Any) -> Facility:
    values: dict[str, Any] = {
        "code": f"T-{next(_codes)}-{id(session) % 10000}",
        "name_ko": "역삼 테니스장 1코트",
        "name_en": "Yeoksam tennis court 1",
        "kind": "sports",
        "district_code": GANGNAM,
    }
    values.update(rules)
    return service.add_facility(session, service.FacilityDraft(**values))


def slots(
    session: Session, fac: Facility, *, days_ahead: int = 3, hours: tuple[int, ...] = (9, 10, 11)
) -> list[Slot]:
    day = (datetime.now(service.SEOUL) + timedelta(days=days_ahead)).date()
    return service.add_slots(session, fac, day, list(hours))


def slot_on(session: Session, fac: Facility, day: date, hour: int) -> Slot:
    return service.add_slots(session, fac, day, [hour])[0]


def citizen(session: Session, name: str, district: str | None = GANGNAM) -> int:
    """A citizen row without a password hash (argon2 is slow; these tests never log in)."""
    user = User(username=name, password_hash="!", district_code=district, roles=[UserRole(role="citizen")])
    session.add(user)
    session.flush()
    return int(user.id)
