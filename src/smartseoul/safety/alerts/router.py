"""HTTP API of public alerts: issue, approve, update, cancel (operators); CAP, Atom, the banner
list and the live stream (public); Web Push subscriptions and the service worker (public)."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core import push
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.safety.alerts import cap, service
from smartseoul.safety.alerts.areas import FieldError
from smartseoul.safety.alerts.delivery import AlertHub, current_message
from smartseoul.safety.alerts.service import ISSUER_ROLES, AlertDraft, Outcome
from smartseoul.web.deps import (
    client_address,
    db_session,
    get_platform,
    optional_principal,
    record_denial,
    require,
)
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["alerts"])
pages_router = APIRouter(include_in_schema=False)
STAFF = ("operator", "admin", "dispatcher", "auditor")
HUB_KEY = "alerts.hub"
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
District = Annotated[str | None, Query(pattern=r"^\d{5}$", description="A district code, e.g. 11230")]
Lat = Annotated[float | None, Query(ge=-90, le=90)]
Lon = Annotated[float | None, Query(ge=-180, le=180)]


class AlertIn(BaseModel):
    """An alert as an operator composes it; ``area`` holds exactly one of districts, polygon, circle."""

    event: str = Field(max_length=200, examples=["Flood"])
    severity: str = Field(examples=["Severe"])
    urgency: str = Field(examples=["Immediate"])
    certainty: str = Field(examples=["Observed"])
    headline_ko: str = Field(max_length=160)
    headline_en: str = Field(max_length=160)
    area: dict[str, Any] = Field(examples=[{"districts": ["11230"]}, {"circle": "37.5665,126.9780 2"}])
    category: str = "Safety"
    description_ko: str = Field("", max_length=4000)
    description_en: str = Field("", max_length=4000)
    instruction_ko: str = Field("", max_length=4000)
    instruction_en: str = Field("", max_length=4000)
    response_type: str | None = None
    expires_minutes: int | None = Field(None, ge=5, le=10080)
    status: str = Field("Actual", description="CAP status: Actual, Exercise (drills) or Test")

    def draft(self) -> AlertDraft:
        fields = self.model_dump(exclude={"status"})
        return AlertDraft(**fields, cap_status=self.status)


class AlertPatch(BaseModel):
    event: str | None = Field(None, max_length=200)
    severity: str | None = None
    urgency: str | None = None
    certainty: str | None = None
    headline_ko: str | None = Field(None, max_length=160)
    headline_en: str | None = Field(None, max_length=160)
    description_ko: str | None = Field(None, max_length=4000)
    description_en: str | None = Field(None, max_length=4000)
    instruction_ko: str | None = Field(None, max_length=4000)
    instruction_en: str | None = Field(None, max_length=4000)
    response_type: str | None = None
    area: dict[str, Any] | None = None
    expires_minutes: int | None = Field(None, ge=5, le=10080)


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=500)


def _invalid(error: FieldError) -> Problem:
    return Problem(422, "Invalid alert", str(error), "invalid_alert", field=error.field)


async def _publish(platform: Platform, session: Session, outcome: Outcome) -> dict[str, Any]:
    """Commit first, then tell screens, phones and agencies."""
    body = service.alert_dict(outcome.alert)
    await run_in_threadpool(session.commit)
    for event in outcome.events:
        await platform.bus.publish(event)
    return body


def _staff_or_sent(session: Session, request: Request, principal: Principal | None, alert_id: int) -> Any:
    """An alert anyone may see once sent; one awaiting approval only staff may see."""
    try:
        alert = service.get_alert(session, alert_id)
    except service.AlertNotFound:
        raise Problem(404, "Unknown alert", f"no alert {alert_id}", "unknown_alert") from None
    if alert.sent_at is None and not (principal and principal.has_any(*STAFF)):
        raise Problem(404, "Unknown alert", f"no alert {alert_id}", "unknown_alert")
    return alert


@router.post("/alerts", status_code=201, summary="Issue an alert (city-wide ones wait for a second person)")
async def issue_alert(
    body: AlertIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*ISSUER_ROLES)),
) -> dict[str, Any]:
    try:
        outcome = await run_in_threadpool(
            lambda: service.issue(
                session,
                body.draft(),
                issuer=principal.name,
                settings=platform.settings,
                client=client_address(request),
            )
        )
    except FieldError as error:
        raise _invalid(error) from None
    return await _publish(platform, session, outcome)


@router.post("/alerts/preview", summary="The CAP document an alert would be (nothing stored or sent)")
def preview_alert(
    body: AlertIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    _: Principal = Depends(require(*ISSUER_ROLES)),
) -> Response:
    try:
        document = service.preview_cap(session, body.draft(), settings=platform.settings)
    except FieldError as error:
        raise _invalid(error) from None
    return Response(cap.indented(document), media_type=cap.CAP_MEDIA_TYPE)


@router.get("/alerts", summary="Current alerts (public)")
def list_alerts(session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    return [service.alert_dict(a) for a in service.current_alerts(session)]


@router.get("/alerts/active", summary="Current alerts for a place: the banner of web, mobile and TV pages")
def active_alerts(
    session: Session = Depends(db_session), district: District = None, lat: Lat = None, lon: Lon = None
) -> list[dict[str, Any]]:
    if (lat is None) != (lon is None):
        raise Problem(422, "Invalid place", "give both lat and lon, or neither", "invalid_place", field="lat")
    found = service.alerts_at(session, district=district, lat=lat, lon=lon)
    return [service.alert_dict(a) for a in found]


@router.get("/alerts/pending", summary="City-wide alerts waiting for a second person's approval")
def pending_alerts(
    session: Session = Depends(db_session), _: Principal = Depends(require(*STAFF))
) -> list[dict[str, Any]]:
    return [service.alert_dict(a) for a in service.pending_alerts(session)]


@router.get("/alerts/recent", summary="The latest alerts in every state (control room)")
def recent_alerts(
    session: Session = Depends(db_session), _: Principal = Depends(require(*STAFF))
) -> list[dict[str, Any]]:
    return [service.alert_dict(a) for a in service.recent_alerts(session)]


@router.get("/alerts/feed.atom", summary="Atom feed of the current alerts, each linking to its CAP document")
def alerts_feed(request: Request, session: Session = Depends(db_session)) -> Response:
    base = str(request.base_url).rstrip("/")
    entries = [
        cap.FeedEntry(
            identifier=alert.identifier,
            title=f"{alert.headline_ko} / {alert.headline_en}",
            summary=f"{alert.event}: {alert.severity}, {alert.urgency}, {alert.certainty}",
            updated=alert.updated_at,
            cap_url=f"{base}/api/v1/alerts/{alert.id}.cap",
            severity=alert.severity,
            expires=alert.expires_at,
        )
        for alert in service.current_alerts(session)
    ]
    feed = cap.atom_feed(
        feed_id=f"{base}/api/v1/alerts/feed.atom",
        title="Smart Seoul public alerts",
        self_url=f"{base}/api/v1/alerts/feed.atom",
        entries=entries,
    )
    return Response(feed, media_type="application/atom+xml")


@router.get(
    "/alerts/{alert_id:int}.cap", summary="The alert's latest CAP 1.2 message (Alert, Update or Cancel)"
)
def alert_cap(
    alert_id: int,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    _staff_or_sent(session, request, principal, alert_id)
    message = service.latest_message(session, alert_id)
    if message is None:
        raise Problem(404, "No CAP message yet", f"alert {alert_id} awaits approval", "not_sent")
    return Response(message.xml.encode(), media_type=cap.CAP_MEDIA_TYPE)


@router.get("/alerts/{alert_id}", summary="One alert with its CAP messages")
def get_alert(
    alert_id: AlertId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> dict[str, Any]:
    alert = _staff_or_sent(session, request, principal, alert_id)
    body = service.alert_dict(alert)
    body["messages"] = [
        {
            "identifier": m.identifier,
            "msg_type": m.msg_type,
            "sent_at": m.sent_at.isoformat(),
            "references": m.references,
        }
        for m in service.messages(session, alert_id)
    ]
    return body


def _lifecycle_problem(error: Exception) -> Problem:
    if isinstance(error, service.AlertNotFound):
        return Problem(404, "Unknown alert", str(error), "unknown_alert")
    if isinstance(error, FieldError):
        return _invalid(error)
    return Problem(409, "Not possible now", str(error), "alert_state")


@router.post("/alerts/{alert_id}/approve", summary="Approve a city-wide alert (not by its issuer)")
async def approve_alert(
    alert_id: AlertId,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*ISSUER_ROLES)),
) -> dict[str, Any]:
    try:
        outcome = await run_in_threadpool(
            lambda: service.approve(
                session,
                alert_id,
                approver=principal.name,
                settings=platform.settings,
                client=client_address(request),
            )
        )
    except service.ApprovalRefused as error:
        session.rollback()
        record_denial(session, request, principal, f"approval of own alert {alert_id}")
        raise Problem(403, "Second person required", str(error), "own_alert") from None
    except (service.AlertNotFound, service.AlertConflict) as error:
        raise _lifecycle_problem(error) from None
    return await _publish(platform, session, outcome)


@router.post("/alerts/{alert_id}/reject", summary="Turn down a city-wide alert waiting for approval")
async def reject_alert(
    alert_id: AlertId,
    body: ReasonIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*ISSUER_ROLES)),
) -> dict[str, Any]:
    try:
        outcome = await run_in_threadpool(
            lambda: service.reject(
                session, alert_id, by=principal.name, reason=body.reason, client=client_address(request)
            )
        )
    except (service.AlertNotFound, service.AlertConflict) as error:
        raise _lifecycle_problem(error) from None
    return await _publish(platform, session, outcome)


@router.patch("/alerts/{alert_id}", summary="Update an active alert (a CAP Update referencing the original)")
async def update_alert(
    alert_id: AlertId,
    body: AlertPatch,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*ISSUER_ROLES)),
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    try:
        outcome = await run_in_threadpool(
            lambda: service.update(
                session,
                alert_id,
                changes,
                by=principal.name,
                settings=platform.settings,
                client=client_address(request),
            )
        )
    except (service.AlertNotFound, service.AlertConflict, FieldError) as error:
        raise _lifecycle_problem(error) from None
    return await _publish(platform, session, outcome)


@router.post("/alerts/{alert_id}/cancel", summary="Cancel an alert (a CAP Cancel referencing the original)")
async def cancel_alert(
    alert_id: AlertId,
    body: ReasonIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*ISSUER_ROLES)),
) -> dict[str, Any]:
    try:
        outcome = await run_in_threadpool(
            lambda: service.cancel(
                session,
                alert_id,
                by=principal.name,
                settings=platform.settings,
                reason=body.reason,
                client=client_address(request),
            )
        )
    except (service.AlertNotFound, service.AlertConflict) as error:
        raise _lifecycle_problem(error) from None
    return await _publish(platform, session, outcome)


@router.get(
    "/stream/alerts",
    summary="Live alerts for a place as Server-Sent Events (public: screens and phones)",
    response_class=StreamingResponse,
)
def stream_alerts(
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    district: District = None,
    lat: Lat = None,
    lon: Lon = None,
) -> StreamingResponse:
    hub = platform.cache.get(HUB_KEY)
    if not isinstance(hub, AlertHub):
        raise Problem(503, "Alert stream not running", "the alert hub has not started", "hub_down")
    if (lat is None) != (lon is None):
        raise Problem(422, "Invalid place", "give both lat and lon, or neither", "invalid_place", field="lat")
    backlog = [current_message(a) for a in service.alerts_at(session, district=district, lat=lat, lon=lon)]
    session.commit()  # hold no transaction while the stream is open
    listener = hub.listener(district, lat, lon)
    return StreamingResponse(
        hub.listen(listener, backlog),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- Web Push


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=10, max_length=128)
    auth: str = Field(min_length=10, max_length=64)


class PushSubscriptionIn(BaseModel):
    """The browser's PushSubscription JSON, plus what the phone wants alerts for."""

    endpoint: str = Field(min_length=10, max_length=1024)
    keys: PushKeys
    scope: str = Field("alerts", pattern=r"^(alerts|guardian)$")
    language: str = Field("ko", pattern=r"^(ko|en)$")
    district_codes: list[Annotated[str, Field(pattern=r"^\d{5}$")]] = Field(
        default_factory=list, max_length=25
    )
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class EndpointIn(BaseModel):
    endpoint: str = Field(min_length=10, max_length=1024)


