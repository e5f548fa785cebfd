"""Who gets an alert in real time: screens by district or point, phones by Web Push, once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.orm import Session

from conftest import run_async
from smartseoul.core import push
from smartseoul.core.bootstrap import Platform
from smartseoul.core.bus import InProcessBus
from smartseoul.core.tests.push_service import Browser, PushService
from smartseoul.safety.alerts import service
from smartseoul.safety.alerts.delivery import AlertHub, push_alert
from smartseoul.safety.alerts.service import AlertDraft

GANGNAM, NOWON = "11230", "11110"
CITY_HALL, FAR_NORTH_EAST = (37.5665, 126.9780), (37.65, 127.06)


def draft(area: dict[str, Any]) -> AlertDraft:
    return AlertDraft(
        event="Gas leak",
        severity="Extreme",
        urgency="Immediate",
        certainty="Observed",
        headline_ko="가스 누출, 즉시 대피",
        headline_en="Gas leak: evacuate now",
        area=area,
    )


def texts(queue: asyncio.Queue[bytes]) -> list[dict[str, Any]]:
    found = []
    while not queue.empty():
        found.append(json.loads(queue.get_nowait().decode().split("data: ", 1)[1]))
    return found


def test_screens_get_only_the_alerts_whose_area_holds_them(db: Session, platform: Platform) -> None:
    index = service.city_index(db)
    district_alert = service.issue(
        db, draft({"districts": [GANGNAM]}), issuer="op", settings=platform.settings
    )
    circle_alert = service.issue(
        db, draft({"circle": "37.5665,126.9780 1"}), issuer="op", settings=platform.settings
    )
    cancel = service.cancel(db, district_alert.alert.id, by="op", settings=platform.settings)

    async def scenario() -> dict[str, list[dict[str, Any]]]:
        bus = InProcessBus()
        hub = AlertHub(bus, index)
        await hub.start()
        listeners = {
            "gangnam_screen": hub.listener(GANGNAM, None, None),
            "nowon_screen": hub.listener(NOWON, None, None),
            "phone_at_city_hall": hub.listener(None, *CITY_HALL),
            "phone_far_away": hub.listener(None, *FAR_NORTH_EAST),
            "city_wide_screen": hub.listener(None, None, None),
        }
        hub.listeners.update(listeners.values())
        for event in [*district_alert.events, *circle_alert.events, *cancel.events]:
            await bus.publish(event)
        await asyncio.sleep(0.2)
        await hub.stop()
        return {name: texts(listener.queue) for name, listener in listeners.items()}

    got = run_async(scenario())
    seen = {
        name: [(m["type"].split(".")[2], m["alert"]["alert_id"]) for m in msgs] for name, msgs in got.items()
    }
    first, second = district_alert.alert.id, circle_alert.alert.id
    assert seen["gangnam_screen"] == [("issued", first), ("cancelled", first)]
    assert seen["nowon_screen"] == []
    assert seen["phone_at_city_hall"] == [("issued", second)]  # Jung-gu: inside the 1 km circle
    assert seen["phone_far_away"] == []
    assert seen["city_wide_screen"] == [("issued", first), ("issued", second), ("cancelled", first)]
    assert got["gangnam_screen"][0]["alert"]["headline_ko"] == "가스 누출, 즉시 대피"


def test_a_redelivered_alert_event_is_pushed_once(platform: Platform) -> None:
    platform.settings.alerts_push_allow_loopback = True
    with PushService() as push_service:
        phone = Browser()
        with platform.db.session() as session:
            push.subscribe(
                session,
                endpoint=push_service.endpoint("ok", phone),
                p256dh=phone.p256dh,
                auth=phone.auth,
                settings=platform.settings,
                district_codes=[GANGNAM],
                language="ko",
            )
            issued = service.issue(
                session, draft({"districts": [GANGNAM]}), issuer="op", settings=platform.settings
            )
        [event] = issued.events
        first = run_async(push_alert(platform, event))
        again = run_async(push_alert(platform, event))
    assert (first, again) == (1, 0)
    [received] = push_service.received
    assert received.payload is not None
    assert received.payload["title"] == "[위급] 가스 누출, 즉시 대피"
    assert received.payload["tag"] == f"alert-{issued.alert.id}"


def test_a_malformed_alert_event_is_logged_and_later_alerts_still_arrive(db: Session) -> None:
    from smartseoul.core.events import GenericEvent

    index = service.city_index(db)
    broken = GenericEvent(
        event_type="safety.alert.issued.v1",
        payload={"alert_id": 9, "area": {"kind": "polygon", "polygon": "x"}},
    )
    good = GenericEvent(
        event_type="safety.alert.issued.v1",
        payload={
            "alert_id": 10,
            "headline_ko": "정상",
            "area": {"kind": "districts", "district_codes": [GANGNAM]},
        },
    )

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        bus = InProcessBus()
        hub = AlertHub(bus, index)
        await hub.start()
        at_city_hall = hub.listener(None, *CITY_HALL)  # a point: the broken polygon is parsed for it
        in_gangnam = hub.listener(GANGNAM, None, None)
        hub.listeners.update((at_city_hall, in_gangnam))
        await bus.publish(broken)
        await bus.publish(good)
        await asyncio.sleep(0.2)
        await hub.stop()
        return texts(at_city_hall.queue), texts(in_gangnam.queue), len(bus.dead_letters)

    city_hall, gangnam, dead = run_async(scenario())
    assert city_hall == []
    assert [m["alert"]["alert_id"] for m in gangnam] == [10]
    assert dead == 0  # refused at once, not retried into a dead letter
