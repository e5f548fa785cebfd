"""HTTP API of the incident desk, the agencies' hand-overs, and the emergency bells.

Changes run in one transaction off the event loop and their events are published after the commit.
An incident a district officer may not see answers 404 like an unknown one, and the attempt is in the
audit ledger; reading an incident's details (places, people) is itself recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event
from smartseoul.safety.incidents import bells, handovers, service
from smartseoul.safety.incidents.models import Agency, Bell, Handover, Incident, IntercomSession
from smartseoul.safety.incidents.runtime import in_transaction, publish_all
from smartseoul.web.deps import client_address, get_platform, record_denial, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["incidents"])
DESK = service.DESK_ROLES
READERS = service.READ_ROLES
DISPATCH = ("admin", "operator", "dispatcher")
STREAM_ROLES = ("admin", "operator", "dispatcher", "auditor")
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
BellId = Annotated[str, Path(min_length=1, max_length=64)]
T = TypeVar("T")


class Refused(Exception):
    """Raised inside a transaction to answer 404 after recording the attempt."""

    def __init__(self, what: str) -> None:
        self.what = what


async def _change(
    request: Request,
    platform: Platform,
    principal: Principal | None,
    work: Callable[[Session], tuple[T, list[Event]]],
) -> T:
    """Run ``work`` in one transaction; publish its events after the commit; map refusals to problems."""
    try:
        result, events = await in_transaction(platform, work)
    except (Refused, service.UnknownIncident, bells.UnknownBell) as error:
        what = error.what if isinstance(error, Refused) else f"{type(error).__name__} {error}"
        await in_transaction(platform, lambda session: record_denial(session, request, principal, what))
        raise Problem(404, "Not found", what, "not_found") from None
    except bells.IntercomError as error:
        raise Problem(409, "Intercom state conflict", str(error), "intercom_conflict") from None
    await publish_all(platform, events)
    return result


def _incident(session: Session, principal: Principal, incident_id: int) -> Incident:
    try:
        return service.get_incident(session, incident_id, principal)
    except service.UnknownIncident:
        raise Refused(f"incident {incident_id}") from None


# ---------------------------------------------------------------- incidents


class IncidentIn(BaseModel):
    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$", examples=["fight"])
    title: str = Field(min_length=3, max_length=200)
    lat: float | None = Field(None, ge=33.0, le=39.0)
    lon: float | None = Field(None, ge=124.0, le=132.0)
    priority: int = Field(3, ge=1, le=4, description="1 (highest) to 4; citizens' reports are always 3.")


class StatusIn(BaseModel):
    status: Literal["acknowledged", "dispatched", "on_scene", "resolved", "closed"]
    note: str = Field("", max_length=2000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class HandoverIn(BaseModel):
    agency: str = Field(min_length=1, max_length=64, description="The agency's code.")
    reason: str = Field("", max_length=256)


@router.get("/incidents", summary="The incident queue (most urgent first)")
async def list_incidents(
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*READERS)),
    status: Annotated[
        str | None, Query(pattern=r"^(open|new|acknowledged|dispatched|on_scene|resolved|closed)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    def work(session: Session) -> list[dict[str, Any]]:
        return [service.incident_dict(i) for i in service.list_incidents(session, principal, status, limit)]

    return await in_transaction(platform, work)


@router.get(
    "/incidents/{incident_id}", summary="One incident with its timeline and hand-overs (recorded read)"
)
async def get_incident(
    incident_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*READERS)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        incident = _incident(session, principal, incident_id)
        audit.record(
            session,
            actor=principal.name,
            action="incident.read",
            target=f"incident:{incident_id}",
            reason="incident desk",
            client=client_address(request),
        )
        found = service.incident_dict(incident)
        found["timeline"] = service.timeline(session, incident_id)
        found["handovers"] = [
            handovers.handover_dict(session, h)
            for h in session.query(Handover).filter(Handover.incident_id == incident_id).order_by(Handover.id)
        ]
        return found, []

    return await _change(request, platform, principal, work)


@router.post(
    "/incidents", status_code=201, summary="Open an incident by hand (operator) or report one (citizen)"
)
async def open_incident(
    body: IncidentIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("admin", "operator", "citizen")),
) -> dict[str, Any]:
    staff = principal.has_any(*DESK)
    item = service.Intake(
        source="operator" if staff else "citizen",
        kind=body.kind,
        priority=body.priority if staff else 3,
        title_ko=body.title,
        title_en=body.title,
        ref=f"{'operator' if staff else 'citizen'}:{principal.name}",
        subject="" if staff else f"citizen:{principal.id}",
        family="emergency" if staff else "person",
        lat=body.lat,
        lon=body.lon,
    )

    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        result = service.intake(session, platform.settings, item)
        audit.record(
            session, actor=principal.name, action="incident.open", target=f"incident:{result.incident.id}"
        )
        return {**service.incident_dict(result.incident), "opened": result.opened}, result.events

    return await _change(request, platform, principal, work)


@router.post("/incidents/{incident_id}/status", summary="Move the incident on (forward only)")
async def set_status(
    incident_id: Id,
    body: StatusIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        incident = _incident(session, principal, incident_id)
        events = service.transition(session, incident, body.status, principal.name, body.note)
        return service.incident_dict(incident), events

    return await _change(request, platform, principal, work)


@router.post("/incidents/{incident_id}/acknowledge", summary="Acknowledge (stops the escalation timer)")
async def acknowledge_incident(
    incident_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        incident = _incident(session, principal, incident_id)
        return service.incident_dict(incident), service.acknowledge(session, incident, principal.name)

    return await _change(request, platform, principal, work)


@router.post("/incidents/{incident_id}/notes", status_code=201, summary="Add a note to the timeline")
async def add_note(
    incident_id: Id,
    body: NoteIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        incident = _incident(session, principal, incident_id)
        return {"incident_id": incident.id}, service.add_note(session, incident, principal.name, body.text)

    return await _change(request, platform, principal, work)


@router.post("/incidents/{incident_id}/handovers", status_code=202, summary="Hand the incident to an agency")
async def hand_over(
    incident_id: Id,
    body: HandoverIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        incident = _incident(session, principal, incident_id)
        agency = (
            session.query(Agency).filter(Agency.code == body.agency, Agency.active.is_(True)).one_or_none()
        )
        if agency is None:
            raise InvalidInput(f"agency: no active agency {body.agency!r}")
        handover, events = handovers.create_handover(
            session, platform.settings, incident, agency, principal.name, body.reason
        )
        audit.record(
            session, actor=principal.name, action="incident.handover", target=f"handover:{handover.id}"
        )
        return handovers.handover_dict(session, handover), events

    return await _change(request, platform, principal, work)


@router.get(
    "/stream/incidents",
    summary="The desk's live events (incidents, hand-overs, bells, cameras) as Server-Sent Events",
    response_class=StreamingResponse,
)
async def stream_incidents(
    request: Request,
    platform: Platform = Depends(get_platform),
    _: Principal = Depends(require(*STREAM_ROLES)),
) -> StreamingResponse:
    """Only ``safety.*`` events, with a deep queue per screen: under a flood of other events (positions,
    device alarms) an incident never waits behind them nor is dropped for them."""
    from smartseoul.safety.incidents.plugin import HUB_KEY

    hub = platform.cache.get(HUB_KEY)
    if hub is None:
        raise Problem(503, "Desk stream not running", "the incidents domain has not started", "not_started")
    return StreamingResponse(
        hub.listen(request.headers.get("last-event-id")),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- hand-overs and agencies


@router.get("/handovers", summary="Hand-overs, newest first (agencies' dispatchers)")
async def list_handovers(
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DISPATCH)),
    status: Annotated[str | None, Query(pattern=r"^(open|pending|delivered|failed|acknowledged)$")] = None,
) -> list[dict[str, Any]]:
    scope = agency_scope(principal)

    def work(session: Session) -> list[dict[str, Any]]:
        found = handovers.list_handovers(session, status)
        return [
            handovers.handover_dict(session, h)
            for h in found
            if scope is None or _agency_code(session, h) == scope
        ]

    return await in_transaction(platform, work)


AGENCY_KEY_PREFIX = "apikey:agency:"


def agency_scope(principal: Principal) -> str | None:
    """The agency an agency's own API key speaks for (it sees and acknowledges only its hand-overs);
    None for the control room's accounts."""
    if principal.kind == "api_key" and principal.name.startswith(AGENCY_KEY_PREFIX):
        return principal.name.removeprefix(AGENCY_KEY_PREFIX)
    return None


