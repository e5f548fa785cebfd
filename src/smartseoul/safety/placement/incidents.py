"""Incidents as demand: each ``safety.incident.opened.v1`` with a location is kept as a point,
so that a plan can weigh where incidents actually happen.

The consumer reads the event's payload by name (no import of the incidents domain) and is
idempotent: the event is marked processed in the same transaction as the point, and a second
event for the same incident changes nothing.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.idempotency import apply_once
from smartseoul.safety.placement.models import IncidentPoint

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

log = logging.getLogger("smartseoul.placement")
INCIDENT_OPENED = "safety.incident.opened.v1"
CONSUMER = "placement-incident-points"


def _point(data: dict[str, Any]) -> tuple[int, float, float, int] | None:
    """(incident id, lat, lon, priority) of a payload with a usable location, else None."""
    try:
        incident = int(data["incident_id"])
        lat, lon = float(data["lat"]), float(data["lon"])
        priority = int(data.get("priority") or 4)
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return incident, lat, lon, priority


def record(session: Session, event: Event) -> bool:
    """Keep the point of one incident (once per incident); False when there is nothing to keep."""
    found = _point(event.data())
    if found is None:
        return False
    incident, lat, lon, priority = found
    if session.scalar(select(IncidentPoint.id).where(IncidentPoint.incident_id == incident)) is not None:
        return False
    session.add(
        IncidentPoint(incident_id=incident, lat=lat, lon=lon, priority=priority, opened_at=event.time)
    )
    session.flush()
    return True


async def on_incident_opened(platform: Platform, event: Event) -> None:
    if _point(event.data()) is None:
        return  # no place, no demand: nothing to record (and nothing to redeliver)
    await apply_once(platform.db, CONSUMER, event, record)


async def subscribe(platform: Platform) -> Any:
    async def handler(event: Event) -> None:
        await on_incident_opened(platform, event)

    return await platform.bus.subscribe(INCIDENT_OPENED, handler, durable=CONSUMER)


def incident_points(
    session: Session, days: int = 365, now: datetime | None = None
) -> list[tuple[float, float]]:
    """(lat, lon) of the incidents opened in the last ``days`` days."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(IncidentPoint.lat, IncidentPoint.lon).where(IncidentPoint.opened_at >= since)
    )
    return [(float(lat), float(lon)) for lat, lon in rows]
