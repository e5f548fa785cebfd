"""Tables of the reservations domain.

No double booking rests on the database, on both engines:

- ``reservations_slots.booked`` only moves by a conditional ``UPDATE ... SET booked = booked + 1
  WHERE booked < capacity`` (PostgreSQL re-checks the condition after waiting for the row lock;
  SQLite runs writers one at a time), and a CHECK keeps ``0 <= booked <= capacity`` whatever code runs;
- ``reservations_quotas.used`` (bookings per person, facility and week) moves the same way;
- ``reservations_bookings`` is unique on ``(user_id, active_slot_id)``: ``active_slot_id`` is the slot
  while the booking holds a seat and NULL after, so one person holds at most one seat of a slot;
- idempotency keys are unique per person, so a double click is one booking.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

FACILITY_KINDS = ("sports", "hall", "meeting_room", "class")
WHO_MAY_BOOK = ("anyone", "residents")
BOOKING_STATES = ("held", "confirmed", "cancelled", "expired", "no_show", "attended")
SEAT_STATES = ("held", "confirmed", "no_show", "attended")


class Facility(Base):
    """A bookable public facility and its booking rules."""

    __tablename__ = "reservations_facilities"
    __table_args__ = (
        CheckConstraint("fee_krw >= 0", name="fee_not_negative"),
        CheckConstraint("book_ahead_days >= 1", name="book_ahead_positive"),
        CheckConstraint("weekly_limit >= 1", name="weekly_limit_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    who_may_book: Mapped[str] = mapped_column(String(16), default="anyone")
    book_ahead_days: Mapped[int] = mapped_column(Integer, default=14)
    weekly_limit: Mapped[int] = mapped_column(Integer, default=2)
    cancel_deadline_hours: Mapped[int] = mapped_column(Integer, default=24)
    fee_krw: Mapped[int] = mapped_column(Integer, default=0)
    no_show_limit: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Slot(Base):
    """A time a facility can be used, with ``capacity`` seats (1 for a court, 20 for a class)."""

    __tablename__ = "reservations_slots"
    __table_args__ = (
        UniqueConstraint("facility_id", "starts_at", name="uq_reservations_slots_facility_start"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("reservations_facilities.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """One person's seat in a slot (held while a fee is paid, then confirmed)."""

    __tablename__ = "reservations_bookings"
    __table_args__ = (
        UniqueConstraint("user_id", "active_slot_id", name="uq_reservations_bookings_user_active_slot"),
        UniqueConstraint("user_id", "idempotency_key", name="uq_reservations_bookings_user_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("reservations_slots.id", ondelete="CASCADE"), index=True)
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("reservations_facilities.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    active_slot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    fee_krw: Mapped[int] = mapped_column(Integer, default=0)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    from_waitlist: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quota(Base):
    """Bookings a person holds at a facility in one week (Monday, Seoul time)."""

    __tablename__ = "reservations_quotas"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("reservations_facilities.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class WaitlistEntry(Base):
    """A person waiting for a seat of a full slot; the first is promoted when one is freed."""

    __tablename__ = "reservations_waitlist"
    __table_args__ = (
        UniqueConstraint("user_id", "active_slot_id", name="uq_reservations_waitlist_user_active_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("reservations_slots.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    active_slot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    booking_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
