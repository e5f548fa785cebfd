"""HTTP API of location safety: the OwnTracks endpoint and reads of a person's location.

A person who is not the asker's to see answers 404 (not 403), so the API does not confirm who
is protected; the attempt still goes to the audit ledger.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.tracking import service
from smartseoul.tracking.models import Device, LocationProvision, Position, ProtectedPerson
from smartseoul.tracking.plugin import ingestor
from smartseoul.tracking.protocols import FrameError
from smartseoul.web.deps import client_address, db_session, get_platform, record_denial, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["tracking"])
READERS = ("admin", "operator", "dispatcher", "guardian")
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


def _position_dict(row: Position) -> dict[str, Any]:
    return {
        "time": row.device_time.isoformat(),
        "lat": row.lat,
        "lon": row.lon,
        "valid": row.valid,
        "source": row.source,
        "accuracy_m": row.accuracy_m,
        "speed_kmh": row.speed_kmh,
        "battery_pct": row.battery_pct,
    }


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
        "latest": _position_dict(rows[0]) if rows else None,
        "last_gps_fix": _position_dict(last_valid) if last_valid else None,
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
        "points": [_position_dict(r) for r in rows],
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
