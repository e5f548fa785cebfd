"""Reservations: book, hold-and-pay, cancel, waitlist, no-shows; no double booking under any concurrency.

Every seat and every weekly allowance is claimed by one conditional UPDATE in the booking's
transaction (see :mod:`.models`); the rule checks before it only read data that does not race
(the facility's rules, the clock, the person's district). A refusal names the rule that refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.settings import Settings
from smartseoul.services.payments import service as payments
from smartseoul.services.reservations.events import BookingEnded, BookingMade
from smartseoul.services.reservations.models import (
    FACILITY_KINDS,
    SEAT_STATES,
    WHO_MAY_BOOK,
    Booking,
    Facility,
    Quota,
    Slot,
    WaitlistEntry,
)

SEOUL = ZoneInfo("Asia/Seoul")


def affected(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed: how a conditional UPDATE tells the one transaction that won."""
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount)


class BookingRefused(ValueError):
    """A booking or change a rule forbids; ``rule`` names it (shown to the citizen and in the API)."""

    def __init__(self, rule: str, message: str, field: str = "slot_id", status: int = 409) -> None:
        super().__init__(message)
        self.rule, self.field, self.status = rule, field, status


@dataclass
class BookingOutcome:
    booking: Booking
    payment: Any | None = None
    events: list[Event] = field(default_factory=list)


def week_of(moment: datetime) -> date:
    """The Monday (Seoul calendar) of the week a slot falls in: the unit of the weekly limit."""
    local = moment.astimezone(SEOUL).date()
    return local - timedelta(days=local.weekday())


# ---------------------------------------------------------------- facilities and slots


@dataclass
class FacilityDraft:
    code: str
    name_ko: str
    name_en: str
    kind: str
    district_code: str
    capacity: int = 1
    who_may_book: str = "anyone"
    book_ahead_days: int = 14
    weekly_limit: int = 2
    cancel_deadline_hours: int = 24
    fee_krw: int = 0
    no_show_limit: int = 3
    address: str = ""
    lat: float | None = None
    lon: float | None = None


def check_draft(draft: FacilityDraft) -> None:
    """Refuse a facility whose rules make no sense, naming the field."""
    checks: list[tuple[bool, str, str]] = [
        (1 <= len(draft.code) <= 32, "code", "code must be 1-32 characters"),
        (
            bool(draft.name_ko.strip()) and len(draft.name_ko) <= 200,
            "name_ko",
            "name_ko must be 1-200 characters",
        ),
        (
            bool(draft.name_en.strip()) and len(draft.name_en) <= 200,
            "name_en",
            "name_en must be 1-200 characters",
        ),
        (draft.kind in FACILITY_KINDS, "kind", f"kind must be one of {', '.join(FACILITY_KINDS)}"),
        (len(draft.district_code) == 5 and draft.district_code.isdigit(), "district_code", "a 5-digit code"),
        (1 <= draft.capacity <= 1000, "capacity", "capacity must be 1..1000"),
        (draft.who_may_book in WHO_MAY_BOOK, "who_may_book", "who_may_book is anyone or residents"),
        (1 <= draft.book_ahead_days <= 365, "book_ahead_days", "book_ahead_days must be 1..365"),
        (1 <= draft.weekly_limit <= 50, "weekly_limit", "weekly_limit must be 1..50"),
        (0 <= draft.cancel_deadline_hours <= 720, "cancel_deadline_hours", "0..720 hours"),
        (0 <= draft.fee_krw <= 10_000_000, "fee_krw", "fee_krw must be 0..10,000,000 won"),
        (1 <= draft.no_show_limit <= 100, "no_show_limit", "no_show_limit must be 1..100"),
    ]
    for ok, name, message in checks:
        if not ok:
            raise BookingRefused("invalid_facility", message, name, 422)


def add_facility(session: Session, draft: FacilityDraft) -> Facility:
    check_draft(draft)
    if session.scalar(select(Facility.id).where(Facility.code == draft.code)) is not None:
        raise BookingRefused("duplicate_code", f"a facility {draft.code} exists", "code", 409)
    facility = Facility(**draft.__dict__, created_at=utcnow())
    session.add(facility)
    session.flush()
    return facility


