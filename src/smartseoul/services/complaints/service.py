"""The complaints service API: catalogue, filing (validation and routing), queries, status updates,
SLA, Open311 client keys. Plain functions on a session; the caller commits.

Routing: the point is located in a district by point in polygon (``CityIndex``); each duty the
category lists goes to that district's department of the duty, or to a city-wide one. A point in
no district is refused (the city cannot act outside its borders).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.city.service import CityIndex
from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.services.complaints.catalogue import CATEGORIES, DEPARTMENT_KINDS, department_code
from smartseoul.services.complaints.models import (
    WORK_STATES,
    ClientKey,
    Delivery,
    Department,
    RequestUpdate,
    Service,
    ServiceRequest,
)

KEY_PREFIX = "o311"
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
CLOSED_STATES = ("resolved", "rejected")
TEXT_LIMITS = {
    "description": 4000,
    "address_string": 300,
    "address_id": 64,
    "zipcode": 16,
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "phone": 40,
    "device_id": 100,
    "account_id": 100,
    "media_url": 1000,
}


class ComplaintError(Exception):
    """A refusal with an HTTP status, a code for machines and the field at fault."""

    def __init__(self, status: int, description: str, field: str = "") -> None:
        super().__init__(description)
        self.status, self.description, self.field = status, description, field


# ---------------------------------------------------------------- catalogue


def ensure_catalogue(session: Session) -> int:
    """Insert the categories and the departments of every district that are missing; how many rows.

    Idempotent and cheap when all is there, so it runs at every start."""
    if _catalogue_complete(session):
        return 0  # the usual start: one cheap check, not the districts' shapes
    added = 0
    known_services = set(session.scalars(select(Service.code)))
    for category in CATEGORIES:
        if category.code not in known_services:
            session.add(_service_row(category))
            added += 1
    known_departments = set(session.scalars(select(Department.code)))
    districts = city.list_districts(session)
    for kind, (name_ko, name_en, city_wide) in DEPARTMENT_KINDS.items():
        owners: list[tuple[str | None, str, str]] = (
            [(None, "", "")]
            if city_wide
            else [(str(d["code"]), str(d["name_ko"]), str(d["name_en"])) for d in districts]
        )
        for code, district_ko, district_en in owners:
            if department_code(kind, code) in known_departments:
                continue
            session.add(
                Department(
                    code=department_code(kind, code),
                    kind=kind,
                    district_code=code,
                    name_ko=f"{district_ko} {name_ko}".strip(),
                    name_en=f"{district_en} {name_en}".strip(),
                    webhook_url="",
                    secret=secrets.token_urlsafe(32),
                    active=True,
                )
            )
            added += 1
    session.flush()
    return added


def _catalogue_complete(session: Session) -> bool:
    """Every category, and one department per district duty and per city-wide duty, already there."""
    services = session.scalar(
        select(func.count()).select_from(Service).where(Service.code.in_([c.code for c in CATEGORIES]))
    )
    departments = session.scalar(select(func.count()).select_from(Department)) or 0
    city_wide = sum(1 for _, _, wide in DEPARTMENT_KINDS.values() if wide)
    per_district = len(DEPARTMENT_KINDS) - city_wide
    districts = city.counts(session)["districts"]
    return services == len(CATEGORIES) and departments >= city_wide + per_district * districts


def _service_row(category: Any) -> Service:
    attributes = [dict(a, order=n, variable=True) for n, a in enumerate(category.attributes, start=1)]
    return Service(
        code=category.code,
        name_ko=category.name_ko,
        name_en=category.name_en,
        description_ko=category.description_ko,
        description_en=category.description_en,
        group=category.group,
        keywords=list(category.keywords),
        department_kinds=list(category.kinds),
        sla_hours=category.sla_hours,
        attributes=attributes,
        active=True,
    )


def list_services(session: Session) -> list[Service]:
    return list(
        session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.group, Service.code))
    )


def get_service(session: Session, code: str) -> Service:
    found = session.get(Service, code) if "\x00" not in code and len(code) <= 32 else None
    if found is None or not found.active:
        raise ComplaintError(404, f"service_code {code!r} not found", "service_code")
    return found


# ---------------------------------------------------------------- filing


@dataclass
class Draft:
    """A complaint as filed, before validation (strings as they came from a form)."""

    service_code: str
    lat: str | float | None
    lon: str | float | None
    description: str = ""
    address_string: str = ""
    address_id: str = ""
    zipcode: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    user_id: int | None = None
    client_key_id: int | None = None


def _coordinate(value: str | float | None, name: str, low: float, high: float) -> float:
    if value is None or value == "":
        raise ComplaintError(400, f"{name} is required (a location: lat and long)", name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ComplaintError(400, f"{name} must be a number, not {value!r}", name) from None
    if not low <= number <= high or number != number:
        raise ComplaintError(400, f"{name} must lie between {low} and {high}", name)
    return number


def _check_texts(draft: Draft) -> None:
    for name, limit in TEXT_LIMITS.items():
        value = getattr(draft, name)
        if len(value) > limit:
            raise ComplaintError(400, f"{name} is longer than {limit} characters", name)
        if "\x00" in value:  # PostgreSQL refuses NUL in text; SQLite would keep it: refuse on both
            raise ComplaintError(400, f"{name} contains a NUL character", name)
    for code, values in draft.attributes.items():
        if any("\x00" in v for v in values):
            raise ComplaintError(400, f"attribute[{code}] contains a NUL character", f"attribute[{code}]")
    if draft.media_url and not draft.media_url.startswith(("http://", "https://", "/complaints/media/")):
        raise ComplaintError(400, "media_url must be an http(s) URL", "media_url")
    if draft.email and ("@" not in draft.email or " " in draft.email):
        raise ComplaintError(400, "email is not an e-mail address", "email")


def check_attributes(service: Service, given: dict[str, list[str]]) -> dict[str, Any]:
    """The attribute values, checked against the service definition (required, list keys)."""
    definitions = {a["code"]: a for a in service.attributes if a.get("variable", True)}
    for code in given:
        if code not in definitions:
            raise ComplaintError(
                400, f"attribute[{code}] is not an attribute of {service.code}", f"attribute[{code}]"
            )
    values: dict[str, Any] = {}
    for code, definition in definitions.items():
        raw = [v for v in given.get(code, []) if v != ""]
        if not raw:
            if definition.get("required"):
                raise ComplaintError(400, f"attribute[{code}] is required", f"attribute[{code}]")
            continue
        keys = {str(v["key"]) for v in definition.get("values", [])}
        if definition["datatype"] in ("singlevaluelist", "multivaluelist"):
            wrong = [v for v in raw if v not in keys]
            if wrong:
                raise ComplaintError(
                    400, f"attribute[{code}] must be one of {', '.join(sorted(keys))}", f"attribute[{code}]"
                )
        if len(raw) > 1 and definition["datatype"] != "multivaluelist":
            raise ComplaintError(400, f"attribute[{code}] takes one value", f"attribute[{code}]")
        if any(len(v) > 200 for v in raw):
            raise ComplaintError(400, f"attribute[{code}] is too long", f"attribute[{code}]")
        values[code] = raw if definition["datatype"] == "multivaluelist" else raw[0]
    return values


def route(session: Session, service: Service, district_code: str) -> list[Department]:
    """The receiving departments, owner first: the district's of each duty, else a city-wide one."""
    departments = []
    for kind in service.department_kinds:
        found = session.scalars(
            select(Department)
            .where(Department.kind == kind, Department.active.is_(True))
            .where((Department.district_code == district_code) | Department.district_code.is_(None))
            .order_by(Department.district_code.is_(None), Department.id)
        ).first()
        if found is None:
            raise ComplaintError(
                503, f"no department receives {service.code} in district {district_code}", "service_code"
            )
        departments.append(found)
    return departments


