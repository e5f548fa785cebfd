"""Events of reservations: screens and other domains learn of seats taken and freed (no personal data)."""

from __future__ import annotations

from smartseoul.core.events import Event


class BookingMade(Event):
    """A seat was taken (``state`` held while a fee is being paid, else confirmed)."""

    type_name = "services.reservation.booked.v1"
    booking_id: int
    facility_id: int
    slot_id: int
    state: str
    from_waitlist: bool


class BookingEnded(Event):
    """A seat was given back: ``reason`` is cancelled (by the person or staff) or expired (unpaid)."""

    type_name = "services.reservation.ended.v1"
    booking_id: int
    facility_id: int
    slot_id: int
    reason: str
