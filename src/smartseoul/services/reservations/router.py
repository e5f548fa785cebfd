"""HTTP API of reservations: facilities and slots (public), bookings and waitlist (citizens, with an
Idempotency-Key), facility admin and attendance (district staff, admin)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.services.payments.router import publish
from smartseoul.services.payments.service import PaymentError
from smartseoul.services.reservations import service
from smartseoul.services.reservations.service import BookingRefused
from smartseoul.web.deps import client_address, db_session, get_platform, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/reservations", tags=["reservations"])
CITIZEN = ("citizen",)
STAFF = ("district_staff", "admin")
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, description="Unique per intended change"),
]
District = Annotated[str | None, Query(pattern=r"^\d{5}$")]


class BookingIn(BaseModel):
    slot_id: int = Field(ge=1, le=2**31 - 1)


class FacilityIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name_ko: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    kind: str
    district_code: str = Field(pattern=r"^\d{5}$")
    capacity: int = Field(1, ge=1, le=1000)
    who_may_book: str = "anyone"
    book_ahead_days: int = Field(14, ge=1, le=365)
    weekly_limit: int = Field(2, ge=1, le=50)
    cancel_deadline_hours: int = Field(24, ge=0, le=720)
    fee_krw: int = Field(0, ge=0, le=10_000_000)
    no_show_limit: int = Field(3, ge=1, le=100)
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class SlotsIn(BaseModel):
    day: date
    hours: list[int] = Field(min_length=1, max_length=24)
    minutes: int = Field(60, ge=10, le=600)


class AttendanceIn(BaseModel):
    attended: bool


def refused(error: BookingRefused | PaymentError) -> Problem:
    """A refusal as a problem body naming the rule (``code``) and the field."""
    rule = error.rule if isinstance(error, BookingRefused) else error.code
    return Problem(error.status, "Booking refused", str(error), rule, field=error.field, rule=rule)


def person(principal: Principal) -> int:
    """The signed-in person's user id; an API key books nothing (its id is not a person's)."""
    if principal.kind != "user":
        raise Problem(403, "Forbidden", "bookings are made by a signed-in person", "forbidden")
    return principal.id


def _staff_district(principal: Principal, district: str) -> None:
    """District staff manage their own district's facilities; admins any."""
    if "admin" not in principal.roles and principal.district_code != district:
        raise Problem(
            403,
            "Forbidden",
            "district staff manage only their own district",
            "forbidden",
            field="district_code",
        )


