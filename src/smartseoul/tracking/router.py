"""HTTP API of location safety: the OwnTracks endpoint, reads of a person's location, safe zones.

A person who is not the asker's to see answers 404 (not 403), so the API does not confirm who
is protected; the attempt still goes to the audit ledger.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.tracking import card, emergency, service, zones
from smartseoul.tracking.models import (
    Alarm,
    Device,
    Guardianship,
    LocationProvision,
    Position,
    ProtectedPerson,
)
from smartseoul.tracking.plugin import device_links, guardian_fanout, ingestor
from smartseoul.tracking.protocols import FrameError
from smartseoul.web.deps import client_address, db_session, get_platform, record_denial, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["tracking"])
READERS = ("admin", "operator", "dispatcher", "guardian")
ZONE_MANAGERS = ("admin", "operator", "guardian")
CITY_BOUNDS_KEY = "tracking.city_bounds"
SEOUL = ZoneInfo("Asia/Seoul")
PersonId = Annotated[int, Path(ge=1)]
Reason = Annotated[
    str, Query(min_length=3, max_length=500, description="Why the location is read (recorded).")
]


@router.post("/owntracks", summary="OwnTracks HTTP mode: a device posts its location JSON")
async def owntracks(request: Request, platform: Platform = Depends(get_platform)) -> JSONResponse:
    from smartseoul.tracking.protocols.owntracks import decode_owntracks

    user = request.headers.get("x-limit-u") or request.query_params.get("u")
    device = request.headers.get("x-limit-d") or request.query_params.get("d")
    if not user or not device:
        raise Problem(
            400,
            "Device not named",
            "send X-Limit-U and X-Limit-D (OwnTracks user and device)",
            "device_unnamed",
        )
    decoded = decode_owntracks(await request.body(), user=user, device=device)
    if isinstance(decoded, FrameError):
        raise Problem(400, "Malformed OwnTracks message", decoded.reason, "malformed_frame")
    if not await ingestor(platform).accept(decoded, client_address(request)):
        raise Problem(403, "Unknown device", f"{user}/{device} is not registered", "unknown_device")
    return JSONResponse([])


def _person_for(
    session: Session, request: Request, principal: Principal, person_id: int, reason: str
) -> ProtectedPerson:
    person = session.get(ProtectedPerson, person_id)
    if person is None or not service.may_read(session, principal, person_id):
        record_denial(session, request, principal, f"location of person {person_id}: {reason}")
        raise Problem(404, "Unknown person", f"no protected person {person_id} for you", "unknown_person")
    return person


def _devices_of(session: Session, person_id: int) -> list[int]:
    return list(session.scalars(select(Device.id).where(Device.person_id == person_id)))


@router.get("/tracking/persons/{person_id}/latest", summary="The person's latest position (recorded read)")
def latest(
    person_id: PersonId,
    reason: Reason,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*READERS)),
) -> dict[str, Any]:
    _person_for(session, request, principal, person_id, reason)
    devices = _devices_of(session, person_id)
    rows = (
        session.scalars(
            select(Position)
            .where(Position.device_id.in_(devices))
            .order_by(Position.device_time.desc())
            .limit(1)
        ).all()
        if devices
        else []
    )
    last_valid = (
        session.scalars(
            select(Position)
            .where(Position.device_id.in_(devices), Position.valid.is_(True))
            .order_by(Position.device_time.desc())
            .limit(1)
        ).first()
        if devices
        else None
    )
    service.provide(
        session,
        person_id=person_id,
        recipient=principal.name,
        recipient_role=sorted(principal.roles)[0],
        what="latest",
        purpose=reason,
    )
    return {
        "person_id": person_id,
        "latest": service.position_dict(rows[0]) if rows else None,
        "last_gps_fix": service.position_dict(last_valid) if last_valid else None,
    }


@router.get("/tracking/persons/{person_id}/path", summary="The person's path on one day (Seoul time)")
def path(
    person_id: PersonId,
    reason: Reason,
    request: Request,
    day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*READERS)),
) -> dict[str, Any]:
    _person_for(session, request, principal, person_id, reason)
    local_day = datetime.fromisoformat(day).date() if day else datetime.now(SEOUL).date()
    start = datetime.combine(local_day, time(0), SEOUL)
    devices = _devices_of(session, person_id)
    rows = (
        session.scalars(
            select(Position)
            .where(
                Position.device_id.in_(devices),
                Position.valid.is_(True),
                Position.device_time >= start,
                Position.device_time < start + timedelta(days=1),
            )
            .order_by(Position.device_time)
        ).all()
        if devices
        else []
    )
    rows, outliers = service.without_jumps(list(rows))
    service.provide(
        session,
        person_id=person_id,
        recipient=principal.name,
        recipient_role=sorted(principal.roles)[0],
        what="path",
        purpose=reason,
        details={"day": local_day.isoformat(), "points": len(rows)},
    )
    return {
        "person_id": person_id,
        "day": local_day.isoformat(),
        "path": {"type": "LineString", "coordinates": [[r.lon, r.lat] for r in rows]},
        "points": [service.position_dict(r) for r in rows],
        "left_out_as_impossible_jumps": outliers,
    }


@router.get("/tracking/persons/{person_id}/access-ledger", summary="Every read of this person's location")
def access_ledger(
    person_id: PersonId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*READERS, "auditor")),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    if not principal.has_any("auditor"):
        _person_for(session, request, principal, person_id, "access ledger")
    rows = session.scalars(
        select(LocationProvision)
        .where(LocationProvision.person_id == person_id)
        .order_by(LocationProvision.at.desc())
        .limit(limit)
    )
    return [
        {
            "at": r.at.isoformat(),
            "recipient": r.recipient,
            "role": r.recipient_role,
            "what": r.what,
            "purpose": r.purpose,
            "emergency": r.emergency,
        }
        for r in rows
    ]


@router.get("/tracking/persons/{person_id}/alarms", summary="The person's recent alarms (recorded read)")
def person_alarms(
    person_id: PersonId,
    reason: Reason,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*READERS)),
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[dict[str, Any]]:
    _person_for(session, request, principal, person_id, reason)
    devices = _devices_of(session, person_id)
    rows = (
        session.scalars(
            select(Alarm)
            .where(Alarm.device_id.in_(devices))
            .order_by(Alarm.raised_at.desc(), Alarm.id.desc())
            .limit(limit)
        ).all()
        if devices
        else []
    )
    service.provide(
        session,
        person_id=person_id,
        recipient=principal.name,
        recipient_role=sorted(principal.roles)[0],
        what="alarms",
        purpose=reason,
        details={"count": len(rows)},
    )
    return [service.alarm_dict(a) for a in rows]


@router.get("/tracking/my/persons", summary="The persons linked to the signed-in guardian (no location)")
def my_persons(
    session: Session = Depends(db_session),
    principal: Principal = Depends(require("guardian")),
) -> list[dict[str, Any]]:
    if principal.kind != "user":
        return []
    links = session.execute(
        select(Guardianship, ProtectedPerson)
        .join(ProtectedPerson, ProtectedPerson.id == Guardianship.person_id)
        .where(Guardianship.user_id == principal.id, Guardianship.can_view_location.is_(True))
        .order_by(ProtectedPerson.display_name, ProtectedPerson.id)
    ).all()
    result = []
    for link, person in links:
        devices = session.scalars(select(Device).where(Device.person_id == person.id)).all()
        seen = [d for d in devices if d.last_seen_at is not None]
        newest = max(seen, key=lambda d: d.last_seen_at or d.created_at) if seen else None
        result.append(
            {
                "id": person.id,
                "display_name": person.display_name,
                "category": person.category,
                "relation": link.relation,
                "devices": len(devices),
                "battery_pct": newest.battery_pct if newest else None,
                "last_seen_at": newest.last_seen_at.isoformat() if newest and newest.last_seen_at else None,
            }
        )
    return result


# ---------------------------------------------------------------- safe zones


class ZoneIn(BaseModel):
    """A safe zone: a GeoJSON Polygon, a Point with ``radius_m`` (circle) or a LineString with
    ``width_m`` (corridor, e.g. the way from home to school), in lon/lat."""

    name: str = Field(min_length=1, max_length=128)
    kind: Literal["polygon", "circle", "corridor"]
    geometry: dict[str, Any]
    radius_m: float | None = None
    width_m: float | None = None
    schedule: list[dict[str, Any]] = Field(
        default_factory=list,
        description='[{"days": [0-6, Monday = 0], "start": "HH:MM", "end": "HH:MM"}], Seoul; [] = always',
    )
    role: Literal["school", "home", "route", "other"] = "other"
    alert_on_exit: bool = True
    alert_on_enter: bool = False
    arrive_by: str | None = Field(None, description='"HH:MM": alarm when not inside by then on schedule days')


def _zone_person(session: Session, request: Request, principal: Principal, person_id: int) -> ProtectedPerson:
    """Admins and operators manage anyone's zones; a guardian only those of their own person, with
    the right to manage zones. Anyone else gets 404 (the attempt is audited)."""
    person = session.get(ProtectedPerson, person_id)
    if person is not None and principal.has_any("admin", "operator"):
        return person
    link = (
        session.scalar(
            select(Guardianship).where(
                Guardianship.person_id == person_id, Guardianship.user_id == principal.id
            )
        )
        if person is not None and principal.kind == "user"
        else None
    )
    if person is None or link is None:
        record_denial(session, request, principal, f"safe zones of person {person_id}")
        raise Problem(404, "Unknown person", f"no protected person {person_id} for you", "unknown_person")
    if not link.can_manage_zones:
        record_denial(session, request, principal, f"safe zones of person {person_id}: no zone right")
        raise Problem(
            403, "Forbidden", "your guardianship does not include managing safe zones", "zones_forbidden"
        )
    return person


def _city_bounds(platform: Platform, session: Session) -> tuple[float, float, float, float] | None:
    bounds = platform.cache.get(CITY_BOUNDS_KEY)
    if bounds is None:
        bounds = zones.city_bounds(session)
        if bounds is not None:
            platform.cache[CITY_BOUNDS_KEY] = bounds
    return bounds


@router.get("/tracking/persons/{person_id}/zones", summary="The person's safe zones")
def list_zones(
    person_id: PersonId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*ZONE_MANAGERS)),
) -> list[dict[str, Any]]:
    _zone_person(session, request, principal, person_id)
    return [zones.zone_dict(zone) for zone in zones.person_zones(session, person_id)]


@router.post(
    "/tracking/persons/{person_id}/zones", status_code=201, summary="Add a safe zone (hysteresis, schedule)"
)
def create_zone(
    person_id: PersonId,
    body: ZoneIn,
    request: Request,
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*ZONE_MANAGERS)),
) -> dict[str, Any]:
    _zone_person(session, request, principal, person_id)
    try:
        zone = zones.add_zone(
            session,
            person_id,
            actor=principal.name,
            bounds=_city_bounds(platform, session),
            **body.model_dump(),
        )
    except zones.ZoneError as error:
        raise Problem(422, "Invalid zone", str(error), "invalid_zone", field=error.field) from None
    result = zones.zone_dict(zone)
    session.commit()
    ingestor(platform).forget_zones()
    return result


@router.delete("/tracking/persons/{person_id}/zones/{zone_id}", status_code=204, summary="Remove a safe zone")
def delete_zone(
    person_id: PersonId,
    zone_id: Annotated[int, Path(ge=1)],
    request: Request,
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*ZONE_MANAGERS)),
) -> Response:
    _zone_person(session, request, principal, person_id)
    if not zones.remove_zone(session, person_id, zone_id, actor=principal.name):
        raise Problem(404, "Unknown zone", f"person {person_id} has no zone {zone_id}", "unknown_zone")
    session.commit()
    ingestor(platform).forget_zones()
    return Response(status_code=204)


# ---------------------------------------------------------------- the SOS workflow


class FindNowIn(BaseModel):
    reason: str = Field(
        min_length=3, max_length=500, description="Why the person must be found now (recorded as emergency)."
    )


@router.post(
    "/tracking/persons/{person_id}/alarms/{alarm_id}/acknowledge",
    summary="Take an alarm in hand (stops the incident desk's SOS escalation timer)",
)
async def acknowledge_alarm(
    person_id: PersonId,
    alarm_id: Annotated[int, Path(ge=1)],
    request: Request,
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*READERS)),
) -> dict[str, Any]:
    def work() -> tuple[dict[str, Any], Any]:
        try:
            alarm, event = emergency.acknowledge_alarm(session, principal, person_id, alarm_id)
        except emergency.NotYours as error:
            record_denial(session, request, principal, f"acknowledge alarm {alarm_id} of person {person_id}")
            raise Problem(404, "Unknown alarm", str(error), "unknown_alarm") from None
        result = {**service.alarm_dict(alarm), "acknowledged_by": alarm.acknowledged_by}
        session.commit()
        return result, event

    result, event = await run_in_threadpool(work)
    if event is not None:
        await platform.bus.publish(event)
    return result


@router.post(
    "/tracking/persons/{person_id}/find-now",
    status_code=201,
    summary="A guardian's emergency request to locate the person now (logged as an emergency provision)",
)
async def find_now(
    person_id: PersonId,
    body: FindNowIn,
    request: Request,
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*READERS)),
) -> dict[str, Any]:
    links = device_links(platform)

    def work() -> tuple[dict[str, Any], Any]:
        person = _person_for(session, request, principal, person_id, body.reason)
        result = emergency.find_now(session, principal, person, body.reason, links)
        answer = emergency.find_now_dict(result)
        session.commit()
        return answer, result.event

    answer, event = await run_in_threadpool(work)
    await platform.bus.publish(event)
    return answer


@router.get(
    "/stream/guardian",
    summary="Live alarms of the signed-in guardian's persons as Server-Sent Events (no coordinates)",
    response_class=StreamingResponse,
)
async def guardian_stream(
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("guardian")),
) -> StreamingResponse:
    def linked() -> list[int]:
        if principal.kind != "user":
            return []
        query = select(Guardianship.person_id).where(
            Guardianship.user_id == principal.id, Guardianship.receives_alerts.is_(True)
        )
        found = list(session.scalars(query))
        session.commit()  # the stream lasts for hours: it must hold no database lock
        return found

    persons = await run_in_threadpool(linked)
    return StreamingResponse(
        guardian_fanout(platform).listen(persons),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/tracking/persons/{person_id}/nearby",
    summary="Who can help where the person is now: nearest schools (guards), the police of the district",
)
def nearby(
    person_id: PersonId,
    reason: Reason,
    request: Request,
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*card.CARD_ROLES)),
) -> dict[str, Any]:
    from smartseoul.city.plugin import city_index

    index = city_index(platform)  # before this request's session takes SQLite's write lock
    person = _person_for(session, request, principal, person_id, reason)
    return card.help_nearby(session, principal, person, reason, index)