def file_request(
    session: Session, draft: Draft, *, index: CityIndex, now: datetime | None = None
) -> ServiceRequest:
    """Validate, locate, route and store a complaint with one delivery per receiving department."""
    now = now or utcnow()
    if not draft.service_code:
        raise ComplaintError(400, "service_code is required", "service_code")
    _check_texts(draft)
    service = get_service(session, draft.service_code)
    lat = _coordinate(draft.lat, "lat", -90, 90)
    lon = _coordinate(draft.lon, "long", -180, 180)
    attributes = check_attributes(service, draft.attributes)
    district = index.district_at(lat, lon)
    if district is None:
        raise ComplaintError(
            400, "the location lies outside Seoul: the city can only act within its districts", "lat"
        )
    departments = route(session, service, district)
    request = ServiceRequest(
        token=secrets.token_urlsafe(18),
        service_code=service.code,
        status="open",
        work_state="received",
        status_notes="",
        description=draft.description.strip(),
        lat=lat,
        lon=lon,
        address=draft.address_string.strip(),
        address_id=draft.address_id.strip(),
        zipcode=draft.zipcode.strip(),
        district_code=district,
        department_id=departments[0].id,
        media_url=draft.media_url,
        attributes=attributes,
        email=draft.email.strip(),
        first_name=draft.first_name.strip(),
        last_name=draft.last_name.strip(),
        phone=draft.phone.strip(),
        device_id=draft.device_id,
        account_id=draft.account_id,
        user_id=draft.user_id,
        client_key_id=draft.client_key_id,
        delivery_state="pending",
        requested_at=now,
        updated_at=now,
        expected_at=now + timedelta(hours=service.sla_hours),
    )
    session.add(request)
    session.flush()
    for department in departments:
        session.add(
            Delivery(
                request_id=request.id,
                department_id=department.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
        )
    return request


# ---------------------------------------------------------------- reading


def get_request(session: Session, request_id: int | str) -> ServiceRequest:
    try:
        number = int(request_id)
    except (TypeError, ValueError):
        raise ComplaintError(
            404, f"service_request_id {request_id!r} not found", "service_request_id"
        ) from None
    found = session.get(ServiceRequest, number) if 0 < number < 2**31 else None
    if found is None:
        raise ComplaintError(404, f"service_request_id {request_id!r} not found", "service_request_id")
    return found


def by_token(session: Session, token: str) -> ServiceRequest:
    usable = bool(token) and "\x00" not in token and len(token) <= 40
    found = (
        session.scalars(select(ServiceRequest).where(ServiceRequest.token == token)).first()
        if usable
        else None
    )
    if found is None:
        raise ComplaintError(404, "token not found", "token")
    return found


def parse_w3c(value: str, name: str) -> datetime:
    """A W3C datetime (``2010-01-01T00:00:00Z`` or with an offset) as aware UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ComplaintError(
            400, f"{name} must be a W3C datetime such as 2026-01-01T00:00:00Z", name
        ) from None
    if parsed.tzinfo is None:
        raise ComplaintError(400, f"{name} needs a time zone (Z or +09:00)", name)
    return parsed.astimezone(utcnow().tzinfo)


@dataclass
class Query:
    ids: list[int] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    district_code: str | None = None
    limit: int = MAX_RESULTS


def query_requests(session: Session, query: Query, now: datetime | None = None) -> list[ServiceRequest]:
    """Open311 GET requests: ids override every other filter; else the date window (90 days by
    default, never wider), service codes and statuses; newest first, at most 1000."""
    statement = select(ServiceRequest)
    if query.ids:
        statement = statement.where(ServiceRequest.id.in_(query.ids))
    else:
        end = query.end or (query.start + DEFAULT_WINDOW if query.start else (now or utcnow()))
        start = query.start or end - DEFAULT_WINDOW
        if start > end:
            raise ComplaintError(400, "start_date is after end_date", "start_date")
        if end - start > DEFAULT_WINDOW:
            raise ComplaintError(400, "start_date and end_date may not span more than 90 days", "end_date")
        statement = statement.where(ServiceRequest.requested_at >= start, ServiceRequest.requested_at <= end)
        if query.service_codes:
            statement = statement.where(ServiceRequest.service_code.in_(query.service_codes))
        if query.statuses:
            statement = statement.where(ServiceRequest.status.in_(query.statuses))
        if query.district_code:
            statement = statement.where(ServiceRequest.district_code == query.district_code)
    statement = statement.order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
    return list(session.scalars(statement.limit(min(query.limit, MAX_RESULTS))))


def departments_by_id(session: Session, ids: Sequence[int]) -> dict[int, Department]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(set(ids))))}


def is_overdue(request: ServiceRequest, now: datetime | None = None) -> bool:
    return request.status == "open" and request.expected_at < (now or utcnow())


def service_notice(request: ServiceRequest) -> str:
    """What Open311 calls service_notice: when to expect action, and whether delivery is pending."""
    if request.delivery_state == "sent":
        return ""
    if request.delivery_state == "failed":
        return "delivery to a department failed; staff have been alerted and will send it again"
    return "delivery pending"


def overdue(
    session: Session, district_code: str | None = None, now: datetime | None = None
) -> list[ServiceRequest]:
    """Open requests past their expected time, the longest overdue first."""
    statement = select(ServiceRequest).where(
        ServiceRequest.status == "open", ServiceRequest.expected_at < (now or utcnow())
    )
    if district_code:
        statement = statement.where(ServiceRequest.district_code == district_code)
    return list(session.scalars(statement.order_by(ServiceRequest.expected_at).limit(500)))


def queue(
    session: Session, district_code: str | None, status: str | None = "open", limit: int = 200
) -> list[ServiceRequest]:
    statement = select(ServiceRequest)
    if district_code:
        statement = statement.where(ServiceRequest.district_code == district_code)
    if status:
        statement = statement.where(ServiceRequest.status == status)
    return list(session.scalars(statement.order_by(ServiceRequest.expected_at).limit(limit)))


def counts(session: Session, district_code: str | None = None) -> dict[str, int]:
    """Open, overdue, delivery failed and pending: the figures at the top of the staff page."""
    base = select(func.count(ServiceRequest.id))
    if district_code:
        base = base.where(ServiceRequest.district_code == district_code)
    now = utcnow()
    return {
        "open": session.scalar(base.where(ServiceRequest.status == "open")) or 0,
        "overdue": session.scalar(
            base.where(ServiceRequest.status == "open", ServiceRequest.expected_at < now)
        )
        or 0,
        "delivery_failed": session.scalar(base.where(ServiceRequest.delivery_state == "failed")) or 0,
        "delivery_pending": session.scalar(base.where(ServiceRequest.delivery_state == "pending")) or 0,
    }


def updates_of(session: Session, request_id: int) -> list[RequestUpdate]:
    return list(
        session.scalars(
            select(RequestUpdate).where(RequestUpdate.request_id == request_id).order_by(RequestUpdate.id)
        )
    )


def deliveries_of(session: Session, request_id: int) -> list[Delivery]:
    return list(
        session.scalars(select(Delivery).where(Delivery.request_id == request_id).order_by(Delivery.id))
    )


def contact_of(
    session: Session, request: ServiceRequest, *, actor: str, client: str, reason: str
) -> dict[str, str]:
    """The citizen's contact details, for staff; every read is in the audit ledger."""
    audit.record(
        session,
        actor=actor,
        action="complaints.contact.read",
        target=f"complaint:{request.id}",
        reason=reason,
        client=client,
    )
    return {
        "email": request.email,
        "first_name": request.first_name,
        "last_name": request.last_name,
        "phone": request.phone,
    }


# ---------------------------------------------------------------- updates


def update_status(
    session: Session,
    request: ServiceRequest,
    *,
    actor: str,
    work_state: str | None = None,
    note: str = "",
    now: datetime | None = None,
    flush: bool = True,
) -> RequestUpdate:
    """Record a status change or note as an update (history); it waits to be pushed to the citizen."""
    now = now or utcnow()
    state = work_state or request.work_state
    if state not in WORK_STATES:
        raise ComplaintError(400, f"work_state must be one of {', '.join(WORK_STATES)}", "work_state")
    note = note.strip()
    if len(note) > 2000:
        raise ComplaintError(400, "note is longer than 2000 characters", "note")
    if state == request.work_state and not note:
        raise ComplaintError(400, "nothing to record: change the state or write a note", "note")
    request.work_state = state
    request.status = "closed" if state in CLOSED_STATES else "open"
    request.closed_at = now if request.status == "closed" else None
    if note:
        request.status_notes = note
    request.updated_at = now
    update = RequestUpdate(
        request_id=request.id,
        at=now,
        actor=actor,
        status=request.status,
        work_state=state,
        note=note,
        push_state="pending",
        push_attempts=0,
        push_error="",
    )
    session.add(update)
    if flush:  # the demo seed batches hundreds of updates into a few INSERTs
        session.flush()
    return update


# ---------------------------------------------------------------- Open311 client keys


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, *, actor: str) -> str:
    """A new key for an Open311 client, returned once in clear; only its SHA-256 is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ComplaintError(400, "a key needs a name of 1 to 100 characters", "name")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    session.add(
        ClientKey(name=name, prefix=prefix, key_hash=_digest(secret), created_by=actor, created_at=utcnow())
    )
    audit.record(
        session,
        actor=actor,
        action="open311.key.create",
        target=f"open311key:{prefix}",
        details={"name": name},
    )
    session.flush()
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def check_key(session: Session, presented: str) -> ClientKey:
    parts = presented.split("_", 2)
    refused = ComplaintError(403, "api_key is unknown or revoked", "api_key")
    if not presented:
        raise ComplaintError(403, "api_key is required to post a service request", "api_key")
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise refused
    key = session.scalars(select(ClientKey).where(ClientKey.prefix == parts[1])).first()
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, _digest(parts[2])):
        raise refused
    key.last_used_at = utcnow()
    return key


def revoke_key(session: Session, prefix: str, *, actor: str) -> bool:
    key = session.scalars(select(ClientKey).where(ClientKey.prefix == prefix)).first()
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    audit.record(session, actor=actor, action="open311.key.revoke", target=f"open311key:{prefix}")
    return True


def list_keys(session: Session) -> list[ClientKey]:
    return list(session.scalars(select(ClientKey).order_by(ClientKey.id)))
