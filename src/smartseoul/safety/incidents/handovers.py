"""Hand-over of incidents to agencies: a stored outbox, delivered by signed webhook, never dropped.

A hand-over is a row first (in the same transaction as the decision to hand over), so a crash or an
agency that is down cannot lose it. The worker claims due rows with a lease (``next_attempt_at`` moved
ahead), posts them, and records every attempt; failures are retried with exponential backoff and the
last failure turns the row into a dead letter (status ``failed``) that the desk shows in red. A
delivered hand-over the agency does not acknowledge in time is sent again (re-alert).

Signature scheme (the Stripe way, so receivers can use any HMAC library): the body is JSON; the
request carries ``X-SmartSeoul-Timestamp: <unix seconds>`` and ``X-SmartSeoul-Signature:
v1=<hex HMAC-SHA256(agency secret, "<timestamp>.<raw body>")>``; receivers recompute it, compare in
constant time and refuse timestamps more than 5 minutes off (replay). ``X-SmartSeoul-Delivery`` is
``<hand-over id>-<attempt>`` and ``Idempotency-Key`` is the hand-over id: a retry of a request the
agency did receive must not create a second case there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.auth import InvalidInput
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.geo import from_geojson, haversine_m, point
from smartseoul.core.settings import Settings
from smartseoul.safety.incidents.cap import handover_cap
from smartseoul.safety.incidents.events import HandoverChanged
from smartseoul.safety.incidents.models import (
    AGENCY_KINDS,
    Agency,
    DeliveryAttempt,
    Handover,
    Incident,
    TimelineEntry,
)

log = logging.getLogger("smartseoul.incidents.handovers")
SIGNATURE_HEADER = "X-SmartSeoul-Signature"
TIMESTAMP_HEADER = "X-SmartSeoul-Timestamp"
TOLERANCE_S = 300
LEASE_S = 60


# ---------------------------------------------------------------- signing


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def signed_headers(
    secret: str, body: bytes, handover_id: int, attempt: int, now: float | None = None
) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "X-SmartSeoul-Delivery": f"{handover_id}-{attempt}",
        "Idempotency-Key": f"handover-{handover_id}",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> bool:
    """What a receiving agency does: check the signature and that the timestamp is fresh."""
    lowered = {key.lower(): value for key, value in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    if not stamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(stamp)) > TOLERANCE_S:
        return False
    expected = signature(secret, int(stamp), body)
    return hmac.compare_digest(expected, lowered.get(SIGNATURE_HEADER.lower(), ""))


# ---------------------------------------------------------------- agencies


def _check_url(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook_url must be an http(s) URL, not {url!r}")
    return url


def add_agency(
    session: Session,
    *,
    code: str,
    kind: str,
    name_ko: str,
    name_en: str,
    district_codes: list[str],
    actor: str,
    area: dict[str, Any] | None = None,
    lat: float | None = None,
    lon: float | None = None,
    webhook_url: str = "",
    secret: str | None = None,
) -> Agency:
    """Register an agency; its webhook secret is generated unless given."""
    from smartseoul.core import audit

    if kind not in AGENCY_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(AGENCY_KINDS)}, not {kind!r}")
    if not code or len(code) > 64 or not code.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("code: 1-64 letters, digits, '-' or '_'")
    if session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise InvalidInput(f"code: agency {code!r} exists already")
    if area is not None:
        try:
            from_geojson(area)
        except Exception as error:  # shapely raises several types for bad GeoJSON
            raise InvalidInput(f"area: not a GeoJSON geometry ({error})") from None
    agency = Agency(
        code=code,
        kind=kind,
        name_ko=name_ko or code,
        name_en=name_en or code,
        district_codes=list(district_codes),
        area=area,
        lat=lat,
        lon=lon,
        webhook_url=_check_url(webhook_url),
        secret=secret or secrets.token_urlsafe(32),
    )
    session.add(agency)
    session.flush()
    audit.record(session, actor=actor, action="agency.add", target=f"agency:{code}", details={"kind": kind})
    return agency


def issue_agency_key(session: Session, agency: Agency, actor: str) -> str:
    """An API key (role dispatcher) that speaks for this agency only: it lists and acknowledges the
    agency's own hand-overs (see ``router.agency_scope``)."""
    from smartseoul.core import auth

    return auth.create_api_key(session, name=f"agency:{agency.code}", role="dispatcher", actor=actor)


