"""Many clients racing for few slots through the service API, each on its own connection and thread.

Used by the concurrency tests and ``smartseoul bench reservations``: the proof that the database,
not Python, decides who gets a seat. Each client keeps trying the slots (in its own random order)
until it has one or every slot is full, as people hammering a booking page would.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from smartseoul.core.db import Database
from smartseoul.core.models import User, UserRole
from smartseoul.core.settings import Settings
from smartseoul.services.reservations import service
from smartseoul.services.reservations.models import Slot

Booker = Callable[[Session, int, int], bool]
TRANSIENT_RETRIES = 20


@dataclass
class RaceResult:
    clients: int
    slots: int
    bookings: int
    double_bookings: int
    seconds: float
    attempts: int
    sold_out_s: float = 0.0
    transient_retries: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def bookings_per_s(self) -> float:
        """Seats sold per second until the last one went (the losers' later tries not counted)."""
        return self.bookings / self.sold_out_s if self.sold_out_s else 0.0

    @property
    def attempts_per_s(self) -> float:
        return self.attempts / self.seconds if self.seconds else 0.0


def prepare(
    database: Database, *, clients: int, slots: int, prefix: str = "race"
) -> tuple[list[int], list[int]]:
    """A facility with ``slots`` one-seat slots tomorrow and ``clients`` citizens (no passwords)."""
    with database.session() as session:
        facility = service.add_facility(
            session,
            service.FacilityDraft(
                code=f"{prefix}-{random.randrange(10**9)}",
                name_ko="경쟁 시험 코트",
                name_en="Race test court",
                kind="sports",
                district_code="11230",
                weekly_limit=50,
                book_ahead_days=30,
            ),
        )
        tomorrow = (datetime.now(service.SEOUL) + timedelta(days=1)).date()
        made: list[Slot] = []
        for offset in range(0, slots, 24):
            day = tomorrow + timedelta(days=offset // 24)
            made += service.add_slots(session, facility, day, list(range(min(24, slots - offset))))
        tag = f"{prefix}{random.randrange(10**6)}"
        rows = [
            {"username": f"{tag}-{n}", "password_hash": "!", "district_code": "11230"} for n in range(clients)
        ]
        session.execute(insert(User), rows)
        users = list(session.scalars(select(User.id).where(User.username.like(f"{tag}-%"))))
        session.execute(insert(UserRole), [{"user_id": uid, "role": "citizen"} for uid in users])
        return users, [slot.id for slot in made]


def service_booker(settings: Settings) -> Booker:
    """Book through the real service (conditional UPDATEs and constraints)."""

    def attempt(session: Session, user_id: int, slot_id: int) -> bool:
        try:
            service.book(
                session, settings, user_id=user_id, district="11230", slot_id=slot_id, idempotency_key=None
            )
        except service.BookingRefused:
            return False
        return True

    return attempt


def run_race(
    database: Database, users: list[int], slot_ids: list[int], booker: Booker, seed: int = 7
) -> RaceResult:
    """Start every client at once (a barrier), each trying slots until it books or all are full."""
    barrier = threading.Barrier(len(users))
    lock = threading.Lock()
    booked: list[int] = []
    sold_at: list[float] = []
    errors: list[str] = []
    attempts = [0]
    transient = [0]

    def client(index: int, user_id: int) -> None:
        order = slot_ids[:]
        random.Random(seed + index).shuffle(order)
        barrier.wait()
        for slot_id in order:
            if attempt_slot(user_id, slot_id):
                return

    def attempt_slot(user_id: int, slot_id: int) -> bool:
        """One client's try at one slot; a busy database (lock or pool wait) is tried again, as a
        person pressing the button again would; any other error is reported."""
        last = ""
        for _ in range(TRANSIENT_RETRIES):
            try:
                with database.session() as session:
                    won = booker(session, user_id, slot_id)
            except (OperationalError, PoolTimeout) as error:
                with lock:
                    transient[0] += 1
                    attempts[0] += 1
                last = f"{type(error).__name__}: {str(error)[:200]}"
                continue
            except Exception as error:  # reported, never hidden: a race must not crash
                with lock:
                    errors.append(f"{type(error).__name__}: {str(error)[:200]}")
                    attempts[0] += 1
                return False
            with lock:
                attempts[0] += 1
                if won:
                    booked.append(slot_id)
                    sold_at.append(time.perf_counter())
            return won
        with lock:
            errors.append(last)
        return False

    threads = [threading.Thread(target=client, args=(i, uid)) for i, uid in enumerate(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    with database.session() as session:
        over = service.double_bookings(session, slot_ids)
    sold_out = (max(sold_at) - started) if sold_at else 0.0
    return RaceResult(
        len(users), len(slot_ids), len(booked), over, seconds, attempts[0], sold_out, transient[0], errors
    )
