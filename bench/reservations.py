"""200 concurrent clients racing for 50 slots, PostgreSQL and SQLite: bookings, double bookings, bookings/s.

Why: issue 9 asks for no double booking ever, under any concurrency, on both engines, by the
database's own guarantees. Each client is a real thread with its own connection calling the
booking service (the same code the API runs): it tries the slots in its own random order until it
has one or all are full. Afterwards the double bookings are counted from the bookings table
(seats held per slot beyond its capacity).

Baseline, in the same run and database: the naive check-then-insert in Python (count the slot's
bookings, insert if under capacity) on 50 fresh slots, the way double bookings happen. On SQLite
the write lock taken at BEGIN happens to serialise even that; on PostgreSQL (READ COMMITTED) it
sells seats twice.

Reported per engine (``sqlite_`` / ``postgresql_``): ``bookings``, ``double_bookings`` (must be 0),
``bookings_per_s`` (seats sold per second until the last one went), ``attempts`` and
``attempts_per_s`` (every try, refusals included), ``busy_retries`` (tries again after the
database was busy: SQLite's lock or the connection pool), ``naive_bookings``, ``naive_double_bookings``,
``naive_bookings_per_s``, ``ratio_guarded_over_naive_per_s``. ``--quick``: 40 clients, 10 slots.
PostgreSQL figures are null (with a line on stderr) when the server is not reachable.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from smartseoul.core.db import Database

err = Console(stderr=True, soft_wrap=True)
PG_ADMIN = os.environ.get("SMARTSEOUL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
KEYS = (
    "bookings",
    "double_bookings",
    "bookings_per_s",
    "attempts",
    "attempts_per_s",
    "busy_retries",
    "naive_bookings",
    "naive_double_bookings",
    "naive_bookings_per_s",
    "ratio_guarded_over_naive_per_s",
)


def naive_booker(session: Session, user_id: int, slot_id: int) -> bool:
    """Check, then insert: the race the service's conditional UPDATE closes."""
    from smartseoul.core.db import utcnow
    from smartseoul.services.reservations.models import Booking, Slot
    from smartseoul.services.reservations.service import week_of

    slot = session.get(Slot, slot_id)
    assert slot is not None
    taken = session.scalar(
        select(func.count(Booking.id)).where(Booking.slot_id == slot_id, Booking.state == "confirmed")
    )
    if (taken or 0) >= slot.capacity:
        return False
    session.add(
        Booking(
            slot_id=slot_id,
            facility_id=slot.facility_id,
            user_id=user_id,
            active_slot_id=slot_id,
            state="confirmed",
            week_start=week_of(slot.starts_at),
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    session.flush()
    return True


def _engine_figures(url: str, clients: int, slots: int) -> dict[str, float | None]:
    from sqlalchemy.orm import sessionmaker

    from smartseoul.core.db import Database, make_engine
    from smartseoul.core.settings import Settings
    from smartseoul.services.reservations import race

    database = Database(url)
    # 200 threads share the pool (30 connections on PostgreSQL, 15 on SQLite): they wait their turn
    database.engine.dispose()
    database.engine = make_engine(url, pool_timeout=600)
    database.sessionmaker = sessionmaker(database.engine, expire_on_commit=False)
    try:
        _create_tables(database)
        settings = Settings(data_dir=Path(tempfile.mkdtemp()), secret_key="bench-" + "x" * 40)
        users, slot_ids = race.prepare(database, clients=clients, slots=slots, prefix="guarded")
        guarded = race.run_race(database, users, slot_ids, race.service_booker(settings))
        users, slot_ids = race.prepare(database, clients=clients, slots=slots, prefix="naive")
        naive = race.run_race(database, users, slot_ids, naive_booker)
    finally:
        database.dispose()
    if guarded.errors:
        err.print(f"{len(guarded.errors)} errors in the guarded race, e.g. {guarded.errors[0]}")
    if naive.errors:
        err.print(f"naive race: {len(naive.errors)} errors (e.g. {naive.errors[0][:120]})")
    return {
        "bookings": guarded.bookings,
        "double_bookings": guarded.double_bookings,
        "bookings_per_s": round(guarded.bookings_per_s, 1),
        "attempts": guarded.attempts,
        "attempts_per_s": round(guarded.attempts_per_s, 1),
        "busy_retries": guarded.transient_retries,
        "naive_bookings": naive.bookings,
        "naive_double_bookings": naive.double_bookings,
        "naive_bookings_per_s": round(naive.bookings_per_s, 1),
        "ratio_guarded_over_naive_per_s": round(guarded.bookings_per_s / naive.bookings_per_s, 3)
        if naive.bookings_per_s
        else None,
    }


def _create_tables(database: Database) -> None:
    """Only the tables the race touches (people, reservations, payments): the figures are about the
    race, and the whole migration chain would cost more than the quick race itself."""
    from smartseoul.core.db import Base
    from smartseoul.domains import import_models

    import_models()
    wanted = [
        table
        for name, table in Base.metadata.tables.items()
        if name in ("users", "user_roles") or name.startswith(("reservations_", "payments_"))
    ]
    Base.metadata.create_all(database.engine, tables=wanted)


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def _fresh_pg_database(name: str) -> str:
    from smartseoul.core.db import make_engine

    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(name: str) -> None:
    from smartseoul.core.db import make_engine

    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(quick: bool = False) -> dict[str, float | None]:
    clients, slots = (40, 10) if quick else (200, 50)
    figures: dict[str, float | None] = {"clients": clients, "slots": slots}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = _engine_figures(f"sqlite:///{tmp}/bench.db", clients, slots)
    figures.update({f"sqlite_{k}": v for k, v in sqlite.items()})
    if not _pg_reachable():
        err.print("postgresql skipped: not reachable at 127.0.0.1:5432")
        figures.update({f"postgresql_{k}": None for k in KEYS})
        return figures
    name = f"smartseoul_bench_reservations_{os.getpid()}"
    try:
        pg = _engine_figures(_fresh_pg_database(name), clients, slots)
    finally:
        _drop_pg_database(name)
    figures.update({f"postgresql_{k}": v for k, v in pg.items()})
    return figures