def add_slots(
    session: Session, facility: Facility, day: date, hours: list[int], minutes: int = 60
) -> list[Slot]:
    """Open one slot per start hour (Seoul time) of ``day``; an existing slot is kept as it is."""
    made = []
    for hour in hours:
        start = datetime(day.year, day.month, day.day, hour, tzinfo=SEOUL).astimezone(SEOUL)
        exists = session.scalar(
            select(Slot.id).where(Slot.facility_id == facility.id, Slot.starts_at == start)
        )
        if exists is not None:
            continue
        slot = Slot(
            facility_id=facility.id,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            capacity=facility.capacity,
            booked=0,
        )
        session.add(slot)
        made.append(slot)
    session.flush()
    return made


def get_facility(session: Session, facility_id: int) -> Facility:
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise BookingRefused("unknown_facility", f"no facility {facility_id}", "facility_id", 404)
    return facility


def list_facilities(
    session: Session, *, district: str | None = None, kind: str | None = None, query: str | None = None
) -> list[Facility]:
    stmt = select(Facility).where(Facility.active.is_(True))
    if district:
        stmt = stmt.where(Facility.district_code == district)
    if kind:
        stmt = stmt.where(Facility.kind == kind)
    if query:
        like = f"%{query.strip()[:60]}%"
        stmt = stmt.where(Facility.name_ko.ilike(like) | Facility.name_en.ilike(like))
    return list(session.scalars(stmt.order_by(Facility.district_code, Facility.name_ko)))


def open_slots(session: Session, facility: Facility, now: datetime | None = None) -> list[Slot]:
    """Slots from now to the facility's booking horizon (full ones too, to join the waitlist)."""
    now = now or utcnow()
    horizon = now + timedelta(days=facility.book_ahead_days)
    return list(
        session.scalars(
            select(Slot)
            .where(Slot.facility_id == facility.id, Slot.starts_at > now, Slot.starts_at <= horizon)
            .order_by(Slot.starts_at)
        )
    )


# ---------------------------------------------------------------- booking


def _check_rules(
    session: Session,
    settings: Settings,
    facility: Facility,
    slot: Slot,
    user_id: int,
    district: str | None,
    now: datetime,
) -> None:
    """The rules that need no lock: open facility, time window, residency, no-show record."""
    if not facility.active:
        raise BookingRefused("facility_closed", "this facility takes no bookings now")
    if slot.starts_at <= now:
        raise BookingRefused("slot_in_past", "this slot has already started")
    if slot.starts_at > now + timedelta(days=facility.book_ahead_days):
        raise BookingRefused(
            "book_ahead_days", f"this facility takes bookings at most {facility.book_ahead_days} days ahead"
        )
    if facility.who_may_book == "residents" and district != facility.district_code:
        raise BookingRefused("residents_only", "only residents of the facility's district may book it")
    since = now - timedelta(days=settings.reservations_no_show_window_days)
    no_shows = session.scalar(
        select(func.count(Booking.id)).where(
            Booking.user_id == user_id, Booking.state == "no_show", Booking.updated_at >= since
        )
    )
    if (no_shows or 0) >= facility.no_show_limit:
        raise BookingRefused(
            "no_show_limit",
            f"{no_shows} no-shows in {settings.reservations_no_show_window_days} days; the limit is "
            f"{facility.no_show_limit}",
        )


def _claim_seat(session: Session, slot_id: int) -> bool:
    """Take one seat if one is free: atomic on both engines (see models)."""
    return bool(
        affected(
            session,
            update(Slot)
            .where(Slot.id == slot_id, Slot.booked < Slot.capacity)
            .values(booked=Slot.booked + 1)
            .execution_options(synchronize_session=False),
        )
    )


def _release_seat(session: Session, slot_id: int) -> None:
    session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )


