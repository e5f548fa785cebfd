"""The reminder worker: queues tomorrow's reminders and sends the outbox through the notifier."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smartseoul.core.db import utcnow
from smartseoul.portal.education import service

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

log = logging.getLogger("smartseoul.education")
NOTIFIER_KEY = "education.notifier"


def notifier(platform: Platform) -> service.Notifier:
    """The platform's notifier: the demo recorder unless a deployment put an SMS gateway here."""
    found: service.Notifier | None = platform.cache.get(NOTIFIER_KEY)
    if found is None:
        found = platform.cache[NOTIFIER_KEY] = service.RecordingNotifier()
    return found


def run_once(platform: Platform) -> tuple[int, int]:
    """Queue reminders for tomorrow's classes, then send what waits; returns (queued, sent)."""
    with platform.db.session() as session:
        queued = service.queue_reminders(session, utcnow())
    with platform.db.session() as session:
        sent = service.send_outbox(session, notifier(platform))
    return queued, sent


async def work_forever(platform: Platform) -> None:
    while True:
        try:
            await asyncio.to_thread(run_once, platform)
        except Exception:  # a database hiccup must not end the worker
            log.exception("education reminders failed")
        await asyncio.sleep(platform.settings.education_worker_interval_s)
