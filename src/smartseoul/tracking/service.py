"""The service API of location safety: people, guardians, devices, and reads of location data.

Every read of a person's location goes through :func:`provide`, which records the provision
(who, what, why, emergency or not) as the Location Information Act requires and writes the same
to the audit ledger; there is no other way for this package to hand out positions.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.tracking.models import (
    CATEGORIES,
    PROTOCOLS,
    Alarm,
    Device,
    Guardianship,
    LocationProvision,
    Position,
    ProtectedPerson,
)

IDENTIFIER_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:/")


class NotFound(LookupError):
    """No such person or device, or not one the asker may see (both answer 404)."""


def add_person(
    session: Session,
    *,
    display_name: str,
    category: str,
    actor: str,
    birth_date: date | None = None,
    cannot_consent: bool = False,
    school_id: int | None = None,
    district_code: str | None = None,
) -> ProtectedPerson:
    if category not in CATEGORIES:
        raise InvalidInput(f"category: choose from {', '.join(CATEGORIES)}")
    if not display_name.strip():
        raise InvalidInput("display_name: required")
    person = ProtectedPerson(
        display_name=display_name.strip(),
        category=category,
        birth_date=birth_date,
        cannot_consent=cannot_consent,
        school_id=school_id,
        district_code=district_code,
    )
    session.add(person)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="person.create",
        target=f"person:{person.id}",
        details={"category": category},
    )
    return person


def add_guardian(
    session: Session,
    person: ProtectedPerson,
    user_id: int,
    *,
    relation: str,
    actor: str,
    legal_representative: bool = False,
    can_manage_zones: bool = True,
) -> Guardianship:
    link = Guardianship(
        person_id=person.id,
        user_id=user_id,
        relation=relation,
        legal_representative=legal_representative,
        can_manage_zones=can_manage_zones,
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="guardian.add",
        target=f"person:{person.id}",
        details={"user_id": user_id, "relation": relation, "legal_representative": legal_representative},
    )
    return link


def validate_identifier(identifier: str) -> str:
    if not 3 <= len(identifier) <= 64 or not set(identifier) <= IDENTIFIER_CHARS:
        raise InvalidInput(
            "identifier: 3-64 letters, digits, '-', '_', '.', ':' or '/' "
            "(the IMEI for most devices, USER/DEVICE for OwnTracks)"
        )
    return identifier


def register_device(
    session: Session,
    identifier: str,
    protocol: str,
    *,
    actor: str,
    person_id: int | None = None,
    label: str = "",
) -> Device:
    validate_identifier(identifier)
    if protocol not in PROTOCOLS:
        raise InvalidInput(f"protocol: choose from {', '.join(PROTOCOLS)}")
    if session.scalar(select(Device).where(Device.identifier == identifier)) is not None:
        raise InvalidInput(f"identifier: device {identifier} is already registered")
    if person_id is not None and session.get(ProtectedPerson, person_id) is None:
        raise InvalidInput(f"person: no protected person {person_id}")
    device = Device(identifier=identifier, protocol=protocol, person_id=person_id, label=label)
    session.add(device)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="device.register",
        target=f"device:{identifier}",
        details={"protocol": protocol, "person_id": person_id},
    )
    return device


def get_device(session: Session, identifier: str) -> Device:
    device = session.scalar(select(Device).where(Device.identifier == identifier))
    if device is None:
        raise NotFound(f"no device {identifier}")
    return device


def provide(
    session: Session,
    *,
    person_id: int | None,
    recipient: str,
    recipient_role: str,
    what: str,
    purpose: str,
    emergency: bool = False,
    details: dict[str, Any] | None = None,
) -> None:
    """Record one provision of location data, in the provision records and the audit ledger."""
    if person_id is not None:
        session.add(
            LocationProvision(
                person_id=person_id,
                recipient=recipient,
                recipient_role=recipient_role,
                what=what,
                purpose=purpose,
                emergency=emergency,
                details=details or {},
            )
        )
    audit.record(
        session,
        actor=recipient,
        action="location.read",
        target=f"person:{person_id}",
        reason=purpose,
        details={"what": what, "emergency": emergency, **(details or {})},
    )


def may_read(session: Session, principal: Principal, person_id: int | None) -> bool:
    """Control-room roles read for duty; a guardian only the people linked to them."""
    if principal.has_any("admin", "operator", "dispatcher"):
        return True
    if person_id is None or principal.kind != "user":
        return False
    link = session.scalar(
        select(Guardianship).where(
            Guardianship.person_id == person_id,
            Guardianship.user_id == principal.id,
            Guardianship.can_view_location.is_(True),
        )
    )
    return link is not None


def position_dict(position: Position) -> dict[str, Any]:
    """A position as the API and the CLI show it; ``valid`` False means no GPS fix."""
    return {
        "time": position.device_time.isoformat(),
        "received_at": position.received_at.isoformat(),
        "lat": position.lat,
        "lon": position.lon,
        "valid": position.valid,
        "source": position.source,
        "accuracy_m": position.accuracy_m,
        "speed_kmh": position.speed_kmh,
        "battery_pct": position.battery_pct,
        "protocol": position.protocol,
    }


def device_positions(
    session: Session, device: Device, *, reader: str, reader_role: str, purpose: str, limit: int = 50
) -> list[Position]:
    """Latest first; the read is recorded as a provision of the person's location."""
    rows = session.scalars(
        select(Position)
        .where(Position.device_id == device.id)
        .order_by(Position.device_time.desc(), Position.id.desc())
        .limit(limit)
    )
    views = list(rows)
    provide(
        session,
        person_id=device.person_id,
        recipient=reader,
        recipient_role=reader_role,
        what="positions",
        purpose=purpose,
        details={"device": device.identifier, "count": len(views)},
    )
    return views