def covers(agency: Agency, district_code: str | None, lat: float | None, lon: float | None) -> bool:
    if district_code and district_code in agency.district_codes:
        return True
    if agency.area and lat is not None and lon is not None:
        return bool(from_geojson(agency.area).contains(point(lat, lon)))
    return False


def agency_for(session: Session, kind: str, incident: Incident) -> Agency | None:
    """The agency of ``kind`` whose area holds the incident (the nearest if several), else the
    nearest of that kind at all, so an escalation always finds someone."""
    agencies = session.scalars(select(Agency).where(Agency.kind == kind, Agency.active.is_(True))).all()
    if not agencies:
        return None
    inside = [a for a in agencies if covers(a, incident.district_code, incident.lat, incident.lon)]
    pool = inside or list(agencies)

    def distance(agency: Agency) -> float:
        if None in (agency.lat, agency.lon, incident.lat, incident.lon):
            return float("inf")
        return haversine_m(incident.lat or 0, incident.lon or 0, agency.lat or 0, agency.lon or 0)

    return min(pool, key=lambda a: (distance(a), a.id))


def agency_dict(agency: Agency) -> dict[str, Any]:
    return {
        "id": agency.id,
        "code": agency.code,
        "kind": agency.kind,
        "name_ko": agency.name_ko,
        "name_en": agency.name_en,
        "district_codes": agency.district_codes,
        "has_area": agency.area is not None,
        "lat": agency.lat,
        "lon": agency.lon,
        "webhook_url": agency.webhook_url,
        "active": agency.active,
    }


# ---------------------------------------------------------------- creating


def payload_for(incident: Incident, agency: Agency, handover_id: int, reason: str) -> dict[str, Any]:
    """The JSON an agency receives: the incident as it stands, in both languages."""
    return {
        "type": "smartseoul.incident.handover.v1",
        "handover_id": handover_id,
        "agency": agency.code,
        "reason": reason,
        "incident": {
            "id": incident.id,
            "source": incident.source,
            "kind": incident.kind,
            "priority": incident.priority,
            "status": incident.status,
            "title_ko": incident.title_ko,
            "title_en": incident.title_en,
            "lat": incident.lat,
            "lon": incident.lon,
            "district_code": incident.district_code,
            "opened_at": incident.opened_at.isoformat(),
            "alarm_count": incident.alarm_count,
            "camera_ids": incident.camera_ids,
        },
    }