def _claim_quota(session: Session, user_id: int, facility: Facility, week: date) -> bool:
    """Count one booking against the person's weekly limit, atomically (insert-if-missing + UPDATE)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Quota)
        .values(user_id=user_id, facility_id=facility.id, week_start=week, used=0)
        .on_conflict_do_nothing()
    )
    return bool(
        affected(
            session,
            update(Quota)
            .where(
                Quota.user_id == user_id,
                Quota.facility_id == facility.id,
                Quota.week_start == week,
                Quota.used < facility.weekly_limit,
            )
            .values(used=Quota.used + 1)
            .execution_options(synchronize_session=False),
        )
    )


def _release_quota(session: Session, booking: Booking) -> None:
    session.execute(
        update(Quota)
        .where(
            Quota.user_id == booking.user_id,
            Quota.facility_id == booking.facility_id,
            Quota.week_start == booking.week_start,
            Quota.used > 0,
        )
        .values(used=Quota.used - 1)
        .execution_options(synchronize_session=False)
    )


def _by_key(session: Session, user_id: int, key: str | None) -> Booking | None:
    if not key:
        return None
    return session.scalar(select(Booking).where(Booking.user_id == user_id, Booking.idempotency_key == key))


def _load_slot(session: Session, slot_id: int) -> tuple[Slot, Facility]:
    slot = session.get(Slot, slot_id, populate_existing=True)
    if slot is None:
        raise BookingRefused("unknown_slot", f"no slot {slot_id}", "slot_id", 404)
    return slot, get_facility(session, slot.facility_id)


def book(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    district: str | None,
    slot_id: int,
    idempotency_key: str | None,
    now: datetime | None = None,
    from_waitlist: bool = False,
) -> BookingOutcome:
    """Book a seat; with a fee the seat is held and a payment opened. The caller commits.

    Refusals raise :class:`BookingRefused` naming the rule; the same ``idempotency_key`` returns
    the booking already made (a double click or a retried request books once).
    """
    now = now or utcnow()
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 100:
        raise BookingRefused(
            "invalid_idempotency_key", "Idempotency-Key must be 1-100 characters", "idempotency_key", 422
        )
    done = _by_key(session, user_id, idempotency_key)
    if done is not None:
        return BookingOutcome(done, _payment_of(session, done))
    slot, facility = _load_slot(session, slot_id)
    _check_rules(session, settings, facility, slot, user_id, district, now)
    week = week_of(slot.starts_at)
    booking = Booking(
        slot_id=slot.id,
        facility_id=facility.id,
        user_id=user_id,
        active_slot_id=slot.id,
        state="held" if facility.fee_krw else "confirmed",
        week_start=week,
        fee_krw=facility.fee_krw,
        idempotency_key=idempotency_key,
        hold_expires_at=now + timedelta(minutes=settings.reservations_hold_minutes)
        if facility.fee_krw
        else None,
        from_waitlist=from_waitlist,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            if not _claim_seat(session, slot.id):
                raise BookingRefused(
                    "slot_full", "every seat of this slot is taken; you may join the waitlist"
                )
            if not _claim_quota(session, user_id, facility, week):
                raise BookingRefused(
                    "weekly_limit",
                    f"at most {facility.weekly_limit} bookings a week at this facility per person",
                )
            session.add(booking)
    except IntegrityError:
        again = _by_key(session, user_id, idempotency_key)
        if again is not None:
            return BookingOutcome(again, _payment_of(session, again))
        raise BookingRefused("already_booked", "you already hold a seat in this slot") from None
    payment = _open_payment(session, settings, booking, facility) if facility.fee_krw else None
    made = BookingMade(
        booking_id=booking.id,
        facility_id=facility.id,
        slot_id=slot.id,
        state=booking.state,
        from_waitlist=from_waitlist,
    )
    return BookingOutcome(booking, payment, [made])


def _open_payment(session: Session, settings: Settings, booking: Booking, facility: Facility) -> Any:
    payment = payments.start_payment(
        session,
        settings,
        user_id=booking.user_id,
        amount_krw=facility.fee_krw,
        purpose=f"{facility.name_ko} ({facility.code})",
        reference=f"reservation:{booking.id}",
        idempotency_key=f"reservation-{booking.id}",
        return_url=f"/reservations/bookings/{booking.id}/return",
    )
    booking.payment_id = payment.id
    session.flush()
    return payment


def _payment_of(session: Session, booking: Booking) -> Any | None:
    return payments.get_payment(session, booking.payment_id) if booking.payment_id else None


def get_booking(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise BookingRefused("unknown_booking", f"no booking {booking_id}", "booking_id", 404)
    return booking


def _ended(booking: Booking, reason: str) -> BookingEnded:
    return BookingEnded(
        booking_id=booking.id, facility_id=booking.facility_id, slot_id=booking.slot_id, reason=reason
    )


def _end(session: Session, booking: Booking, to: str, from_states: tuple[str, ...], now: datetime) -> bool:
    """Move a booking out of its seat exactly once (a conditional UPDATE), freeing seat and allowance."""
    changed = affected(
        session,
        update(Booking)
        .where(Booking.id == booking.id, Booking.state.in_(from_states))
        .values(state=to, active_slot_id=None, updated_at=now)
        .execution_options(synchronize_session=False),
    )
    session.refresh(booking)
    if changed:
        _release_seat(session, booking.slot_id)
        _release_quota(session, booking)
    return bool(changed)


def cancel(
    session: Session, settings: Settings, booking_id: int, *, user_id: int | None, now: datetime | None = None
) -> BookingOutcome:
    """Cancel (the citizen before the deadline, or staff any time): refund, free the seat, promote."""
    now = now or utcnow()
    booking = get_booking(session, booking_id)
    if user_id is not None and booking.user_id != user_id:
        raise BookingRefused("unknown_booking", f"no booking {booking_id}", "booking_id", 404)
    if booking.state not in ("held", "confirmed"):
        if booking.state == "cancelled":
            return BookingOutcome(booking, _payment_of(session, booking))
        raise BookingRefused(
            "not_cancellable", f"a {booking.state} booking cannot be cancelled", "booking_id"
        )
    slot, facility = _load_slot(session, booking.slot_id)
    deadline = slot.starts_at - timedelta(hours=facility.cancel_deadline_hours)
    if user_id is not None and now > deadline:
        raise BookingRefused(
            "cancel_deadline",
            f"bookings here can be cancelled until {facility.cancel_deadline_hours} h before the start",
            "booking_id",
        )
    events: list[Event] = []
    if _end(session, booking, "cancelled", ("held", "confirmed"), now):
        events.append(_ended(booking, "cancelled"))
        events.extend(_settle_money(session, settings, booking, f"cancel-{booking.id}"))
        events.extend(promote_waitlist(session, settings, slot.id, now=now))
    return BookingOutcome(booking, _payment_of(session, booking), events)


def _settle_money(session: Session, settings: Settings, booking: Booking, key: str) -> list[Event]:
    """A booking that gave up its seat: void an open payment, refund a captured one in full."""
    if booking.payment_id is None:
        return []
    payment = payments.cancel(session, settings, booking.payment_id)
    left = payment.captured_krw - payment.refunded_krw
    if payment.state == "captured" and left > 0:
        return payments.refund(
            session, settings, payment.id, amount_krw=left, idempotency_key=key, reason="booking cancelled"
        ).events
    return []


def confirm_paid(session: Session, settings: Settings, payment_id: int, reference: str) -> list[Event]:
    """The payment of ``reference`` was captured: confirm the held booking, or refund if too late."""
    kind, _, raw_id = reference.partition(":")
    if kind != "reservation" or not raw_id.isdigit():
        return []
    booking = session.get(Booking, int(raw_id))
    if booking is None or booking.payment_id != payment_id:
        return []
    changed = affected(
        session,
        update(Booking)
        .where(Booking.id == booking.id, Booking.state == "held")
        .values(state="confirmed", hold_expires_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    session.refresh(booking)
    if changed or booking.state in SEAT_STATES:
        return []
    return _settle_money(session, settings, booking, f"late-{booking.id}")


def sync_payment(session: Session, settings: Settings, booking: Booking) -> list[Event]:
    """On return from the payment page, or in the sweep: finish a capture whose callback was lost."""
    if booking.payment_id is None or booking.state != "held":
        return []
    payment = payments.get_payment(session, booking.payment_id)
    events = payments.ask_provider_now(session, settings, payment)
    if payment.state == "captured":
        events.extend(confirm_paid(session, settings, payment.id, payment.reference))
    return events


def expire_holds(session: Session, settings: Settings, now: datetime | None = None) -> list[Event]:
    """Free the seats of unpaid holds past their time (a payment captured meanwhile confirms instead)."""
    now = now or utcnow()
    events: list[Event] = []
    due = session.scalars(
        select(Booking)
        .where(Booking.state == "held", Booking.hold_expires_at < now)
        .order_by(Booking.id)
        .limit(500)
    ).all()
    for booking in due:
        events.extend(sync_payment(session, settings, booking))
        if booking.state != "held":
            continue
        if booking.payment_id is not None:
            payment = payments.cancel(session, settings, booking.payment_id)
            if payment.state == "captured":
                events.extend(confirm_paid(session, settings, payment.id, payment.reference))
                continue
        if _end(session, booking, "expired", ("held",), now):
            events.append(_ended(booking, "expired"))
            events.extend(promote_waitlist(session, settings, booking.slot_id, now=now))
    return events


# ---------------------------------------------------------------- waitlist


def join_waitlist(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    district: str | None,
    slot_id: int,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Wait for a seat of a full slot; the same rules apply as to booking it."""
    now = now or utcnow()
    slot, facility = _load_slot(session, slot_id)
    _check_rules(session, settings, facility, slot, user_id, district, now)
    if slot.booked < slot.capacity:
        raise BookingRefused("slot_not_full", "this slot has free seats: book it instead")
    entry = WaitlistEntry(
        slot_id=slot.id, user_id=user_id, active_slot_id=slot.id, state="waiting", created_at=now
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        raise BookingRefused("already_waiting", "you are already on this slot's waitlist") from None
    return entry


def waitlist_position(session: Session, entry: WaitlistEntry) -> int:
    return 1 + int(
        session.scalar(
            select(func.count(WaitlistEntry.id)).where(
                WaitlistEntry.slot_id == entry.slot_id,
                WaitlistEntry.state == "waiting",
                WaitlistEntry.id < entry.id,
            )
        )
        or 0
    )


def promote_waitlist(
    session: Session, settings: Settings, slot_id: int, now: datetime | None = None
) -> list[Event]:
    """Give freed seats to the first people waiting who still pass the rules (others are skipped)."""
    now = now or utcnow()
    from smartseoul.core.models import User

    events: list[Event] = []
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.state == "waiting")
        .order_by(WaitlistEntry.id)
    ).all()
    for entry in waiting:
        slot = session.get(Slot, slot_id)
        if slot is None:
            break
        session.refresh(slot)
        if slot.booked >= slot.capacity:
            break
        user = session.get(User, entry.user_id)
        try:
            outcome = book(
                session,
                settings,
                user_id=entry.user_id,
                district=user.district_code if user else None,
                slot_id=slot_id,
                idempotency_key=f"waitlist-{entry.id}",
                now=now,
                from_waitlist=True,
            )
            entry.state, entry.booking_id = "promoted", outcome.booking.id
            events.extend(outcome.events)
        except BookingRefused as refused:
            if refused.rule == "slot_full":
                break
            entry.state = "skipped"
        entry.active_slot_id = None
        session.flush()
    return events


