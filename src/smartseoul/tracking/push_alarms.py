"""Alarms pushed to the guardians' phones (Web Push, VAPID), even with the app closed.

The phone subscribes from the guardian app with scope ``guardian``; an alarm goes to the
subscriptions of every guardian of the person who receives alerts. The message says what and
whom, never where: the app fetches the position with its reason when opened, so that read is
recorded like any other. With the app open, the SSE stream brings the same alarm.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from smartseoul.core import push
from smartseoul.core.bootstrap import Platform
from smartseoul.core.bus import Subscription
from smartseoul.core.events import Event
from smartseoul.core.push_models import PushSubscription
from smartseoul.tracking.models import Guardianship, ProtectedPerson
from smartseoul.web.i18n import translate

log = logging.getLogger("smartseoul.tracking.push")
SCOPE = "guardian"
DURABLE = "tracking-guardian-push"


def alarm_message(
    lang: str, kind: str, name: str, person_id: int, alarm_id: int, emergency: bool
) -> dict[str, Any]:
    """The notification: title and body in the phone's language, the page to open, a tag so that a
    repeated alarm replaces its notification instead of piling up."""
    what = translate(lang, f"alarm_{kind}")
    title = f"{what} · {name}" if not emergency else f"🚨 {what} · {name}"
    return {
        "title": title,
        "body": translate(lang, "push_alarm_body"),
        "url": f"/app/persons/{person_id}",
        "tag": f"alarm-{alarm_id}",
        "kind": "alarm",
    }


def targets_for(platform: Platform, person_id: int) -> tuple[str, dict[str, list[push.PushTarget]]]:
    """The person's name and the guardian phones to tell, grouped by their language."""
    with platform.db.reading() as session:
        person = session.get(ProtectedPerson, person_id)
        if person is None:
            return "", {}
        guardians = select(Guardianship.user_id).where(
            Guardianship.person_id == person_id, Guardianship.receives_alerts.is_(True)
        )
        rows = session.scalars(
            select(PushSubscription)
            .where(PushSubscription.scope == SCOPE, PushSubscription.user_id.in_(guardians))
            .order_by(PushSubscription.id)
        ).all()
        grouped: dict[str, list[push.PushTarget]] = defaultdict(list)
        for row in rows:
            grouped[row.language].append(push.target_of(row))
        return person.display_name, dict(grouped)


def record(platform: Platform, results: list[push.DeliveryResult]) -> None:
    with platform.db.session() as session:
        push.record_results(session, results)


async def push_alarm(platform: Platform, event: Event) -> list[push.DeliveryResult]:
    """Send one alarm to the guardians' phones; outcomes are stored (gone phones removed)."""
    person_id = getattr(event, "person_id", None)
    if not isinstance(person_id, int):
        return []
    name, grouped = await asyncio.to_thread(targets_for, platform, person_id)
    emergency = bool(getattr(event, "emergency", False))
    results: list[push.DeliveryResult] = []
    for lang, targets in grouped.items():
        message = alarm_message(
            lang,
            str(getattr(event, "kind", "")),
            name,
            person_id,
            int(getattr(event, "alarm_id", 0)),
            emergency,
        )
        results += await push.deliver(
            push.platform_vapid(platform),
            targets,
            message,
            ttl=platform.settings.alerts_push_ttl_seconds,
            urgency="high" if emergency else "normal",
        )
    if results:
        await asyncio.to_thread(record, platform, results)
    return results


async def start(platform: Platform) -> Subscription:
    async def handle(event: Event) -> None:
        try:
            await push_alarm(platform, event)
        except Exception:  # a push service down must not stop the next alarm
            log.exception("alarm %s not pushed to guardians", getattr(event, "alarm_id", "?"))

    return await platform.bus.subscribe("tracking.alarm.raised.v1", handle, durable=DURABLE)