def _handover(session: Session, handover_id: int, principal: Principal | None = None) -> Handover:
    handover = session.get(Handover, handover_id)
    scope = agency_scope(principal) if principal is not None else None
    if handover is None or (scope is not None and _agency_code(session, handover) != scope):
        raise Refused(f"hand-over {handover_id}")
    return handover


def _agency_code(session: Session, handover: Handover) -> str | None:
    agency = session.get(Agency, handover.agency_id)
    return agency.code if agency else None


@router.get(
    "/handovers/{handover_id}.cap",
    summary="The hand-over as a CAP 1.2 message (Private, addressed to the agency)",
    response_class=Response,
)
async def handover_cap(
    handover_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DISPATCH)),
) -> Response:
    def work(session: Session) -> tuple[str, list[Event]]:
        return str(_handover(session, handover_id, principal).payload.get("cap", "")), []

    document = await _change(request, platform, principal, work)
    if not document:
        raise Problem(404, "Not found", f"hand-over {handover_id} has no CAP version", "not_found")
    return Response(document.encode(), media_type="application/cap+xml")


@router.post("/handovers/{handover_id}/acknowledge", summary="The agency takes the case")
async def acknowledge_handover(
    handover_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DISPATCH)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        handover = _handover(session, handover_id, principal)
        events = handovers.acknowledge(session, handover, principal.name)
        audit.record(session, actor=principal.name, action="handover.ack", target=f"handover:{handover_id}")
        return handovers.handover_dict(session, handover), events

    return await _change(request, platform, principal, work)


