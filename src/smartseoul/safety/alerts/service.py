"""The alerts service: issue, approve, update and cancel public alerts, and find the current ones.

Each function changes the database in the caller's transaction, writes the audit ledger, and
returns the events to publish *after* the commit (an event about a rolled-back alert would be a
false alarm on every phone). Every CAP message is built and validated before it is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.city.service import CityIndex
from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.settings import Settings
from smartseoul.safety.alerts import cap
from smartseoul.safety.alerts.areas import (
    AlertArea,
    DistrictName,
    FieldError,
    area_from_json,
    cap_areas,
    city_fraction,
    parse_area,
)
from smartseoul.safety.alerts.events import (
    AlertAwaitingApproval,
    AlertCancelled,
    AlertIssued,
    AlertUpdated,
    _AlertEvent,
)
from smartseoul.safety.alerts.models import Alert, AlertMessage

ISSUER_ROLES = ("operator", "admin")
TEXT_LIMITS = {"event": 200, "headline_ko": 160, "headline_en": 160}
LONG_TEXT_LIMIT = 4000
_CHOICES = {
    "category": cap.CATEGORIES,
    "severity": cap.SEVERITIES,
    "urgency": cap.URGENCIES,
    "certainty": cap.CERTAINTIES,
    "cap_status": ("Actual", "Exercise", "Test"),
}


class AlertNotFound(LookupError):
    """No alert with that id."""


class AlertConflict(ValueError):
    """The alert is not in a state that allows this (e.g. approving an active alert)."""


class ApprovalRefused(PermissionError):
    """The issuer tried to approve their own city-wide alert."""


@dataclass(frozen=True)
class AlertDraft:
    """What an operator fills in; the same for the console, the API and the CLI."""

    event: str
    severity: str
    urgency: str
    certainty: str
    headline_ko: str
    headline_en: str
    area: dict[str, Any]
    category: str = "Safety"
    description_ko: str = ""
    description_en: str = ""
    instruction_ko: str = ""
    instruction_en: str = ""
    response_type: str | None = None
    expires_minutes: int | None = None
    cap_status: str = "Actual"


@dataclass
class Outcome:
    """The alert after the change, and the events to publish once the transaction committed."""

    alert: Alert
    events: list[Event] = field(default_factory=list)
    cap_xml: bytes | None = None


# ---------------------------------------------------------------- the city, cached


_INDEX: list[CityIndex] = []
_NAMES: dict[str, DistrictName] = {}


def city_index(session: Session) -> CityIndex:
    """The district polygons in memory (reference data, loaded once per process)."""
    if not _INDEX:
        _INDEX.append(CityIndex.from_session(session))
    return _INDEX[0]


def district_names(session: Session) -> dict[str, DistrictName]:
    if not _NAMES:
        for row in city.list_districts(session):
            _NAMES[row["code"]] = DistrictName(row["code"], row["name_ko"], row["name_en"])
    return _NAMES


def alert_area(session: Session, alert: Alert) -> AlertArea:
    return area_from_json(alert.area, city_index(session))


# ---------------------------------------------------------------- checks


def _check_draft(draft: AlertDraft, settings: Settings) -> AlertDraft:
    """Trimmed fields, or FieldError naming the first that is missing or not allowed."""
    for name in ("event", "headline_ko", "headline_en"):
        value = str(getattr(draft, name) or "").strip()
        if not value:
            raise FieldError(name, "required")
        if len(value) > TEXT_LIMITS[name]:
            raise FieldError(name, f"at most {TEXT_LIMITS[name]} characters")
        trimmed: dict[str, Any] = {name: value}
        draft = replace(draft, **trimmed)
    for name in ("description_ko", "description_en", "instruction_ko", "instruction_en"):
        if len(getattr(draft, name) or "") > LONG_TEXT_LIMIT:
            raise FieldError(name, f"at most {LONG_TEXT_LIMIT} characters")
    for name, choices in _CHOICES.items():
        if getattr(draft, name) not in choices:
            raise FieldError(name, f"choose one of {', '.join(choices)} (got {getattr(draft, name)!r})")
    if draft.response_type is not None and draft.response_type not in cap.RESPONSE_TYPES:
        raise FieldError("response_type", f"choose one of {', '.join(cap.RESPONSE_TYPES)}")
    minutes = draft.expires_minutes or settings.alerts_default_expiry_minutes
    if not 5 <= minutes <= 10080:
        raise FieldError("expires_minutes", "between 5 minutes and 7 days (10080)")
    return replace(draft, expires_minutes=minutes)


# ---------------------------------------------------------------- CAP messages


def _identifier() -> str:
    return f"KR-SEOUL-SMARTSEOUL-{uuid.uuid4().hex[:20]}"


def _infos(session: Session, alert: Alert, msg_type: str) -> list[cap.CapInfo]:
    area = alert_area(session, alert)
    names = district_names(session)
    infos = []
    for lang, language in (("ko", "ko-KR"), ("en", "en-US")):
        headline = getattr(alert, f"headline_{lang}")
        if msg_type == "Cancel":
            headline = f"[해제] {headline}" if lang == "ko" else f"[Cancelled] {headline}"
        infos.append(
            cap.CapInfo(
                language=language,
                category=alert.category,
                event=alert.event,
                response_type="AllClear" if msg_type == "Cancel" else alert.response_type,
                urgency=alert.urgency,
                severity=alert.severity,
                certainty=alert.certainty,
                expires=alert.expires_at,
                sender_name="서울특별시 스마트서울 안전센터" if lang == "ko" else "Seoul Smart Safety Centre",
                headline=headline,
                description=getattr(alert, f"description_{lang}"),
                instruction=getattr(alert, f"instruction_{lang}"),
                areas=cap_areas(area, city_index(session), names, lang),
            )
        )
    return infos


def _send(session: Session, alert: Alert, msg_type: str, *, by: str, settings: Settings) -> bytes:
    """Build, validate and store one CAP message about ``alert``."""
    earlier = list(
        session.scalars(
            select(AlertMessage).where(AlertMessage.alert_id == alert.id).order_by(AlertMessage.id)
        )
    )
    sent = utcnow().replace(microsecond=0)
    identifier = alert.identifier if msg_type == "Alert" else _identifier()
    references = [cap.reference(settings.alerts_sender, m.identifier, m.sent_at) for m in earlier]
    document = cap.cap_document(
        identifier=identifier,
        sender=settings.alerts_sender,
        sent=sent,
        msg_type=msg_type,
        status=alert.cap_status,
        infos=_infos(session, alert, msg_type),
        references=references,
    )
    session.add(
        AlertMessage(
            alert_id=alert.id,
            identifier=identifier,
            msg_type=msg_type,
            sent_at=sent,
            references=" ".join(references) or None,
            xml=document.decode(),
            sent_by=by,
        )
    )
    alert.sent_at = alert.sent_at or sent
    alert.updated_at = sent
    session.flush()
    return document


def _event(alert: Alert, kind: type[_AlertEvent], msg_type: str) -> _AlertEvent:
    return kind(
        alert_id=alert.id,
        identifier=alert.identifier,
        msg_type=msg_type,
        event=alert.event,
        severity=alert.severity,
        urgency=alert.urgency,
        certainty=alert.certainty,
        headline_ko=alert.headline_ko,
        headline_en=alert.headline_en,
        area=alert.area,
        expires=alert.expires_at,
        city_wide=alert.city_wide,
    )


# ---------------------------------------------------------------- lifecycle


def _get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return alert


def issue(
    session: Session, draft: AlertDraft, *, issuer: str, settings: Settings, client: str = ""
) -> Outcome:
    """Issue an alert; a city-wide one waits (state ``pending``) for another person's approval."""
    draft = _check_draft(draft, settings)
    index = city_index(session)
    area = parse_area(draft.area, index)
    city_wide = city_fraction(area, index) >= settings.alerts_city_wide_fraction
    now = utcnow()
    alert = Alert(
        identifier=_identifier(),
        state="pending" if city_wide else "active",
        cap_status=draft.cap_status,
        category=draft.category,
        event=draft.event,
        severity=draft.severity,
        urgency=draft.urgency,
        certainty=draft.certainty,
        response_type=draft.response_type,
        headline_ko=draft.headline_ko,
        headline_en=draft.headline_en,
        description_ko=draft.description_ko,
        description_en=draft.description_en,
        instruction_ko=draft.instruction_ko,
        instruction_en=draft.instruction_en,
        area=area.to_json(),
        district_codes=list(area.district_codes),
        city_wide=city_wide,
        issued_by=issuer,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(minutes=draft.expires_minutes or 0),
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        actor=issuer,
        action="alert.issue",
        target=f"alert:{alert.id}",
        client=client,
        details={"city_wide": city_wide, "districts": alert.district_codes, "severity": alert.severity},
    )
    if city_wide:
        return Outcome(alert, [_event(alert, AlertAwaitingApproval, "Alert")])
    document = _send(session, alert, "Alert", by=issuer, settings=settings)
    return Outcome(alert, [_event(alert, AlertIssued, "Alert")], document)