def create_handover(
    session: Session,
    settings: Settings,
    incident: Incident,
    agency: Agency,
    actor: str,
    reason: str = "",
    now: datetime | None = None,
) -> tuple[Handover, list[Event]]:
    """Queue a hand-over (an outbox row). An agency without a webhook reads it on its console page."""
    now = now or utcnow()
    handover = Handover(
        incident_id=incident.id,
        agency_id=agency.id,
        status="pending",
        reason=reason[:256],
        created_by=actor,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(handover)
    session.flush()
    handover.payload = payload_for(incident, agency, handover.id, reason)
    handover.payload["cap"] = handover_cap(incident, agency, handover.id, now).decode()
    _note(session, incident.id, "handover", actor, f"hand-over to {agency.code} queued", handover.id)
    events: list[Event] = [_changed(handover, agency, "queued")]
    if not agency.webhook_url:
        events = _delivered(session, settings, handover, agency, now, "on the agency's console page")
    if incident.status in ("new", "acknowledged"):
        from smartseoul.safety.incidents import service

        events += service.transition(
            session, incident, "dispatched", actor, f"handed over to {agency.code}", now
        )
    return handover, events


def escalate_to_police(
    session: Session, settings: Settings, incident: Incident, now: datetime
) -> list[Event]:
    police = agency_for(session, "police", incident)
    if police is None:
        _note(session, incident.id, "escalated", "timer", "no police agency configured: hand-over impossible")
        return []
    _note(
        session, incident.id, "escalated", "timer", f"not acknowledged in time: handed over to {police.code}"
    )
    _, events = create_handover(
        session, settings, incident, police, "timer", "escalation: not acknowledged", now
    )
    return events


def _note(
    session: Session, incident_id: int, kind: str, actor: str, text: str, handover_id: int | None = None
) -> None:
    data = {"handover_id": handover_id} if handover_id is not None else {}
    session.add(TimelineEntry(incident_id=incident_id, kind=kind, actor=actor, text=text, data=data))


def _changed(handover: Handover, agency: Agency, status: str, detail: str = "") -> HandoverChanged:
    return HandoverChanged(
        handover_id=handover.id,
        incident_id=handover.incident_id,
        agency_code=agency.code,
        status=status,
        attempts=handover.attempts,
        detail=detail,
    )


def _delivered(
    session: Session, settings: Settings, handover: Handover, agency: Agency, now: datetime, how: str
) -> list[Event]:
    handover.status = "delivered"
    handover.delivered_at = now
    handover.next_attempt_at = None
    handover.ack_deadline = now + timedelta(seconds=settings.incidents_handover_ack_timeout_s)
    _note(
        session,
        handover.incident_id,
        "handover",
        "outbox",
        f"hand-over to {agency.code} delivered {how}",
        handover.id,
    )
    return [_changed(handover, agency, "delivered", how)]


# ---------------------------------------------------------------- delivering


@dataclass(frozen=True)
class Delivery:
    handover_id: int
    attempt: int
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    error: str
    duration_ms: float


def claim_due(session: Session, now: datetime | None = None, limit: int = 50) -> list[Delivery]:
    """Take the due hand-overs (a lease: another worker skips them until it runs out)."""
    now = now or utcnow()
    rows = session.execute(
        select(Handover, Agency)
        .join(Agency, Agency.id == Handover.agency_id)
        .where(Handover.status == "pending", Handover.next_attempt_at <= now)
        .order_by(Handover.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Handover)
    ).all()
    deliveries = []
    for handover, agency in rows:
        handover.next_attempt_at = now + timedelta(seconds=LEASE_S)
        body = json.dumps(handover.payload, ensure_ascii=False, separators=(",", ":")).encode()
        deliveries.append(
            Delivery(handover.id, handover.attempts + 1, agency.webhook_url, agency.secret, body)
        )
    return deliveries


async def post(client: httpx.AsyncClient, delivery: Delivery, wait_s: float) -> AttemptResult:
    """One signed POST; any 2xx is a delivery, anything else (or no answer) a failure."""
    started = time.perf_counter()
    headers = signed_headers(delivery.secret, delivery.body, delivery.handover_id, delivery.attempt)
    try:
        response = await client.post(delivery.url, content=delivery.body, headers=headers, timeout=wait_s)
    except httpx.HTTPError as error:
        elapsed = (time.perf_counter() - started) * 1000
        return AttemptResult(False, None, f"{type(error).__name__}: {error}"[:500], elapsed)
    elapsed = (time.perf_counter() - started) * 1000
    if 200 <= response.status_code < 300:
        return AttemptResult(True, response.status_code, "", elapsed)
    return AttemptResult(
        False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}", elapsed
    )


def backoff_s(settings: Settings, attempt: int) -> float:
    """Wait before attempt ``attempt + 1``: the first delay, doubled after each failure."""
    return float(settings.incidents_handover_backoff_s * 2 ** (attempt - 1))


def record_attempt(
    session: Session,
    settings: Settings,
    delivery: Delivery,
    result: AttemptResult,
    now: datetime | None = None,
) -> list[Event]:
    """Store the attempt and move the hand-over on: delivered, retried later, or a dead letter."""
    now = now or utcnow()
    handover = session.get(Handover, delivery.handover_id, with_for_update=True)
    if handover is None or handover.status != "pending":
        return []
    agency = session.get(Agency, handover.agency_id)
    assert agency is not None
    number = len(
        session.scalars(select(DeliveryAttempt.id).where(DeliveryAttempt.handover_id == handover.id)).all()
    )
    session.add(
        DeliveryAttempt(
            handover_id=handover.id,
            number=number + 1,
            at=now,
            ok=result.ok,
            status_code=result.status_code,
            error=result.error,
            duration_ms=round(result.duration_ms, 1),
        )
    )
    handover.attempts += 1
    if result.ok:
        handover.last_error = ""
        return _delivered(
            session, settings, handover, agency, now, f"by webhook (attempt {handover.attempts})"
        )
    handover.last_error = result.error
    if handover.attempts >= settings.incidents_handover_max_attempts:
        handover.status, handover.next_attempt_at = "failed", None
        log.error("hand-over %s to %s failed for good: %s", handover.id, agency.code, result.error)
        _note(
            session,
            handover.incident_id,
            "handover_failed",
            "outbox",
            f"hand-over to {agency.code} FAILED after {handover.attempts} attempts: {result.error}",
            handover.id,
        )
        return [_changed(handover, agency, "failed", result.error)]
    delay = backoff_s(settings, handover.attempts)
    handover.next_attempt_at = now + timedelta(seconds=delay)
    _note(
        session,
        handover.incident_id,
        "handover_attempt",
        "outbox",
        f"attempt {handover.attempts} to {agency.code} failed ({result.error}); next in {delay:.1f} s",
        handover.id,
    )
    return [_changed(handover, agency, "retrying", result.error)]