@router.get(
    "/push/vapid-public-key", tags=["push"], summary="The applicationServerKey for pushManager.subscribe"
)
def vapid_public_key(platform: Platform = Depends(get_platform)) -> dict[str, str]:
    return {"public_key": push.platform_vapid(platform).public_key}


@router.post(
    "/push/subscriptions", status_code=201, tags=["push"], summary="Subscribe a browser (no account needed)"
)
def push_subscribe(
    body: PushSubscriptionIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> dict[str, Any]:
    if (body.lat is None) != (body.lon is None):
        raise Problem(422, "Invalid place", "give both lat and lon, or neither", "invalid_place", field="lat")
    if body.scope == "alerts" and not body.district_codes and body.lat is None:
        raise Problem(
            422,
            "No place",
            "subscribe with district_codes or your location",
            "invalid_subscription",
            field="district_codes",
        )
    known = service.district_names(session)
    for position, code in enumerate(body.district_codes):
        if code not in known:
            raise Problem(
                422,
                "Unknown district",
                f"unknown district code {code!r}",
                "invalid_subscription",
                field=f"district_codes[{position}]",
            )
    try:
        found = push.subscribe(
            session,
            endpoint=body.endpoint,
            p256dh=body.keys.p256dh,
            auth=body.keys.auth,
            settings=platform.settings,
            scope=body.scope,
            language=body.language,
            district_codes=body.district_codes,
            lat=body.lat,
            lon=body.lon,
            user_id=principal.id if principal and principal.kind == "user" else None,
        )
    except push.InvalidSubscription as error:
        field = str(error).split(":", 1)[0]
        raise Problem(422, "Invalid subscription", str(error), "invalid_subscription", field=field) from None
    return {"id": found.id, "district_codes": found.district_codes, "language": found.language}


@router.post("/push/subscriptions/delete", tags=["push"], summary="Unsubscribe a browser (by its endpoint)")
def push_unsubscribe(body: EndpointIn, session: Session = Depends(db_session)) -> dict[str, bool]:
    return {"removed": push.unsubscribe(session, body.endpoint)}


@pages_router.get("/sw.js")
def service_worker() -> Response:
    """The generic service worker, served from the root so it may control every page."""
    script = resources.files("smartseoul.web").joinpath("static", "js", "sw.js").read_text(encoding="utf-8")
    return Response(
        script,
        media_type="application/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )
