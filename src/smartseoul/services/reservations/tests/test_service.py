"""Booking rules, waitlist, cancellation and no-shows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.core.settings import Settings
from smartseoul.services.payments import service as payments
from smartseoul.services.payments.provider import provider_for
from smartseoul.services.reservations import service
from smartseoul.services.reservations.models import Quota, Slot
from smartseoul.services.reservations.service import BookingRefused
from smartseoul.services.reservations.tests.helpers import NOWON, citizen, facility, slots


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def book(db: Session, settings: Settings, user: int, slot_id: int, key: str | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return service.book(
        db, settings, user_id=user, district="11230", slot_id=slot_id, idempotency_key=key, **kw
    )  # type: ignore[arg-type]


def refused(rule: str, call: object) -> BookingRefused:
    with pytest.raises(BookingRefused) as caught:
        call()  # type: ignore[operator]
    assert caught.value.rule == rule, caught.value
    return caught.value


def test_a_free_facility_books_at_once_and_a_full_slot_refuses_the_next_person(
    db: Session, settings: Settings
) -> None:
    court = facility(db)
    first, *_ = slots(db, court)
    kim, lee = citizen(db, "kim.booker"), citizen(db, "lee.booker")
    made = book(db, settings, kim, first.id)
    assert made.booking.state == "confirmed"
    assert made.payment is None
    refused("slot_full", lambda: book(db, settings, lee, first.id))
    db.refresh(first)
    assert first.booked == 1


def test_the_same_idempotency_key_is_one_booking_and_the_same_person_cannot_take_two_seats(
    db: Session, settings: Settings
) -> None:
    hall = facility(db, kind="class", capacity=5)
    first, *_ = slots(db, hall)
    kim = citizen(db, "kim.double")
    one = book(db, settings, kim, first.id, "click-1")
    two = book(db, settings, kim, first.id, "click-1")
    assert one.booking.id == two.booking.id
    refused("already_booked", lambda: book(db, settings, kim, first.id, "click-2"))
    db.refresh(first)
    assert first.booked == 1


def test_each_rule_refuses_with_its_name(db: Session, settings: Settings) -> None:
    court = facility(db, who_may_book="residents", book_ahead_days=2, weekly_limit=1)
    near = slots(db, court, days_ahead=1, hours=(9, 10))
    far = slots(db, court, days_ahead=5, hours=(9,))
    kim = citizen(db, "kim.rules")
    outsider = citizen(db, "park.nowon", NOWON)
    refused("book_ahead_days", lambda: book(db, settings, kim, far[0].id))
    refused(
        "residents_only",
        lambda: service.book(
            db, settings, user_id=outsider, district=NOWON, slot_id=near[0].id, idempotency_key=None
        ),
    )
    book(db, settings, kim, near[0].id)
    error = refused("weekly_limit", lambda: book(db, settings, kim, near[1].id))
    assert "1" in str(error)
    later = datetime.now(service.SEOUL) + timedelta(days=10)
    refused("slot_in_past", lambda: book(db, settings, kim, near[1].id, now=later))


def test_cancelling_frees_the_seat_and_the_allowance_and_promotes_the_waitlist(
    db: Session, settings: Settings
) -> None:
    court = facility(db, weekly_limit=1)
    first, second, _ = slots(db, court)
    kim, lee = citizen(db, "kim.cancel"), citizen(db, "lee.waits")
    mine = book(db, settings, kim, first.id).booking
    entry = service.join_waitlist(db, settings, user_id=lee, district="11230", slot_id=first.id)
    assert service.waitlist_position(db, entry) == 1
    service.cancel(db, settings, mine.id, user_id=kim)
    db.refresh(entry)
    assert mine.state == "cancelled"
    assert entry.state == "promoted"
    promoted = service.get_booking(db, entry.booking_id or 0)
    assert promoted.user_id == lee
    assert promoted.state == "confirmed"
    assert promoted.from_waitlist
    # kim's weekly allowance came back with the cancellation
    assert book(db, settings, kim, second.id).booking.state == "confirmed"
    assert db.scalar(select(Quota.used).where(Quota.user_id == kim)) == 1


def test_cancellation_deadline_binds_the_citizen_not_staff(db: Session, settings: Settings) -> None:
    court = facility(db, cancel_deadline_hours=24)
    soon = slots(db, court, days_ahead=0, hours=(23,))[0]
    kim = citizen(db, "kim.late")
    now = soon.starts_at - timedelta(hours=3)
    booking = book(db, settings, kim, soon.id, now=now).booking
    refused("cancel_deadline", lambda: service.cancel(db, settings, booking.id, user_id=kim, now=now))
    assert service.cancel(db, settings, booking.id, user_id=None, now=now).booking.state == "cancelled"


def test_no_shows_past_the_limit_refuse_new_bookings(db: Session, settings: Settings) -> None:
    court = facility(db, no_show_limit=2, weekly_limit=5)
    booked = slots(db, court, days_ahead=1, hours=(8, 9, 10))
    kim = citizen(db, "kim.noshow")
    before = booked[0].starts_at - timedelta(days=1)
    after = booked[1].starts_at + timedelta(minutes=30)
    for slot in booked[:2]:
        booking = book(db, settings, kim, slot.id, now=before).booking
        refused(
            "not_started", lambda b=booking: service.mark_attendance(db, b.id, attended=False, now=before)
        )
        service.mark_attendance(db, booking.id, attended=False, now=after)
    refused("no_show_limit", lambda: book(db, settings, kim, booked[2].id, now=after))


def test_a_fee_holds_the_seat_until_the_payment_is_captured(db: Session, settings: Settings) -> None:
    hall = facility(db, kind="hall", fee_krw=12_000)
    first, *_ = slots(db, hall)
    kim = citizen(db, "kim.pays")
    made = book(db, settings, kim, first.id, "pay-1")
    assert made.booking.state == "held"
    assert made.payment is not None
    assert made.payment.amount_krw == 12_000
    assert made.payment.redirect_url.startswith("/pay/sim/")
    provider = provider_for(settings)
    body, signature = provider.authorise(db, made.payment.provider_ref, approve=True)
    outcome = payments.handle_callback(db, settings, body, signature)
    assert outcome.payment.state == "captured"
    assert len(outcome.events) == 1
    service.confirm_paid(db, settings, outcome.payment.id, outcome.payment.reference)
    db.refresh(made.booking)
    assert made.booking.state == "confirmed"
    cancelled = service.cancel(db, settings, made.booking.id, user_id=kim)
    assert cancelled.payment is not None
    assert cancelled.payment.state == "refunded"
    assert cancelled.payment.refunded_krw == 12_000


def test_an_unpaid_hold_expires_and_frees_the_seat_but_a_late_capture_is_refunded(
    db: Session, settings: Settings
) -> None:
    hall = facility(db, kind="hall", fee_krw=5_000, capacity=1)
    first, second, _ = slots(db, hall)
    kim, lee = citizen(db, "kim.slow"), citizen(db, "lee.slow")
    held = book(db, settings, kim, first.id).booking
    later = utcnow_plus(minutes=settings.reservations_hold_minutes + 1)
    service.expire_holds(db, settings, now=later)
    db.refresh(held)
    assert held.state == "expired"
    assert db.get(Slot, first.id).booked == 0  # type: ignore[union-attr]
    payment = payments.get_payment(db, held.payment_id or 0)
    assert payment.state == "cancelled"
    # a second booking whose capture races the expiry: captured wins, the booking is confirmed
    other = book(db, settings, lee, second.id)
    provider_for(settings).authorise(db, other.payment.provider_ref, approve=True)
    service.expire_holds(db, settings, now=later)
    db.refresh(other.booking)
    assert other.booking.state == "confirmed"
    assert payments.get_payment(db, other.booking.payment_id or 0).state == "captured"


def utcnow_plus(**delta: float) -> datetime:
    from smartseoul.core.db import utcnow

    return utcnow() + timedelta(**delta)


def test_double_bookings_counts_seats_sold_beyond_capacity(db: Session, settings: Settings) -> None:
    court = facility(db)
    first, *_ = slots(db, court)
    kim = citizen(db, "kim.count")
    book(db, settings, kim, first.id)
    assert service.double_bookings(db) == 0