def alarm_dict(alarm: Alarm) -> dict[str, Any]:
    """An alarm as the API and the CLI show it: where, and whether that is a last known position."""
    return {
        "id": alarm.id,
        "type": alarm.kind,
        "time": alarm.raised_at.isoformat(),
        "device_time": alarm.device_time.isoformat() if alarm.device_time else None,
        "lat": alarm.lat,
        "lon": alarm.lon,
        "position_is_last_known": alarm.position_is_last_known,
        "position_age_s": alarm.position_age_s,
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
    }


def device_alarms(
    session: Session, device: Device, *, reader: str, reader_role: str, purpose: str, limit: int = 50
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Alarm)
        .where(Alarm.device_id == device.id)
        .order_by(Alarm.raised_at.desc(), Alarm.id.desc())
        .limit(limit)
    )
    alarms = [alarm_dict(a) for a in rows]
    provide(
        session,
        person_id=device.person_id,
        recipient=reader,
        recipient_role=reader_role,
        what="alarms",
        purpose=purpose,
        details={"device": device.identifier, "count": len(alarms)},
    )
    return alarms


MAX_PLAUSIBLE_KMH = 200.0


def without_jumps(points: list[Position], max_kmh: float = MAX_PLAUSIBLE_KMH) -> tuple[list[Position], int]:
    """Drop fixes that imply an impossible speed from the last kept one (multipath in a street
    canyon can put a child 2 km away for one report); returns the kept fixes and how many were
    dropped. Stored positions are never changed: this only shapes the drawn path."""
    from smartseoul.core.geo import haversine_m

    kept: list[Position] = []
    for point in points:
        if point.lat is None or point.lon is None:
            continue
        if kept:
            last = kept[-1]
            seconds = max((point.device_time - last.device_time).total_seconds(), 1.0)
            metres = haversine_m(last.lat or 0.0, last.lon or 0.0, point.lat, point.lon)
            if metres / seconds * 3.6 > max_kmh:
                continue
        kept.append(point)
    return kept, len(points) - len(kept)