def approve(
    session: Session, alert_id: int, *, approver: str, settings: Settings, client: str = ""
) -> Outcome:
    """The second person's approval of a city-wide alert; the alert goes out now."""
    alert = _get(session, alert_id)
    if alert.state != "pending":
        raise AlertConflict(f"alert {alert_id} is {alert.state}, not waiting for approval")
    if approver == alert.issued_by:
        raise ApprovalRefused("the issuer cannot approve their own alert: another operator must")
    lifetime = alert.expires_at - alert.created_at
    alert.state, alert.approved_by = "active", approver
    alert.expires_at = utcnow() + lifetime
    audit.record(session, actor=approver, action="alert.approve", target=f"alert:{alert.id}", client=client)
    document = _send(session, alert, "Alert", by=approver, settings=settings)
    return Outcome(alert, [_event(alert, AlertIssued, "Alert")], document)


def reject(session: Session, alert_id: int, *, by: str, reason: str = "", client: str = "") -> Outcome:
    """Turn down (or withdraw) a city-wide alert waiting for approval; nothing was ever sent."""
    alert = _get(session, alert_id)
    if alert.state != "pending":
        raise AlertConflict(f"alert {alert_id} is {alert.state}, not waiting for approval")
    alert.state, alert.updated_at = "rejected", utcnow()
    audit.record(
        session, actor=by, action="alert.reject", target=f"alert:{alert.id}", reason=reason, client=client
    )
    return Outcome(alert)