@router.post("/handovers/{handover_id}/retry", summary="Send a failed hand-over again")
async def retry_handover(
    handover_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    from smartseoul.safety.incidents.runtime import wake_outbox

    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        handover = _handover(session, handover_id)
        handovers.retry_now(session, handover, principal.name)
        return handovers.handover_dict(session, handover), []

    result = await _change(request, platform, principal, work)
    wake_outbox(platform)
    return result


class AgencyIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["police", "fire", "school_guard", "district"]
    name_ko: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    district_codes: list[Annotated[str, Field(pattern=r"^\d{5}$")]] = Field(
        default_factory=list, max_length=25
    )
    area: dict[str, Any] | None = None
    lat: float | None = Field(None, ge=33.0, le=39.0)
    lon: float | None = Field(None, ge=124.0, le=132.0)
    webhook_url: str = Field("", max_length=512)
    api_key: bool = Field(
        False,
        description="Issue the agency's own API key (shown once): it sees and "
        "acknowledges only this agency's hand-overs.",
    )


@router.get("/agencies", summary="Agencies that take hand-overs")
async def list_agencies(
    platform: Platform = Depends(get_platform), _: Principal = Depends(require(*DISPATCH))
) -> list[dict[str, Any]]:
    def work(session: Session) -> list[dict[str, Any]]:
        return [handovers.agency_dict(a) for a in session.query(Agency).order_by(Agency.kind, Agency.code)]

    return await in_transaction(platform, work)


@router.post("/agencies", status_code=201, summary="Register an agency (the webhook secret is shown once)")
async def add_agency(
    body: AgencyIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        agency = handovers.add_agency(session, actor=principal.name, **body.model_dump(exclude={"api_key"}))
        found = {**handovers.agency_dict(agency), "secret": agency.secret}
        if body.api_key:
            found["api_key"] = handovers.issue_agency_key(session, agency, principal.name)
        return found, []

    return await _change(request, platform, principal, work)


# ---------------------------------------------------------------- bells


class BellIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    lat: float = Field(ge=33.0, le=39.0)
    lon: float = Field(ge=124.0, le=132.0)
    district_code: str | None = Field(None, pattern=r"^\d{5}$")
    name: str = Field("", max_length=128)
    camera_ids: list[int] = Field(default_factory=list, max_length=32)
    has_speaker: bool = True
    has_intercom: bool = True
    http: bool = Field(False, description="Issue a key for a bell that posts over HTTP (shown once).")


@router.get("/bells", summary="The emergency bells and their health")
async def list_bells(
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*READERS)),
) -> list[dict[str, Any]]:
    district = (
        None if principal.has_any("admin", "operator", "dispatcher", "auditor") else principal.district_code
    )
    return await in_transaction(
        platform, lambda session: [bells.bell_dict(b) for b in bells.list_bells(session, district or None)]
    )