def retry_now(session: Session, handover: Handover, actor: str) -> None:
    """An operator sends a dead-lettered (or waiting) hand-over again, with a fresh set of attempts."""
    if handover.status not in ("failed", "pending"):
        raise InvalidInput(
            f"hand-over {handover.id} is {handover.status}; only failed or pending ones are retried"
        )
    handover.status, handover.attempts, handover.next_attempt_at = "pending", 0, utcnow()
    _note(session, handover.incident_id, "handover", actor, "hand-over sent again by hand", handover.id)


# ---------------------------------------------------------------- acknowledging, re-alerting


def acknowledge(session: Session, handover: Handover, actor: str, now: datetime | None = None) -> list[Event]:
    """The agency took the case; acknowledging twice changes nothing."""
    if handover.status == "acknowledged":
        return []
    now = now or utcnow()
    agency = session.get(Agency, handover.agency_id)
    assert agency is not None
    handover.status, handover.acknowledged_at, handover.acknowledged_by = "acknowledged", now, actor
    handover.next_attempt_at = handover.ack_deadline = None
    _note(
        session,
        handover.incident_id,
        "handover_ack",
        actor,
        f"{agency.code} acknowledged the hand-over",
        handover.id,
    )
    return [_changed(handover, agency, "acknowledged")]


def check_realerts(session: Session, settings: Settings, now: datetime | None = None) -> list[Event]:
    """Send again each delivered hand-over whose agency has not acknowledged it in time."""
    now = now or utcnow()
    rows = session.scalars(
        select(Handover)
        .where(Handover.status == "delivered", Handover.ack_deadline <= now)
        .limit(100)
        .with_for_update(skip_locked=True)
    ).all()
    events: list[Event] = []
    for handover in rows:
        agency = session.get(Agency, handover.agency_id)
        assert agency is not None
        if handover.realerts >= settings.incidents_handover_max_realerts:
            handover.ack_deadline = None
            _note(
                session,
                handover.incident_id,
                "handover",
                "timer",
                f"{agency.code} never acknowledged",
                handover.id,
            )
            events.append(_changed(handover, agency, "unacknowledged"))
            continue
        handover.realerts += 1
        handover.ack_deadline = None
        if agency.webhook_url:
            handover.status, handover.attempts, handover.next_attempt_at = "pending", 0, now
        else:
            handover.ack_deadline = now + timedelta(seconds=settings.incidents_handover_ack_timeout_s)
        _note(
            session,
            handover.incident_id,
            "handover_realert",
            "timer",
            f"{agency.code} has not acknowledged: re-alert {handover.realerts}",
            handover.id,
        )
        events.append(_changed(handover, agency, "realert"))
    return events


# ---------------------------------------------------------------- reading


def handover_dict(session: Session, handover: Handover, with_attempts: bool = True) -> dict[str, Any]:
    agency = session.get(Agency, handover.agency_id)
    found: dict[str, Any] = {
        "id": handover.id,
        "incident_id": handover.incident_id,
        "agency": agency.code if agency else None,
        "agency_name_ko": agency.name_ko if agency else None,
        "agency_name_en": agency.name_en if agency else None,
        "status": handover.status,
        "reason": handover.reason,
        "created_by": handover.created_by,
        "created_at": handover.created_at,
        "attempts": handover.attempts,
        "next_attempt_at": handover.next_attempt_at,
        "delivered_at": handover.delivered_at,
        "acknowledged_at": handover.acknowledged_at,
        "acknowledged_by": handover.acknowledged_by,
        "realerts": handover.realerts,
        "last_error": handover.last_error,
    }
    if with_attempts:
        found["delivery_attempts"] = [
            {
                "number": a.number,
                "at": a.at,
                "ok": a.ok,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.handover_id == handover.id)
                .order_by(DeliveryAttempt.id)
            )
        ]
    return found


def list_handovers(session: Session, status: str | None = None, limit: int = 200) -> list[Handover]:
    query = select(Handover).order_by(Handover.id.desc()).limit(limit)
    if status == "open":
        query = query.where(Handover.status.in_(("pending", "delivered", "failed")))
    elif status:
        query = query.where(Handover.status == status)
    return list(session.scalars(query))


async def gather_posts(
    client: httpx.AsyncClient, deliveries: list[Delivery], wait_s: float
) -> list[AttemptResult]:
    return list(await asyncio.gather(*(post(client, d, wait_s) for d in deliveries)))
