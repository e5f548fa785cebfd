"""Idempotent consumers: each event changes the database once, however often it is delivered.

The bus delivers at least once: an event is acknowledged only after its handler returns, so a
crash, a stop or a lost acknowledgement between the handler's commit and the ack means the same
event comes again. Exactly-once delivery is not on offer from any bus; exactly-once *effects* are:
the consumer records ``(consumer, event id)`` in ``processed_events`` in the same transaction as
its changes. A redelivery finds the row and changes nothing; a failed transaction leaves neither
the changes nor the row, so the redelivery does the work. At-least-once delivery plus idempotent
consumers gives each effect once.

The primary key on ``(consumer, event_id)`` settles races on both engines: on PostgreSQL the
second insert of a key waits for the first transaction and then fails; SQLite takes the write lock
at ``BEGIN`` (see :mod:`smartseoul.core.db`), so the second transaction sees the committed row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartseoul.core.db import Database
from smartseoul.core.events import Event
from smartseoul.core.models import ProcessedEvent

E = TypeVar("E", bound=Event)

SessionSource = Database | Callable[[], Session]
"""A :class:`Database`, or anything that makes a session (a ``sessionmaker``)."""


def mark_processed(session: Session, consumer: str, event: Event) -> bool:
    """Record in the caller's transaction that ``consumer`` applied ``event``.

    Returns False, leaving the caller's transaction usable, when it was already recorded: the
    insert runs in a savepoint, so only the savepoint is rolled back.
    """
    try:
        with session.begin_nested():
            session.execute(insert(ProcessedEvent).values(consumer=consumer, event_id=str(event.id)))
    except IntegrityError:
        return False
    return True


def apply_once_sync(
    sessions: SessionSource, consumer: str, event: E, work: Callable[[Session, E], object]
) -> bool:
    """Blocking :func:`apply_once`, for code already off the event loop."""
    factory = sessions.sessionmaker if isinstance(sessions, Database) else sessions
    with factory() as session, session.begin():
        if not mark_processed(session, consumer, event):
            return False
        work(session, event)
    return True


async def apply_once(
    sessions: SessionSource, consumer: str, event: E, work: Callable[[Session, E], object]
) -> bool:
    """Run ``work(session, event)`` and mark the event processed, in one transaction.

    Returns True when the work ran and committed, False when ``consumer`` had already applied the
    event (nothing is done). An exception from ``work`` rolls back both the work and the mark and
    propagates, so the bus redelivers the event. The database work runs in a worker thread, off
    the event loop.
    """
    return await asyncio.to_thread(apply_once_sync, sessions, consumer, event, work)
