"""Emergency bells: the registry, presses, heartbeats and tamper alarms, and the intercom session.

A press becomes an incident through the same intake as every other alarm (the bell's linked cameras
come with it) and a ``safety.bell.pressed.v1`` event; the cctv domain answers the incident with the
cameras it turned. A bell whose heartbeat stops is marked faulty by the periodic check and opens a
low-priority fault incident; the next heartbeat clears the fault.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.geo import valid_coordinates
from smartseoul.core.settings import Settings
from smartseoul.safety.incidents import service
from smartseoul.safety.incidents.events import BellPressed
from smartseoul.safety.incidents.models import INTERCOM_STATES, Bell, IntercomSession

BELL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class UnknownBell(LookupError):
    """No active bell with that id."""


def validate_bell_id(bell_id: str) -> str:
    if not BELL_ID.match(bell_id):
        raise InvalidInput(f"bell id {bell_id!r}: 1-64 letters, digits, '.', '_' or '-'")
    return bell_id


def add_bell(
    session: Session,
    bell_id: str,
    lat: float,
    lon: float,
    *,
    actor: str,
    district_code: str | None = None,
    name: str = "",
    camera_ids: list[int] | None = None,
    has_speaker: bool = True,
    has_intercom: bool = True,
) -> Bell:
    """Register a bell; its district is found from the point when not given."""
    validate_bell_id(bell_id)
    if not valid_coordinates(lat, lon):
        raise InvalidInput(f"lat/lon: ({lat}, {lon}) is not a valid position")
    if session.get(Bell, bell_id) is not None:
        raise InvalidInput(f"bell {bell_id!r} exists already")
    found = service.city_index(session).district_at(lat, lon)
    if district_code is not None and found is not None and district_code != found:
        raise InvalidInput(f"district: the point lies in {found}, not {district_code}")
    bell = Bell(
        id=bell_id,
        name=name or bell_id,
        lat=lat,
        lon=lon,
        district_code=district_code or found,
        camera_ids=list(camera_ids or []),
        has_speaker=has_speaker,
        has_intercom=has_intercom,
        created_at=utcnow(),
    )
    session.add(bell)
    session.flush()
    audit.record(session, actor=actor, action="bell.add", target=f"bell:{bell_id}")
    return bell


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_http_key(session: Session, bell: Bell, actor: str) -> str:
    """A key for a bell that posts over HTTP (shown once; only its hash is kept)."""
    key = f"bell_{bell.id}_{secrets.token_urlsafe(24)}"
    bell.http_key_hash = _digest(key)
    audit.record(session, actor=actor, action="bell.key", target=f"bell:{bell.id}")
    return key


def check_http_key(bell: Bell | None, presented: str) -> bool:
    if bell is None or not bell.http_key_hash or not presented:
        return False
    return hmac.compare_digest(bell.http_key_hash, _digest(presented))


def active_bell(session: Session, bell_id: str) -> Bell:
    bell = session.get(Bell, bell_id)
    if bell is None or not bell.active:
        raise UnknownBell(bell_id)
    return bell


def press(session: Session, settings: Settings, bell_id: str, at: datetime | None = None) -> list[Event]:
    """A press: an incident (or a join to the one already open there) and the bell event."""
    bell = active_bell(session, bell_id)
    at = at or utcnow()
    bell.last_pressed_at = at
    bell.last_heartbeat_at = at  # a bell that talks is alive
    result = service.intake(
        session,
        settings,
        service.Intake(
            source="bell",
            kind="bell_press",
            priority=1,
            title_ko=f"비상벨 {bell.name}",
            title_en=f"Emergency bell {bell.name}",
            ref=f"bell:{bell.id}:{at.isoformat()}",
            subject=f"bell:{bell.id}",
            lat=bell.lat,
            lon=bell.lon,
            district_code=bell.district_code,
            at=at,
            bell_id=bell.id,
            camera_ids=tuple(bell.camera_ids),
        ),
    )
    pressed = BellPressed(
        bell_id=bell.id,
        lat=bell.lat,
        lon=bell.lon,
        district_code=bell.district_code,
        pressed_at=at,
        incident_id=result.incident.id,
        camera_ids=list(bell.camera_ids),
    )
    return [pressed, *result.events]


def heartbeat(session: Session, bell_id: str, at: datetime | None = None) -> list[Event]:
    """The bell is alive; a bell marked faulty for silence is healthy again."""
    bell = active_bell(session, bell_id)
    bell.last_heartbeat_at = at or utcnow()
    if bell.status == "fault":
        bell.status, bell.fault_reason = "ok", ""
    return []


def tamper(
    session: Session, settings: Settings, bell_id: str, detail: str = "", at: datetime | None = None
) -> list[Event]:
    """Someone opened or hit the bell's housing: an urgent incident about that bell."""
    bell = active_bell(session, bell_id)
    at = at or utcnow()
    bell.status, bell.fault_reason = "tamper", detail[:256] or "tamper switch"
    bell.last_heartbeat_at = at
    result = service.intake(
        session, settings, _fault_intake(bell, "bell_tamper", 2, at, detail or "tamper switch")
    )
    return result.events


