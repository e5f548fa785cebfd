"""The SOS workflow on the tracking side: acknowledging alarms and a guardian's "find now".

Escalation itself (no acknowledgement within the timeout -> supervisor -> police hand-over) is
the incident desk's: it listens to ``tracking.alarm.raised.v1`` and stops its timer on
``tracking.alarm.acknowledged.v1``, which this module publishes whoever acknowledges first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.db import utcnow
from smartseoul.tracking import service
from smartseoul.tracking.commands import DeviceLinks
from smartseoul.tracking.events import AlarmAcknowledged, FindNowRequested
from smartseoul.tracking.models import Alarm, Device, FindNowRequest, Guardianship, Position, ProtectedPerson

FIND_NOW_WHAT = "find now (emergency)"


class NotYours(LookupError):
    """The alarm or person does not exist for this principal (answered as 404, audited)."""


def role_of(principal: Principal) -> str:
    """The role in which a principal acts on an alarm: the control room's before a guardian's."""
    for role in ("operator", "admin", "dispatcher", "guardian"):
        if principal.has_any(role):
            return role
    return sorted(principal.roles)[0] if principal.roles else "unknown"


def _guardian_link(session: Session, principal: Principal, person_id: int) -> Guardianship | None:
    if principal.kind != "user":
        return None
    return session.scalar(
        select(Guardianship).where(Guardianship.person_id == person_id, Guardianship.user_id == principal.id)
    )


def acknowledge_alarm(
    session: Session, principal: Principal, person_id: int, alarm_id: int
) -> tuple[Alarm, AlarmAcknowledged | None]:
    """Mark the alarm as taken in hand. Only the first acknowledgement counts (and is announced);
    a guardian may acknowledge only alarms of their own person that they receive."""
    row = session.execute(
        select(Alarm, Device.person_id).join(Device, Device.id == Alarm.device_id).where(Alarm.id == alarm_id)
    ).first()
    if row is None or row[1] != person_id:
        raise NotYours(f"no alarm {alarm_id} of person {person_id}")
    alarm: Alarm = row[0]
    if not principal.has_any("admin", "operator", "dispatcher"):
        link = _guardian_link(session, principal, person_id)
        if link is None or not (link.receives_alerts or link.can_view_location):
            raise NotYours(f"no alarm {alarm_id} of person {person_id}")
    if alarm.acknowledged_at is not None:
        return alarm, None
    role = role_of(principal)
    alarm.acknowledged_at = utcnow()
    alarm.acknowledged_by = f"{principal.name} ({role})"
    audit.record(
        session,
        actor=principal.name,
        action="tracking.alarm.acknowledged",
        target=f"alarm:{alarm_id}",
        details={"person": person_id, "kind": alarm.kind, "role": role},
    )
    event = AlarmAcknowledged(
        alarm_id=alarm_id,
        person_id=person_id,
        user_id=principal.id if principal.kind == "user" else None,
        role=role,
        kind=alarm.kind,
    )
    return alarm, event


@dataclass(frozen=True)
class FindNowResult:
    request: FindNowRequest
    position: dict[str, Any] | None
    event: FindNowRequested


def latest_position(session: Session, person_id: int) -> Position | None:
    """The newest position of any of the person's devices: a GPS fix if there is one from the
    last hour, else the newest of any kind (which says itself that it is not GPS)."""
    devices = list(session.scalars(select(Device.id).where(Device.person_id == person_id)))
    if not devices:
        return None
    newest = select(Position).where(Position.device_id.in_(devices)).order_by(Position.device_time.desc())
    any_fix = session.scalars(newest.limit(1)).first()
    gps = session.scalars(newest.where(Position.valid.is_(True)).limit(1)).first()
    if (
        gps is not None
        and any_fix is not None
        and (any_fix.device_time - gps.device_time).total_seconds() < 3600
    ):
        return gps
    return any_fix


def find_now(
    session: Session,
    principal: Principal,
    person: ProtectedPerson,
    reason: str,
    links: DeviceLinks | None,
    now: datetime | None = None,
) -> FindNowResult:
    """A guardian's emergency request: the newest position at once, a fresh fix asked of every
    connected device that can be asked, and the request logged as an emergency provision."""
    now = now or utcnow()
    identifiers = list(session.scalars(select(Device.identifier).where(Device.person_id == person.id)))
    asked = [i for i in identifiers if links is not None and links.ask_for_fix(i)]
    position = latest_position(session, person.id)
    request = FindNowRequest(
        person_id=person.id,
        requested_by=principal.name,
        user_id=principal.id if principal.kind == "user" else None,
        reason=reason,
        requested_at=now,
        lat=position.lat if position else None,
        lon=position.lon if position else None,
        position_time=position.device_time if position else None,
        devices_asked=asked,
    )
    session.add(request)
    session.flush()
    service.provide(
        session,
        person_id=person.id,
        recipient=principal.name,
        recipient_role=role_of(principal),
        what=FIND_NOW_WHAT,
        purpose=reason,
        emergency=True,
        details={"request": request.id, "devices_asked": asked},
    )
    age = round((now - position.device_time).total_seconds(), 1) if position else None
    event = FindNowRequested(
        request_id=request.id,
        person_id=person.id,
        user_id=request.user_id,
        district_code=person.district_code,
        lat=request.lat,
        lon=request.lon,
        position_age_s=age,
        device_asked=bool(asked),
    )
    return FindNowResult(request, service.position_dict(position) if position else None, event)


def find_now_dict(result: FindNowResult) -> dict[str, Any]:
    request = result.request
    return {
        "id": request.id,
        "requested_at": request.requested_at.isoformat(),
        "position": result.position,
        "position_age_s": result.event.position_age_s,
        "devices_asked": request.devices_asked,
        "control_room_notified": True,
    }