@router.get("/facilities", summary="Facilities, filtered by district, kind and name (public)")
def facilities(
    session: Session = Depends(db_session),
    district: District = None,
    kind: Annotated[str | None, Query(pattern=r"^(sports|hall|meeting_room|class)$")] = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> list[dict[str, Any]]:
    return [
        service.facility_dict(f)
        for f in service.list_facilities(session, district=district, kind=kind, query=q)
    ]


@router.get("/facilities/{facility_id}", summary="A facility, its rules and its slots in the booking window")
def facility(facility_id: Id, session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        found = service.get_facility(session, facility_id)
    except BookingRefused as error:
        raise refused(error) from None
    return {
        **service.facility_dict(found),
        "slots": [service.slot_dict(s) for s in service.open_slots(session, found)],
    }


@router.post("/facilities", status_code=201, summary="Add a facility (district staff, admin)")
def add_facility(
    body: FacilityIn,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> dict[str, Any]:
    _staff_district(principal, body.district_code)
    try:
        made = service.add_facility(session, service.FacilityDraft(**body.model_dump()))
    except BookingRefused as error:
        raise refused(error) from None
    audit.record(
        session,
        actor=principal.name,
        action="reservations.facility.add",
        target=made.code,
        client=client_address(request),
    )
    return service.facility_dict(made)


@router.post("/facilities/{facility_id}/slots", status_code=201, summary="Open slots on a day (staff)")
def add_slots(
    facility_id: Id,
    body: SlotsIn,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> list[dict[str, Any]]:
    if any(not 0 <= h <= 23 for h in body.hours):
        raise Problem(422, "Invalid hours", "hours are 0..23 (Seoul time)", "invalid_hours", field="hours")
    try:
        found = service.get_facility(session, facility_id)
    except BookingRefused as error:
        raise refused(error) from None
    _staff_district(principal, found.district_code)
    return [
        service.slot_dict(s) for s in service.add_slots(session, found, body.day, body.hours, body.minutes)
    ]


@router.post(
    "/bookings", status_code=201, summary="Book a slot (citizen; Idempotency-Key); a fee opens a payment"
)
async def book(
    body: BookingIn,
    idempotency_key: IdempotencyKey,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*CITIZEN)),
) -> dict[str, Any]:
    def work() -> tuple[dict[str, Any], list[Event]]:
        outcome = service.book(
            session,
            platform.settings,
            user_id=person(principal),
            district=principal.district_code,
            slot_id=body.slot_id,
            idempotency_key=idempotency_key,
        )
        result = service.booking_dict(outcome.booking)
        result["pay_url"] = outcome.payment.redirect_url if outcome.payment is not None else None
        return result, outcome.events

    try:
        result, events = await run_in_threadpool(work)
    except (BookingRefused, PaymentError) as error:
        raise refused(error) from None
    await publish(platform, session, events)
    return result


@router.get("/bookings", summary="My bookings and waitlist places")
def my_bookings(
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require()),
) -> dict[str, Any]:
    return {
        "bookings": [
            service.booking_dict(b, s, f) for b, s, f in service.bookings_of_user(session, person(principal))
        ],
        "waitlist": [
            {
                "id": w.id,
                "slot_id": s.id,
                "facility_id": f.id,
                "position": service.waitlist_position(session, w),
            }
            for w, s, f in service.waitlist_of_user(session, person(principal))
        ],
    }


@router.post(
    "/bookings/{booking_id}/cancel", summary="Cancel (owner before the deadline, staff any time); refunds"
)
async def cancel(
    booking_id: Id,
    request: Request,
    idempotency_key: IdempotencyKey,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require()),
) -> dict[str, Any]:
    as_staff = principal.has_any(*STAFF)

    def work() -> service.BookingOutcome:
        outcome = service.cancel(
            session,
            platform.settings,
            booking_id,
            user_id=None if as_staff else person(principal),
            now=utcnow(),
        )
        if as_staff and outcome.booking.user_id != principal.id:
            audit.record(
                session,
                actor=principal.name,
                action="reservations.booking.cancel",
                target=f"booking:{booking_id}",
                client=client_address(request),
                details={"key": idempotency_key},
            )
        return outcome

    try:
        outcome = await run_in_threadpool(work)
    except (BookingRefused, PaymentError) as error:
        raise refused(error) from None
    result = service.booking_dict(outcome.booking)
    result["refunded_krw"] = outcome.payment.refunded_krw if outcome.payment is not None else 0
    await publish(platform, session, outcome.events)
    return result


@router.post("/waitlist", status_code=201, summary="Join the waitlist of a full slot (citizen)")
def join_waitlist(
    body: BookingIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*CITIZEN)),
) -> dict[str, Any]:
    try:
        entry = service.join_waitlist(
            session,
            platform.settings,
            user_id=person(principal),
            district=principal.district_code,
            slot_id=body.slot_id,
        )
    except BookingRefused as error:
        raise refused(error) from None
    return {"id": entry.id, "slot_id": entry.slot_id, "position": service.waitlist_position(session, entry)}


@router.delete("/waitlist/{entry_id}", status_code=204, summary="Leave a waitlist")
def leave_waitlist(
    entry_id: Id, session: Session = Depends(db_session), principal: Principal = Depends(require())
) -> None:
    try:
        service.leave_waitlist(session, entry_id, person(principal))
    except BookingRefused as error:
        raise refused(error) from None


@router.get("/attendance", summary="A day's bookings to mark attendance (staff; personal data, audited)")
def attendance(
    request: Request,
    day: Annotated[date, Query(alias="date")],
    district: District = None,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> list[dict[str, Any]]:
    if "admin" not in principal.roles:
        district = principal.district_code
    rows = service.attendance_list(session, district=district, day=day)
    audit.record(
        session,
        actor=principal.name,
        action="reservations.attendance.read",
        target=f"{day.isoformat()} {district or 'all'}",
        client=client_address(request),
        details={"rows": len(rows)},
    )
    return rows


@router.post("/bookings/{booking_id}/attendance", summary="Mark attended or no-show (staff)")
def mark_attendance(
    booking_id: Id,
    body: AttendanceIn,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> dict[str, Any]:
    try:
        found = service.get_booking(session, booking_id)
        _staff_district(principal, service.get_facility(session, found.facility_id).district_code)
        booking = service.mark_attendance(session, booking_id, attended=body.attended)
    except BookingRefused as error:
        raise refused(error) from None
    audit.record(
        session,
        actor=principal.name,
        action="reservations.attendance.mark",
        target=f"booking:{booking_id}",
        client=client_address(request),
        details={"attended": body.attended},
    )
    return service.booking_dict(booking)