def _fault_intake(bell: Bell, kind: str, priority: int, at: datetime, detail: str) -> service.Intake:
    words = {
        "bell_tamper": ("비상벨 훼손 감지", "bell tampered with"),
        "bell_fault": ("비상벨 고장", "bell fault"),
    }
    ko, en = words[kind]
    return service.Intake(
        source="bell",
        kind=kind,
        priority=priority,
        family="fault",
        title_ko=f"{ko}: {bell.name}",
        title_en=f"{en}: {bell.name} ({detail})",
        ref=f"bell:{bell.id}:{kind}:{at.isoformat()}",
        subject=f"bell:{bell.id}",
        lat=bell.lat,
        lon=bell.lon,
        district_code=bell.district_code,
        at=at,
        bell_id=bell.id,
    )


def check_heartbeats(session: Session, settings: Settings, now: datetime | None = None) -> list[Event]:
    """Mark every bell silent for longer than the heartbeat timeout as faulty, once."""
    now = now or utcnow()
    limit = now - timedelta(seconds=settings.incidents_bell_heartbeat_s)
    silent = session.scalars(
        select(Bell).where(
            Bell.active.is_(True),
            Bell.status == "ok",
            or_(Bell.last_heartbeat_at < limit, Bell.last_heartbeat_at.is_(None) & (Bell.created_at < limit)),
        )
    ).all()
    events: list[Event] = []
    for bell in silent:
        bell.status, bell.fault_reason = "fault", "missing heartbeat"
        result = service.intake(
            session, settings, _fault_intake(bell, "bell_fault", 4, now, "missing heartbeat")
        )
        events += result.events
    return events


def bell_dict(bell: Bell) -> dict[str, Any]:
    return {
        "id": bell.id,
        "name": bell.name,
        "lat": bell.lat,
        "lon": bell.lon,
        "district_code": bell.district_code,
        "camera_ids": bell.camera_ids,
        "has_speaker": bell.has_speaker,
        "has_intercom": bell.has_intercom,
        "status": bell.status,
        "fault_reason": bell.fault_reason,
        "last_heartbeat_at": bell.last_heartbeat_at,
        "last_pressed_at": bell.last_pressed_at,
        "accepts_http": bell.http_key_hash is not None,
    }


def list_bells(session: Session, district_code: str | None = None) -> list[Bell]:
    query = select(Bell).where(Bell.active.is_(True)).order_by(Bell.id)
    if district_code:
        query = query.where(Bell.district_code == district_code)
    return list(session.scalars(query))


# ---------------------------------------------------------------- intercom

# action -> (states it may come from, state it leads to)
INTERCOM_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "ring": (("requested",), "ringing"),
    "connect": (("ringing",), "connected"),
    "end": (("requested", "ringing", "connected"), "ended"),
}


class IntercomError(Exception):
    """An intercom move the session's state does not allow (or a bell without an intercom)."""


def request_intercom(
    session: Session, bell_id: str, actor: str, incident_id: int | None = None
) -> IntercomSession:
    """An operator asks to talk through the bell; one live session per bell."""
    bell = active_bell(session, bell_id)
    if not bell.has_intercom:
        raise IntercomError(f"bell {bell_id} has no intercom")
    live = session.scalar(
        select(IntercomSession).where(IntercomSession.bell_id == bell_id, IntercomSession.state != "ended")
    )
    if live is not None:
        raise IntercomError(f"bell {bell_id} is already in intercom session {live.id} ({live.state})")
    talk = IntercomSession(bell_id=bell_id, incident_id=incident_id, state="requested", requested_by=actor)
    session.add(talk)
    session.flush()
    if incident_id is not None:
        service.add_timeline(
            session, incident_id, "intercom", actor, f"intercom {talk.id} requested", session_id=talk.id
        )
    return talk


def move_intercom(
    session: Session, talk: IntercomSession, action: str, actor: str, reason: str = ""
) -> IntercomSession:
    """ring (the bell rings its speaker), connect (someone answered), end (either side hung up)."""
    if action not in INTERCOM_MOVES:
        raise InvalidInput(f"action must be one of {', '.join(INTERCOM_MOVES)}, not {action!r}")
    sources, target = INTERCOM_MOVES[action]
    if talk.state not in sources:
        raise IntercomError(f"intercom session {talk.id} is {talk.state}; '{action}' is not possible")
    assert target in INTERCOM_STATES
    talk.state = target
    setattr(talk, f"{target}_at", utcnow())
    if target == "ended":
        talk.end_reason = (reason or f"ended by {actor}")[:64]
    if talk.incident_id is not None:
        service.add_timeline(
            session, talk.incident_id, "intercom", actor, f"intercom {talk.id} {target}", session_id=talk.id
        )
    return talk


def intercom_dict(talk: IntercomSession) -> dict[str, Any]:
    return {
        "id": talk.id,
        "bell_id": talk.bell_id,
        "incident_id": talk.incident_id,
        "state": talk.state,
        "requested_by": talk.requested_by,
        "requested_at": talk.requested_at,
        "ringing_at": talk.ringing_at,
        "connected_at": talk.connected_at,
        "ended_at": talk.ended_at,
        "end_reason": talk.end_reason,
    }
