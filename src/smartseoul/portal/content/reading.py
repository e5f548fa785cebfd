"""Sessions for the portal's public reads that do not queue behind writers on SQLite.

The platform's SQLite sessions take the write lock at BEGIN (``core.db``: right for read-then-write
work, which would otherwise fail with SQLITE_BUSY_SNAPSHOT). Public portal pages only read, and
at 50 concurrent readers that lock turned them into a queue, and past the busy timeout into 500s.
In WAL mode readers never block writers nor each other, so portal reads use a second engine on
the same file whose connections are ``query_only`` and begin no write transaction. On PostgreSQL
(MVCC, no such lock) the platform's own sessions are used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from smartseoul.core.bootstrap import Platform

READER_KEY = "content.reader"


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def reader(platform: Platform) -> sessionmaker[Session]:
    """The session factory for public reads (built once per platform, disposed on shutdown)."""
    maker: sessionmaker[Session] | None = platform.cache.get(READER_KEY)
    if maker is not None:
        return maker
    if platform.db.engine.dialect.name != "sqlite" or platform.db.engine.url.database in (
        None,
        "",
        ":memory:",
    ):
        maker = platform.db.sessionmaker
    else:
        engine = create_engine(platform.db.engine.url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _read_only)
        maker = sessionmaker(engine, expire_on_commit=False)
    platform.cache[READER_KEY] = maker
    return maker


def dispose(platform: Platform) -> None:
    maker: sessionmaker[Session] | None = platform.cache.pop(READER_KEY, None)
    if maker is not None and maker is not platform.db.sessionmaker:
        bind = maker.kw.get("bind")
        if bind is not None:
            bind.dispose()


def read_session(request: Request) -> Iterator[Session]:
    """A FastAPI dependency: a session for reading only (rolled back, never committed)."""
    session = reader(request.app.state.platform)()
    try:
        yield session
    finally:
        session.close()
