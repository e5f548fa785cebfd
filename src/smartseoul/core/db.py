"""One database layer for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL and foreign keys on every connection so both engines enforce the same rules;
spatial work stays in Python (Shapely) so both behave the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names are stable for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always returned timezone-aware.

    SQLite drops the offset; without this a naive datetime would leak out and be shown in the
    wrong zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC (the only zone used inside)."""
    return datetime.now(UTC)


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached; the message names it without a password."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides where transactions begin (see _sqlite_begin);
    # without this, SAVEPOINTs and transactional DDL silently misbehave.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A writer waits up to 30 s for the lock rather than failing: losing an accepted SOS or payment
    # is worse than a slow answer, and a machine under load stretches a 1 s transaction many times.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Take the write lock at the start of a transaction.

    A deferred SQLite transaction that reads and then writes fails with SQLITE_BUSY_SNAPSHOT
    when another connection committed in between, and the busy timeout cannot help; taking the
    lock up front makes concurrent writers wait their turn instead of failing.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_read(connection: Any) -> None:
    """A read transaction: one snapshot, no write lock (in WAL mode readers never wait)."""
    connection.exec_driver_sql("BEGIN DEFERRED")


def _in_memory(database: str | None) -> bool:
    """A SQLite URL's database part that names no file: one database per process, in memory."""
    return (database or "") in ("", ":memory:")


def make_engine(url: str, *, reads_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get their directory created and the house pragmas.
    ``reads_only``: SQLite transactions that do not take the write lock (for readers that must
    not queue behind the writers; they must not write)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if _in_memory(parsed.database):
            options["poolclass"] = StaticPool
        else:
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        options.update(kwargs)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_read if reads_only else _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def safe_url(url: str) -> str:
    """The URL with any password masked, fit for a log line or an error message."""
    return make_url(url).render_as_string(hide_password=True)


def check_database(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a one-line reason if the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnavailable(f"database {safe_url(str(engine.url))} unreachable: {reason}") from None


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine: Engine | None = None  # SQLite files only: transactions without the write lock
        self._reader: sessionmaker[Session] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only, closed (its transaction rolled back, its objects kept as read)
        at the end. On a SQLite file it does not take the write lock, so a long background read
        (coverage of 30,000 cameras, 50,000 zones compiled) never makes a writer (an SOS being
        stored) wait behind it or fail after the busy timeout; elsewhere it is an ordinary session."""
        if self._reader is None:
            if self.dialect != "sqlite" or _in_memory(make_url(self.url).database):
                self._reader = self.sessionmaker  # one in-memory database: share its connection
            else:
                self._read_engine = make_engine(self.url, reads_only=True)
                self._reader = sessionmaker(self._read_engine, expire_on_commit=False)
        session = self._reader()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()
