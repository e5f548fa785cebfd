"""Simulated access-point controllers: every access point due for a report sends one (so the demo's
network stays up between real reports), now and then one reports a fault or falls silent (and so
goes down after the missed-report interval), and comes back a few minutes later."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from smartseoul.core.db import utcnow
from smartseoul.core.plugin import ActivityGenerator
from smartseoul.portal.wifi import service
from smartseoul.portal.wifi.models import WifiAccessPoint
from smartseoul.portal.wifi.router import publish

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

FAULT = 0.15  # chance, per step, that one access point reports a fault or falls silent
SILENT_KEY = "wifi.simulated_silent"
SILENCE = timedelta(minutes=6)
REPAIR = 0.05


def _step(platform: Platform, rng: random.Random) -> list[Event]:
    now = utcnow()
    silent: dict[str, datetime] = platform.cache.setdefault(SILENT_KEY, {})
    for code, until in list(silent.items()):
        if until <= now:
            del silent[code]
    due = now - timedelta(seconds=platform.settings.wifi_report_interval_s * 0.8)
    with platform.db.session() as session:
        due_aps = session.execute(
            select(WifiAccessPoint.code, WifiAccessPoint.health).where(
                WifiAccessPoint.status == "active",
                (WifiAccessPoint.last_report_at.is_(None)) | (WifiAccessPoint.last_report_at < due),
            )
        ).all()
        # a broken access point is repaired now and then, not at the first look
        codes = [code for code, health in due_aps if health != "down" or rng.random() < REPAIR]
        reports = [
            service.StatusReport(code, now, up=True, clients=rng.randint(0, 60))
            for code in codes
            if code not in silent
        ]
        if reports and rng.random() < FAULT:
            victim = rng.choice(reports)
            reports.remove(victim)
            if rng.random() < 0.5:
                reports.append(service.StatusReport(victim.ap, now, up=False))
            silent[victim.ap] = now + SILENCE
        return service.ingest_reports(session, reports).events


async def _make(platform: Platform, rng: random.Random) -> Event | None:
    events = await asyncio.to_thread(_step, platform, rng)
    await publish(platform, events[1:])
    return events[0] if events else None


def generators(platform: Platform) -> list[ActivityGenerator]:
    return [ActivityGenerator("wifi.status", 0.02, _make)]
