"""Retention: positions older than the configured period are deleted; provision records stay.

The Location Information Act asks that location data not be kept longer than its purpose needs,
while the records of each provision (who was given whose location, when, why) must be kept; so
the purge touches ``tracking_positions`` only, in bounded batches that never hold a long lock.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.tracking.models import Position

log = logging.getLogger("smartseoul.tracking.retention")
PURGE_INTERVAL_S = 3600.0


def purge_batch(session: Session, cutoff: datetime, batch: int = 5000) -> int:
    ids = list(session.scalars(select(Position.id).where(Position.device_time < cutoff).limit(batch)))
    if ids:
        session.execute(delete(Position).where(Position.id.in_(ids)))
    return len(ids)


def purge(platform: Platform, days: int | None = None, *, actor: str = "retention") -> int:
    """Delete positions older than ``days`` (the setting by default); returns how many."""
    keep = days if days is not None else platform.settings.tracking_retention_days
    cutoff = utcnow() - timedelta(days=keep)
    total = 0
    while True:
        with platform.db.session() as session:
            removed = purge_batch(session, cutoff)
        total += removed
        if removed == 0:
            break
    if total:
        with platform.db.session() as session:
            audit.record(
                session,
                actor=actor,
                action="retention.purge",
                target="tracking_positions",
                details={"older_than": cutoff.isoformat(), "deleted": total, "days": keep},
            )
        log.info("retention: deleted %d positions older than %s", total, cutoff.isoformat())
    return total


async def run_periodically(platform: Platform, interval: float = PURGE_INTERVAL_S) -> None:
    while True:
        try:
            await asyncio.to_thread(purge, platform)
        except Exception:
            log.exception("retention purge failed; will retry")
        await asyncio.sleep(interval)