def leave_waitlist(session: Session, entry_id: int, user_id: int) -> None:
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.user_id != user_id:
        raise BookingRefused("unknown_entry", f"no waitlist entry {entry_id}", "entry_id", 404)
    if entry.state == "waiting":
        entry.state, entry.active_slot_id = "left", None
        session.flush()


# ---------------------------------------------------------------- staff


def mark_attendance(
    session: Session, booking_id: int, *, attended: bool, now: datetime | None = None
) -> Booking:
    """Staff record after the start whether the person came; a no-show counts toward the limit."""
    now = now or utcnow()
    booking = get_booking(session, booking_id)
    slot = session.get(Slot, booking.slot_id)
    if slot is None or slot.starts_at > now:
        raise BookingRefused(
            "not_started", "attendance can be marked once the slot has started", "booking_id"
        )
    if booking.state not in ("confirmed", "no_show", "attended"):
        raise BookingRefused("not_confirmed", f"a {booking.state} booking has no attendance", "booking_id")
    booking.state, booking.updated_at = ("attended" if attended else "no_show"), now
    session.flush()
    return booking


def bookings_of_user(session: Session, user_id: int) -> list[tuple[Booking, Slot, Facility]]:
    rows = session.execute(
        select(Booking, Slot, Facility)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Facility, Facility.id == Booking.facility_id)
        .where(Booking.user_id == user_id)
        .order_by(Slot.starts_at.desc())
        .limit(200)
    ).all()
    return [(b, s, f) for b, s, f in rows]


