"""No double booking under real concurrency: threads with their own connections, both engines."""

from __future__ import annotations

from sqlalchemy import func, select

from smartseoul.core.bootstrap import Platform
from smartseoul.services.reservations import race, service
from smartseoul.services.reservations.models import Booking, Facility, Quota, Slot


def test_forty_clients_racing_for_ten_slots_book_each_seat_exactly_once(platform: Platform) -> None:
    users, slot_ids = race.prepare(platform.db, clients=40, slots=10)
    result = race.run_race(platform.db, users, slot_ids, race.service_booker(platform.settings))
    assert result.errors == []
    assert result.bookings == 10
    assert result.double_bookings == 0
    with platform.db.session() as session:
        per_slot = session.execute(
            select(Booking.slot_id, func.count())
            .where(Booking.state == "confirmed")
            .group_by(Booking.slot_id)
        ).all()
        assert sorted(n for _, n in per_slot) == [1] * 10
        assert session.scalar(select(func.sum(Slot.booked)).where(Slot.id.in_(slot_ids))) == 10
        assert service.double_bookings(session) == 0


def test_one_person_clicking_many_times_at_once_gets_one_seat_and_one_allowance(platform: Platform) -> None:
    users, slot_ids = race.prepare(platform.db, clients=1, slots=1)
    with platform.db.session() as session:
        session.execute(
            Slot.__table__.update().where(Slot.id == slot_ids[0]).values(capacity=10)  # a class of ten
        )
    same_user = users * 12
    result = race.run_race(platform.db, same_user, slot_ids, race.service_booker(platform.settings))
    assert result.errors == []
    assert result.bookings == 1
    with platform.db.session() as session:
        assert session.scalar(select(Slot.booked).where(Slot.id == slot_ids[0])) == 1
        assert session.scalar(select(Quota.used).where(Quota.user_id == users[0])) == 1


def test_one_person_racing_for_many_slots_at_once_stays_within_the_weekly_limit(platform: Platform) -> None:
    users, slot_ids = race.prepare(platform.db, clients=1, slots=8)
    with platform.db.session() as session:
        facility_id = session.scalar(select(Slot.facility_id).where(Slot.id == slot_ids[0]))
        session.execute(Facility.__table__.update().where(Facility.id == facility_id).values(weekly_limit=2))
    result = race.run_race(platform.db, users * 8, slot_ids, race.service_booker(platform.settings))
    assert result.errors == []
    assert result.bookings == 2
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Booking.id)).where(Booking.user_id == users[0])) == 2
        assert session.scalar(select(func.sum(Quota.used)).where(Quota.user_id == users[0])) == 2