@router.post("/bells", status_code=201, summary="Register a bell")
async def add_bell(
    body: BellIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("admin")),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        fields = body.model_dump(exclude={"id", "lat", "lon", "http"})
        bell = bells.add_bell(session, body.id, body.lat, body.lon, actor=principal.name, **fields)
        found = bells.bell_dict(bell)
        if body.http:
            found["http_key"] = bells.issue_http_key(session, bell, principal.name)
            found["accepts_http"] = True
        return found, []

    return await _change(request, platform, principal, work)


class IntercomIn(BaseModel):
    incident_id: int | None = Field(None, ge=1)


class IntercomMoveIn(BaseModel):
    action: Literal["ring", "connect", "end"]
    reason: str = Field("", max_length=64)


@router.post("/bells/{bell_id}/intercom", status_code=201, summary="Ask to talk through a bell")
async def start_intercom(
    bell_id: BellId,
    request: Request,
    body: IntercomIn | None = None,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        incident_id = body.incident_id if body else None
        if incident_id is not None:
            _incident(session, principal, incident_id)
        talk = bells.request_intercom(session, bell_id, principal.name, incident_id)
        return bells.intercom_dict(talk), []

    return await _change(request, platform, principal, work)


class BellMessageIn(BaseModel):
    detail: str = Field("", max_length=200)


@router.post(
    "/bells/{bell_id}/{action}", status_code=202, summary="A bell that posts: press, heartbeat or tamper"
)
async def bell_message(
    bell_id: BellId,
    action: Literal["press", "heartbeat", "tamper"],
    request: Request,
    body: BellMessageIn | None = None,
    x_bell_key: Annotated[str, Header(max_length=200)] = "",
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Authenticated by the bell's own key (``X-Bell-Key``); an unknown bell and a wrong key get the
    same 401, and the attempt is in the audit ledger."""
    settings = platform.settings
    detail = body.detail if body else ""

    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        bell = session.get(Bell, bell_id)
        if not bells.check_http_key(bell, x_bell_key):
            return {"refused": True}, []
        if action == "press":
            events = bells.press(session, settings, bell_id)
        elif action == "tamper":
            events = bells.tamper(session, settings, bell_id, detail)
        else:
            events = bells.heartbeat(session, bell_id)
        incident = next((getattr(e, "incident_id", None) for e in events if hasattr(e, "incident_id")), None)
        return {"bell_id": bell_id, "action": action, "incident_id": incident}, events

    result = await _change(request, platform, None, work)
    if result.get("refused"):
        await in_transaction(platform, lambda s: record_denial(s, request, None, f"bell {bell_id}: bad key"))
        raise Problem(401, "Bell not recognised", "unknown bell or wrong X-Bell-Key", "bell_key_invalid")
    return result


@router.post("/intercom/{session_id}", summary="Move an intercom session: ring, connect or end")
async def move_intercom(
    session_id: Id,
    body: IntercomMoveIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*DESK)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        talk = session.get(IntercomSession, session_id)
        if talk is None:
            raise Refused(f"intercom session {session_id}")
        bells.move_intercom(session, talk, body.action, principal.name, body.reason)
        return bells.intercom_dict(talk), []

    return await _change(request, platform, principal, work)
