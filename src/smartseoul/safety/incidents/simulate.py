"""Simulated bells for the demo: presses now and then, heartbeats (with one bell that has gone
quiet, so faults show up too), and bursts of alarms close together (a fight that several people
report at once) that the desk's correlation must fold into one incident.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.plugin import ActivityGenerator
from smartseoul.safety.incidents import bells, service
from smartseoul.safety.incidents.models import Bell
from smartseoul.safety.incidents.runtime import in_transaction, run_and_publish

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

BURST_SOURCES = (
    ("tracking", "sos", "긴급구조 요청(SOS)", "SOS"),
    ("sound", "scream", "비명 감지", "scream detected"),
    ("sound", "glass_break", "유리 깨짐 감지", "glass breaking"),
    ("citizen", "fight", "시민 신고: 싸움", "citizen report: fight"),
)


def burst(
    rng: random.Random, centre: tuple[float, float], size: int, spread_m: float = 100.0
) -> list[service.Intake]:
    """``size`` alarms from different sources within ``spread_m`` of ``centre`` and 90 seconds."""
    start = utcnow()
    items = []
    for number in range(size):
        source, kind, ko, en = rng.choice(BURST_SOURCES)
        distance, angle = spread_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lat = centre[0] + distance * math.cos(angle) / 111_195
        lon = centre[1] + distance * math.sin(angle) / (111_320 * math.cos(math.radians(centre[0])))
        items.append(
            service.Intake(
                source=source,
                kind=kind,
                priority=1 if kind == "sos" else 2,
                title_ko=ko,
                title_en=en,
                ref=f"sim:burst:{start.timestamp():.0f}:{number}",
                lat=round(lat, 6),
                lon=round(lon, 6),
                at=start + timedelta(seconds=rng.uniform(0, 90)),
            )
        )
    return sorted(items, key=lambda item: item.at)


def _bell_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Bell.id).where(Bell.active.is_(True)).order_by(Bell.id)))


def quiet_bell(ids: list[str]) -> str | None:
    """The demo bell whose heartbeat never comes (the same one every run)."""
    return ids[len(ids) // 2] if ids else None


def generators(platform: Platform) -> list[ActivityGenerator]:
    async def press(platform: Platform, rng: random.Random) -> Event | None:
        ids = await _ids(platform)
        if ids:
            bell_id = rng.choice(ids)
            await run_and_publish(platform, lambda s: bells.press(s, platform.settings, bell_id))
        return None

    async def heartbeats(platform: Platform, rng: random.Random) -> Event | None:
        ids = await _ids(platform)
        quiet = quiet_bell(ids)

        def work(session: Session) -> list[Event]:
            session.execute(
                update(Bell)
                .where(Bell.active.is_(True), Bell.id != (quiet or ""))
                .values(last_heartbeat_at=utcnow())
            )
            session.execute(
                update(Bell)
                .where(Bell.status == "fault", Bell.id != (quiet or ""))
                .values(status="ok", fault_reason="")
            )
            return []

        await run_and_publish(platform, work)
        return None

    async def alarm_burst(platform: Platform, rng: random.Random) -> Event | None:
        ids = await _ids(platform)
        if not ids:
            return None

        def work(session: Session) -> list[Event]:
            bell = session.get(Bell, rng.choice(ids))
            assert bell is not None
            events: list[Event] = []
            for item in burst(rng, (bell.lat, bell.lon), rng.randint(3, 8)):
                events += service.intake(session, platform.settings, item).events
            return events

        await run_and_publish(platform, work)
        return None

    async def _ids(platform: Platform) -> list[str]:
        cached: list[str] = platform.cache.get("incidents.sim_bells") or []
        if not cached:
            cached = await in_transaction(platform, _bell_ids)
            platform.cache["incidents.sim_bells"] = cached
        return list(cached)

    # At the demo's 2 events/s: a press about every 40 s and a burst every few minutes, so an
    # operator opening the desk sees it work within the first minute.
    return [
        ActivityGenerator("bell_press", 0.05, press),
        ActivityGenerator("bell_heartbeats", 0.05, heartbeats),
        ActivityGenerator("alarm_burst", 0.01, alarm_burst),
    ]