def pay_urls(session: Session, bookings: list[Booking]) -> dict[int, str]:
    """Where each held booking is paid (a waitlist promotion arrives held, with its payment open)."""
    urls = {}
    for booking in bookings:
        if booking.state == "held" and booking.payment_id is not None:
            payment = payments.get_payment(session, booking.payment_id)
            if payment.state in payments.OPEN_STATES:
                urls[booking.id] = payment.redirect_url
    return urls


def waitlist_of_user(session: Session, user_id: int) -> list[tuple[WaitlistEntry, Slot, Facility]]:
    rows = session.execute(
        select(WaitlistEntry, Slot, Facility)
        .join(Slot, Slot.id == WaitlistEntry.slot_id)
        .join(Facility, Facility.id == Slot.facility_id)
        .where(WaitlistEntry.user_id == user_id, WaitlistEntry.state == "waiting")
        .order_by(Slot.starts_at)
    ).all()
    return [(w, s, f) for w, s, f in rows]


def attendance_list(session: Session, *, district: str | None, day: date) -> list[dict[str, Any]]:
    """Confirmed and marked bookings of a Seoul day (for staff to mark no-shows); personal data."""
    from smartseoul.core.models import User

    start = datetime(day.year, day.month, day.day, tzinfo=SEOUL)
    stmt = (
        select(Booking, Slot, Facility, User.username)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Facility, Facility.id == Booking.facility_id)
        .join(User, User.id == Booking.user_id)
        .where(
            Slot.starts_at >= start,
            Slot.starts_at < start + timedelta(days=1),
            Booking.state.in_(("confirmed", "no_show", "attended")),
        )
        .order_by(Slot.starts_at, Facility.name_ko)
    )
    if district:
        stmt = stmt.where(Facility.district_code == district)
    return [
        {**booking_dict(b, s, f), "username": name}
        for b, s, f, name in session.execute(stmt.limit(1000)).all()
    ]


