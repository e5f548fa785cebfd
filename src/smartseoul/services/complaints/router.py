"""Staff JSON API of complaints (district staff see their district, admins every one): the queue,
overdue list, one complaint with its contact details (audited), status updates, delivery retries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core import push
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.services.complaints import delivery, service
from smartseoul.services.complaints.events import ComplaintUpdated
from smartseoul.services.complaints.models import WORK_STATES, Delivery, ServiceRequest
from smartseoul.services.complaints.open311 import requests_body
from smartseoul.services.complaints.service import ComplaintError
from smartseoul.web.deps import client_address, db_session, get_platform, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])
STAFF = ("district_staff", "admin")
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=20, max_length=128)
    auth: str = Field(min_length=8, max_length=64)


class PushIn(BaseModel):
    """The browser's PushSubscription JSON: where updates of this person's complaints go."""

    endpoint: str = Field(min_length=10, max_length=1024)
    keys: PushKeys
    language: str = Field("ko", pattern=r"^(ko|en)$")


class UpdateIn(BaseModel):
    work_state: str | None = Field(None, description=f"one of {', '.join(WORK_STATES)}")
    note: str = Field("", max_length=2000)


def problem(error: ComplaintError) -> Problem:
    return Problem(
        error.status, "Complaint refused", error.description, "complaint_invalid", field=error.field
    )


def scope_of(principal: Principal) -> str | None:
    """The district a person may see: their own for district staff, all (None) for admins."""
    if principal.has_any("admin"):
        return None
    if not principal.district_code:
        raise Problem(403, "No district", "this account is not attached to a district", "forbidden")
    return principal.district_code


def visible(session: Session, principal: Principal, request_id: int) -> ServiceRequest:
    """The complaint, if this person may see it (another district's is 404: no existence leak)."""
    try:
        row = service.get_request(session, request_id)
    except ComplaintError as error:
        raise problem(error) from None
    district = scope_of(principal)
    if district is not None and row.district_code != district:
        raise Problem(
            404, "Unknown complaint", f"no complaint {request_id} in your district", "unknown_complaint"
        )
    return row


def staff_dict(session: Session, row: ServiceRequest, lang: str = "en") -> dict[str, Any]:
    body = requests_body(session, [row], lang)[0]
    body.update(
        district_code=row.district_code,
        work_state=row.work_state,
        delivery_state=row.delivery_state,
        overdue=service.is_overdue(row),
        token=None,
    )
    return body


@router.post(
    "/push-subscriptions", status_code=201, summary="Get updates of my complaints on this browser (Web Push)"
)
def subscribe_updates(
    body: PushIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require()),
) -> dict[str, Any]:
    """Any signed-in person: the updates of the complaints they filed while signed in are pushed here."""
    if principal.kind != "user":
        raise Problem(403, "Not a person", "only a person's account files complaints", "forbidden")
    try:
        found = push.subscribe(
            session,
            endpoint=body.endpoint,
            p256dh=body.keys.p256dh,
            auth=body.keys.auth,
            settings=platform.settings,
            scope="complaints",
            language=body.language,
            user_id=principal.id,
        )
    except push.InvalidSubscription as error:
        field = str(error).split(":", 1)[0]
        raise Problem(422, "Invalid subscription", str(error), "invalid_subscription", field=field) from None
    return {"id": found.id, "scope": found.scope}


@router.get("/queue", summary="Open complaints of your district, the soonest due first")
def complaint_queue(
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = "open",
) -> dict[str, Any]:
    district = scope_of(principal)
    rows = service.queue(session, district, status)
    return {"counts": service.counts(session, district), "requests": [staff_dict(session, r) for r in rows]}


@router.get("/overdue", summary="Open complaints past their expected time (SLA), longest overdue first")
def overdue_list(
    session: Session = Depends(db_session), principal: Principal = Depends(require(*STAFF))
) -> list[dict[str, Any]]:
    return [staff_dict(session, r) for r in service.overdue(session, scope_of(principal))]


@router.get("/{request_id}", summary="One complaint with contact details, deliveries and updates (audited)")
def complaint_detail(
    request_id: Id,
    request: Request,
    reason: Annotated[str, Query(min_length=3, max_length=200, description="why you read the contact")],
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> dict[str, Any]:
    row = visible(session, principal, request_id)
    body = staff_dict(session, row)
    body["contact"] = service.contact_of(
        session, row, actor=principal.name, client=client_address(request), reason=reason
    )
    body["deliveries"] = [delivery_dict(d) for d in service.deliveries_of(session, row.id)]
    body["updates"] = [
        {
            "at": u.at.isoformat(),
            "actor": u.actor,
            "status": u.status,
            "work_state": u.work_state,
            "note": u.note,
            "push_state": u.push_state,
        }
        for u in service.updates_of(session, row.id)
    ]
    return body


def delivery_dict(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "department_id": row.department_id,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
    }


@router.post("/{request_id}/updates", status_code=201, summary="Change a complaint's state or add a note")
async def add_update(
    request_id: Id,
    body: UpdateIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        row = visible(session, principal, request_id)
        try:
            update = service.update_status(
                session, row, actor=principal.name, work_state=body.work_state, note=body.note
            )
        except ComplaintError as error:
            raise problem(error) from None
        session.commit()
        return {
            "id": update.id,
            "status": row.status,
            "work_state": row.work_state,
            "push_state": update.push_state,
        }

    result = await run_in_threadpool(work)
    delivery.wake(platform)
    await platform.bus.publish(
        ComplaintUpdated(request_id=request_id, status=result["status"], work_state=result["work_state"])
    )
    return result


@router.post("/deliveries/{delivery_id}/retry", summary="Send a failed delivery to its department again")
async def retry_delivery(
    delivery_id: Id,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        found = session.get(Delivery, delivery_id)
        if found is None:
            raise Problem(404, "Unknown delivery", f"no delivery {delivery_id}", "unknown_delivery")
        visible(session, principal, found.request_id)
        try:
            row = delivery.retry(session, delivery_id, actor=principal.name)
        except InvalidInput as error:
            raise Problem(409, "Not retried", str(error), "delivery_sent", field="delivery_id") from None
        session.commit()
        return delivery_dict(row)

    result = await run_in_threadpool(work)
    delivery.wake(platform)
    return result