UPDATABLE = (
    "event",
    "severity",
    "urgency",
    "certainty",
    "headline_ko",
    "headline_en",
    "description_ko",
    "description_en",
    "instruction_ko",
    "instruction_en",
    "response_type",
    "category",
)


def _draft_of(alert: Alert) -> AlertDraft:
    return AlertDraft(
        **{name: getattr(alert, name) for name in UPDATABLE},
        area=alert.area,
        expires_minutes=None,
        cap_status=alert.cap_status,
    )


def update(
    session: Session, alert_id: int, changes: dict[str, Any], *, by: str, settings: Settings, client: str = ""
) -> Outcome:
    """Change an active alert; the CAP Update references every earlier message of the alert."""
    alert = _get(session, alert_id)
    if alert.state != "active":
        raise AlertConflict(f"alert {alert_id} is {alert.state}; only an active alert can be updated")
    unknown = sorted(set(changes) - {*UPDATABLE, "area", "expires_minutes"})
    if unknown:
        raise FieldError(unknown[0], "cannot be changed by an update")
    current = _draft_of(alert)
    fields = {k: v for k, v in changes.items() if k != "area" and v is not None}
    draft = _check_draft(replace(current, **fields), settings)
    index = city_index(session)
    if changes.get("area") is not None:
        area = parse_area(changes["area"], index)
        if not alert.city_wide and city_fraction(area, index) >= settings.alerts_city_wide_fraction:
            raise FieldError("area", "widening to city-wide needs a new alert and a second person's approval")
        alert.area, alert.district_codes = area.to_json(), list(area.district_codes)
    for name in UPDATABLE:
        setattr(alert, name, getattr(draft, name))
    if changes.get("expires_minutes"):
        alert.expires_at = utcnow() + timedelta(minutes=draft.expires_minutes or 0)
    audit.record(
        session,
        actor=by,
        action="alert.update",
        target=f"alert:{alert.id}",
        client=client,
        details={"changed": sorted(k for k, v in changes.items() if v is not None)},
    )
    document = _send(session, alert, "Update", by=by, settings=settings)
    return Outcome(alert, [_event(alert, AlertUpdated, "Update")], document)