def double_bookings(session: Session, slot_ids: list[int] | None = None) -> int:
    """Seats sold beyond capacity, counted from the bookings themselves (must always be 0)."""
    seated = select(Booking.slot_id, func.count(Booking.id).label("n")).where(Booking.state.in_(SEAT_STATES))
    if slot_ids is not None:
        seated = seated.where(Booking.slot_id.in_(slot_ids))
    held = seated.group_by(Booking.slot_id).subquery()
    over = session.execute(
        select(func.coalesce(func.sum(held.c.n - Slot.capacity), 0))
        .select_from(held)
        .join(Slot, Slot.id == held.c.slot_id)
        .where(held.c.n > Slot.capacity)
    ).scalar()
    return int(over or 0)


# ---------------------------------------------------------------- views


def facility_dict(facility: Facility) -> dict[str, Any]:
    return {
        "id": facility.id,
        "code": facility.code,
        "name_ko": facility.name_ko,
        "name_en": facility.name_en,
        "kind": facility.kind,
        "district_code": facility.district_code,
        "address": facility.address,
        "lat": facility.lat,
        "lon": facility.lon,
        "capacity": facility.capacity,
        "rules": {
            "who_may_book": facility.who_may_book,
            "book_ahead_days": facility.book_ahead_days,
            "weekly_limit": facility.weekly_limit,
            "cancel_deadline_hours": facility.cancel_deadline_hours,
            "fee_krw": facility.fee_krw,
            "no_show_limit": facility.no_show_limit,
        },
    }


def slot_dict(slot: Slot) -> dict[str, Any]:
    return {
        "id": slot.id,
        "facility_id": slot.facility_id,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "capacity": slot.capacity,
        "free": slot.capacity - slot.booked,
    }


def booking_dict(
    booking: Booking, slot: Slot | None = None, facility: Facility | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": booking.id,
        "slot_id": booking.slot_id,
        "facility_id": booking.facility_id,
        "state": booking.state,
        "fee_krw": booking.fee_krw,
        "payment_id": booking.payment_id,
        "hold_expires_at": booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        "from_waitlist": booking.from_waitlist,
        "created_at": booking.created_at.isoformat(),
    }
    if slot is not None:
        body["starts_at"], body["ends_at"] = slot.starts_at.isoformat(), slot.ends_at.isoformat()
    if facility is not None:
        body["facility_name_ko"], body["facility_name_en"] = facility.name_ko, facility.name_en
    return body
