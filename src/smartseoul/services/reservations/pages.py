"""Pages of reservations: find a facility, book (and pay), my bookings with cancel (citizens);
facility admin and attendance / no-shows (district staff, admin). Plain forms, no script needed.
The citizen's pages share the civil-services layout (``civil_render``): the same bar and the
large-text mode an elderly citizen turned on once for this device."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.city import service as city
from smartseoul.core import audit
from smartseoul.core.bootstrap import Platform
from smartseoul.services.identity.ui import civil_render
from smartseoul.services.payments.service import PaymentError
from smartseoul.services.reservations import service
from smartseoul.services.reservations.models import FACILITY_KINDS
from smartseoul.services.reservations.service import SEOUL, BookingRefused
from smartseoul.web.deps import check_csrf, client_address, db_session, get_platform, session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal, render, templates

router = APIRouter(include_in_schema=False)
STAFF = ("district_staff", "admin")
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
templates.env.filters["reservations_hm"] = lambda value: value.astimezone(SEOUL).strftime("%H:%M")
templates.env.filters["reservations_day"] = lambda value: value.astimezone(SEOUL).strftime("%Y-%m-%d (%a)")
templates.env.filters["reservations_krw"] = lambda value: f"{int(value):,}"


def _districts(request: Request, session: Session) -> list[dict[str, str]]:
    lang = choose_language(request, request.app.state.platform.settings.language)
    rows = [
        {"code": str(d["code"]), "name": str(d["name_ko"] if lang == "ko" else d["name_en"])}
        for d in city.list_districts(session)
    ]
    return sorted(rows, key=lambda row: row["name"])


def _form_text(form: Any, name: str, limit: int = 100) -> str:
    return str(form.get(name, ""))[:limit].strip()


def _form_int(form: Any, name: str) -> int | None:
    raw = _form_text(form, name, 12)
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


@router.get("/reservations")
def facility_list(
    request: Request,
    session: Session = Depends(db_session),
    district: Annotated[str | None, Query(pattern=r"^(\d{5})?$")] = None,
    kind: Annotated[str | None, Query(pattern=r"^(sports|hall|meeting_room|class)?$")] = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    principal = session_principal(request.app.state.platform, session, request)
    found = service.list_facilities(session, district=district or None, kind=kind or None, query=q or None)
    names = {d["code"]: d["name"] for d in _districts(request, session)}
    return civil_render(
        request,
        "reservations/list.html",
        principal=principal,
        facilities=found,
        districts=_districts(request, session),
        district_names=names,
        kinds=FACILITY_KINDS,
        district=district or "",
        kind=kind or "",
        q=q or "",
    )


def _facility_page(
    request: Request, session: Session, facility_id: int, error: str = "", status: int = 200
) -> Response:
    principal = session_principal(request.app.state.platform, session, request)
    try:
        facility = service.get_facility(session, facility_id)
    except BookingRefused:
        return render(request, "error.html", status=404, principal=principal, message="not_found")
    by_day: dict[str, list[Any]] = defaultdict(list)
    for slot in service.open_slots(session, facility):
        by_day[slot.starts_at.astimezone(SEOUL).strftime("%Y-%m-%d (%a)")].append(slot)
    names = {d["code"]: d["name"] for d in _districts(request, session)}
    return civil_render(
        request,
        "reservations/facility.html",
        status=status,
        principal=principal,
        facility=facility,
        days=dict(by_day),
        district_name=names.get(facility.district_code, facility.district_code),
        booking_key=secrets.token_urlsafe(12),
        error=error,
    )


@router.get("/reservations/facilities/{facility_id}")
def facility_page(facility_id: Id, request: Request, session: Session = Depends(db_session)) -> Response:
    return _facility_page(request, session, facility_id)


@router.post("/reservations/book")
async def book_submit(
    request: Request, platform: Platform = Depends(get_platform), session: Session = Depends(db_session)
) -> Response:
    """Book from the form; the hidden key was made when the page was drawn, so a double click books once."""
    principal = await run_in_threadpool(page_principal, request, session, "citizen")
    await check_csrf(request)
    form = await request.form()
    slot_id, facility_id = _form_int(form, "slot_id"), _form_int(form, "facility_id") or 0
    key = _form_text(form, "key") or secrets.token_urlsafe(12)
    if slot_id is None:
        return await run_in_threadpool(_facility_page, request, session, facility_id, "unknown_slot", 422)

    def work() -> service.BookingOutcome:
        return service.book(
            session,
            platform.settings,
            user_id=principal.id,
            district=principal.district_code,
            slot_id=slot_id,
            idempotency_key=f"page-{key}",
        )

    try:
        outcome = await run_in_threadpool(work)
    except (BookingRefused, PaymentError) as error:
        await run_in_threadpool(session.rollback)
        rule = error.rule if isinstance(error, BookingRefused) else error.code
        return await run_in_threadpool(_facility_page, request, session, facility_id, rule, 409)
    await run_in_threadpool(session.commit)
    for event in outcome.events:
        await platform.bus.publish(event)
    if outcome.payment is not None and outcome.booking.state == "held":
        return RedirectResponse(outcome.payment.redirect_url, status_code=303)
    return RedirectResponse(f"/reservations/mine?done=booked&booking={outcome.booking.id}", status_code=303)


@router.post("/reservations/waitlist")
async def waitlist_submit(
    request: Request, platform: Platform = Depends(get_platform), session: Session = Depends(db_session)
) -> Response:
    principal = await run_in_threadpool(page_principal, request, session, "citizen")
    await check_csrf(request)
    form = await request.form()
    slot_id, facility_id = _form_int(form, "slot_id") or 0, _form_int(form, "facility_id") or 0
    try:
        await run_in_threadpool(
            lambda: service.join_waitlist(
                session,
                platform.settings,
                user_id=principal.id,
                district=principal.district_code,
                slot_id=slot_id,
            )
        )
    except BookingRefused as error:
        await run_in_threadpool(session.rollback)
        return await run_in_threadpool(_facility_page, request, session, facility_id, error.rule, 409)
    return RedirectResponse("/reservations/mine?done=waiting", status_code=303)


@router.get("/reservations/bookings/{booking_id}/return")
async def payment_return(
    booking_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
) -> Response:
    """Back from the payment page: confirm at once if the provider captured (even without a callback)."""
    principal = await run_in_threadpool(page_principal, request, session, "citizen")

    def work() -> list[Any]:
        booking = service.get_booking(session, booking_id)
        if booking.user_id != principal.id:
            raise BookingRefused("unknown_booking", "not yours", "booking_id", 404)
        return service.sync_payment(session, platform.settings, booking)

    try:
        events = await run_in_threadpool(work)
    except BookingRefused:
        return RedirectResponse("/reservations/mine", status_code=303)
    await run_in_threadpool(session.commit)
    for event in events:
        await platform.bus.publish(event)
    return RedirectResponse(f"/reservations/mine?booking={booking_id}", status_code=303)


@router.get("/reservations/mine")
def my_bookings(
    request: Request,
    session: Session = Depends(db_session),
    done: Annotated[str | None, Query(pattern=r"^(booked|waiting|cancelled)$")] = None,
    booking: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    error: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
) -> Response:
    principal = page_principal(request, session, "citizen")
    bookings = service.bookings_of_user(session, principal.id)
    return civil_render(
        request,
        "reservations/mine.html",
        principal=principal,
        bookings=bookings,
        pay_urls=service.pay_urls(session, [b for b, _, _ in bookings]),
        waiting=[
            (w, s, f, service.waitlist_position(session, w))
            for w, s, f in service.waitlist_of_user(session, principal.id)
        ],
        done=done or "",
        focus=booking,
        error=error or "",
        key=secrets.token_urlsafe(12),
    )


@router.post("/reservations/bookings/{booking_id}/cancel")
async def cancel_submit(
    booking_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
) -> Response:
    principal = await run_in_threadpool(page_principal, request, session, "citizen")
    await check_csrf(request)
    try:
        outcome = await run_in_threadpool(
            lambda: service.cancel(session, platform.settings, booking_id, user_id=principal.id)
        )
    except (BookingRefused, PaymentError) as error:
        await run_in_threadpool(session.rollback)
        rule = error.rule if isinstance(error, BookingRefused) else error.code
        return RedirectResponse(f"/reservations/mine?error={rule}", status_code=303)
    await run_in_threadpool(session.commit)
    for event in outcome.events:
        await platform.bus.publish(event)
    return RedirectResponse("/reservations/mine?done=cancelled", status_code=303)


# ---------------------------------------------------------------- staff


@router.get("/console/reservations")
def admin_page(
    request: Request, session: Session = Depends(db_session), error: str = "", done: str = ""
) -> Response:
    principal = page_principal(request, session, *STAFF)
    district = None if "admin" in principal.roles else principal.district_code
    return render(
        request,
        "reservations/admin.html",
        principal=principal,
        facilities=service.list_facilities(session, district=district),
        districts=_districts(request, session),
        kinds=FACILITY_KINDS,
        error=error[:40],
        done=done[:40],
        today=datetime.now(SEOUL).date().isoformat(),
    )


@router.post("/console/reservations/facilities")
async def admin_add_facility(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = await run_in_threadpool(page_principal, request, session, *STAFF)
    await check_csrf(request)
    form = await request.form()
    numbers = {}
    for name in (
        "capacity",
        "book_ahead_days",
        "weekly_limit",
        "cancel_deadline_hours",
        "fee_krw",
        "no_show_limit",
    ):
        raw = _form_text(form, name, 12)
        if not raw.isdigit():
            return RedirectResponse(f"/console/reservations?error={name}", status_code=303)
        numbers[name] = int(raw)
    draft = service.FacilityDraft(
        code=_form_text(form, "code", 32),
        name_ko=_form_text(form, "name_ko", 200),
        name_en=_form_text(form, "name_en", 200),
        kind=_form_text(form, "kind", 16),
        district_code=_form_text(form, "district_code", 5),
        who_may_book=_form_text(form, "who_may_book", 16),
        address=_form_text(form, "address", 300),
        **numbers,
    )
    if "admin" not in principal.roles and draft.district_code != principal.district_code:
        return RedirectResponse("/console/reservations?error=district_code", status_code=303)

    def work() -> None:
        made = service.add_facility(session, draft)
        audit.record(
            session,
            actor=principal.name,
            action="reservations.facility.add",
            target=made.code,
            client=client_address(request),
        )

    try:
        await run_in_threadpool(work)
    except BookingRefused as error:
        return RedirectResponse(f"/console/reservations?error={error.field}", status_code=303)
    return RedirectResponse("/console/reservations?done=facility", status_code=303)


@router.post("/console/reservations/facilities/{facility_id}/slots")
async def admin_add_slots(
    facility_id: Id, request: Request, session: Session = Depends(db_session)
) -> Response:
    principal = await run_in_threadpool(page_principal, request, session, *STAFF)
    await check_csrf(request)
    form = await request.form()
    try:
        day = date.fromisoformat(_form_text(form, "day", 10))
        first, last = int(_form_text(form, "first_hour", 2)), int(_form_text(form, "last_hour", 2))
    except ValueError:
        return RedirectResponse("/console/reservations?error=day", status_code=303)
    if not 0 <= first <= last <= 23:
        return RedirectResponse("/console/reservations?error=hours", status_code=303)

    def work() -> None:
        facility = service.get_facility(session, facility_id)
        if "admin" not in principal.roles and facility.district_code != principal.district_code:
            raise BookingRefused("forbidden", "another district", "district_code", 403)
        service.add_slots(session, facility, day, list(range(first, last + 1)))

    try:
        await run_in_threadpool(work)
    except BookingRefused as error:
        return RedirectResponse(f"/console/reservations?error={error.field}", status_code=303)
    return RedirectResponse("/console/reservations?done=slots", status_code=303)


@router.get("/console/reservations/attendance")
def attendance_page(
    request: Request,
    session: Session = Depends(db_session),
    day: Annotated[date | None, Query(alias="date")] = None,
    error: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
) -> Response:
    principal = page_principal(request, session, *STAFF)
    chosen = day or datetime.now(SEOUL).date()
    district = None if "admin" in principal.roles else principal.district_code
    rows = service.attendance_list(session, district=district, day=chosen)
    audit.record(
        session,
        actor=principal.name,
        action="reservations.attendance.read",
        target=f"{chosen.isoformat()} {district or 'all'}",
        client=client_address(request),
        details={"rows": len(rows)},
    )
    return render(
        request, "reservations/attendance.html", principal=principal, rows=rows, day=chosen, error=error or ""
    )


@router.post("/console/reservations/bookings/{booking_id}/attendance")
async def attendance_submit(
    booking_id: Id, request: Request, session: Session = Depends(db_session)
) -> Response:
    principal = await run_in_threadpool(page_principal, request, session, *STAFF)
    await check_csrf(request)
    form = await request.form()
    attended = _form_text(form, "attended", 5) == "yes"
    day = _form_text(form, "day", 10)

    def work() -> None:
        facility = service.get_facility(session, service.get_booking(session, booking_id).facility_id)
        if "admin" not in principal.roles and facility.district_code != principal.district_code:
            raise BookingRefused("unknown_booking", "another district's booking", "booking_id", 404)
        service.mark_attendance(session, booking_id, attended=attended)
        audit.record(
            session,
            actor=principal.name,
            action="reservations.attendance.mark",
            target=f"booking:{booking_id}",
            client=client_address(request),
            details={"attended": attended},
        )

    try:
        await run_in_threadpool(work)
    except BookingRefused as error:
        return RedirectResponse(
            f"/console/reservations/attendance?date={day}&error={error.rule}", status_code=303
        )
    return RedirectResponse(f"/console/reservations/attendance?date={day}", status_code=303)