def cancel(
    session: Session, alert_id: int, *, by: str, settings: Settings, reason: str = "", client: str = ""
) -> Outcome:
    """Withdraw an alert: a CAP Cancel for an active one; a pending one is simply dropped."""
    alert = _get(session, alert_id)
    if alert.state == "pending":
        return reject(session, alert_id, by=by, reason=reason or "cancelled before approval", client=client)
    if alert.state != "active":
        raise AlertConflict(f"alert {alert_id} is already {alert.state}")
    alert.state = "cancelled"
    audit.record(
        session, actor=by, action="alert.cancel", target=f"alert:{alert.id}", reason=reason, client=client
    )
    document = _send(session, alert, "Cancel", by=by, settings=settings)
    return Outcome(alert, [_event(alert, AlertCancelled, "Cancel")], document)


# ---------------------------------------------------------------- reading


def get_alert(session: Session, alert_id: int) -> Alert:
    return _get(session, alert_id)


def current_alerts(session: Session, now: datetime | None = None) -> list[Alert]:
    """Active, unexpired alerts, newest first."""
    moment = now or utcnow()
    query = select(Alert).where(Alert.state == "active", Alert.expires_at > moment).order_by(Alert.id.desc())
    return list(session.scalars(query))


def pending_alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.state == "pending").order_by(Alert.id)))


def recent_alerts(session: Session, limit: int = 50) -> list[Alert]:
    return list(session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))


def alerts_at(
    session: Session, *, district: str | None = None, lat: float | None = None, lon: float | None = None
) -> list[Alert]:
    """Current alerts that concern a place: a district (touched by the area) or a point (inside it)."""
    found = []
    for alert in current_alerts(session):
        if lat is not None and lon is not None:
            if alert_area(session, alert).contains(lat, lon):
                found.append(alert)
        elif district is None or district in alert.district_codes:
            found.append(alert)
    return found


def latest_message(session: Session, alert_id: int) -> AlertMessage | None:
    query = select(AlertMessage).where(AlertMessage.alert_id == alert_id).order_by(AlertMessage.id.desc())
    return session.scalars(query.limit(1)).first()


def messages(session: Session, alert_id: int) -> list[AlertMessage]:
    query = select(AlertMessage).where(AlertMessage.alert_id == alert_id).order_by(AlertMessage.id)
    return list(session.scalars(query))


def alert_dict(alert: Alert) -> dict[str, Any]:
    """The API's view of an alert."""
    return {
        "id": alert.id,
        "identifier": alert.identifier,
        "state": alert.state,
        "status": alert.cap_status,
        "category": alert.category,
        "event": alert.event,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "certainty": alert.certainty,
        "response_type": alert.response_type,
        "headline_ko": alert.headline_ko,
        "headline_en": alert.headline_en,
        "description_ko": alert.description_ko,
        "description_en": alert.description_en,
        "instruction_ko": alert.instruction_ko,
        "instruction_en": alert.instruction_en,
        "area": alert.area,
        "district_codes": alert.district_codes,
        "city_wide": alert.city_wide,
        "issued_by": alert.issued_by,
        "approved_by": alert.approved_by,
        "created_at": alert.created_at.isoformat(),
        "sent_at": alert.sent_at.isoformat() if alert.sent_at else None,
        "expires_at": alert.expires_at.isoformat(),
        "expired": alert.expires_at <= utcnow(),
        "cap_url": f"/api/v1/alerts/{alert.id}.cap",
    }


def preview_cap(session: Session, draft: AlertDraft, *, settings: Settings) -> bytes:
    """The CAP document an alert would be, without storing anything (the console's preview)."""
    draft = _check_draft(draft, settings)
    area = parse_area(draft.area, city_index(session))
    now = utcnow()
    alert = Alert(
        id=0,
        identifier="KR-SEOUL-SMARTSEOUL-PREVIEW",
        cap_status=draft.cap_status,
        area=area.to_json(),
        district_codes=list(area.district_codes),
        expires_at=now + timedelta(minutes=draft.expires_minutes or 0),
        **{name: getattr(draft, name) for name in UPDATABLE},
    )
    return cap.cap_document(
        identifier=alert.identifier,
        sender=settings.alerts_sender,
        sent=now,
        status=alert.cap_status,
        infos=_infos(session, alert, "Alert"),
    )
