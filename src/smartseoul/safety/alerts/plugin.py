"""The alerts domain as a platform plugin: API and pages, the alert stream hub, Web Push delivery."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smartseoul.core.plugin import (
    DomainPlugin,
    NavLink,
    lazy_cli,
    lazy_generators,
    lazy_routers,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.city.service import CityIndex
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.bus import Subscription
    from smartseoul.core.events import Event

log = logging.getLogger("smartseoul.alerts")
HUB_KEY = "alerts.hub"
PUSH_KEY = "alerts.push"


async def _on_startup(platform: Platform) -> None:
    from smartseoul.safety.alerts.delivery import PUSH_CONSUMER, AlertHub, push_alert
    from smartseoul.safety.alerts.service import city_index

    def load_index() -> CityIndex:
        with platform.db.reading() as session:
            return city_index(session)

    index = await asyncio.to_thread(load_index)
    hub = AlertHub(platform.bus, index)
    await hub.start()
    platform.cache[HUB_KEY] = hub
    if platform.settings.alerts_push:

        async def handle(event: Event) -> None:
            await push_alert(platform, event)

        platform.cache[PUSH_KEY] = await platform.bus.subscribe(
            "safety.alert.>", handle, durable=PUSH_CONSUMER
        )


async def _on_shutdown(platform: Platform) -> None:
    subscription: Subscription | None = platform.cache.pop(PUSH_KEY, None)
    if subscription is not None:
        await subscription.stop()
    hub = platform.cache.pop(HUB_KEY, None)
    if hub is not None:
        await hub.stop()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.alerts.simulate import seed_demo

    return seed_demo(platform, session)


PLUGIN = DomainPlugin(
    name="alerts",
    models=("smartseoul.safety.alerts.models",),
    routers=lazy_routers(
        "smartseoul.safety.alerts.router:router",
        "smartseoul.safety.alerts.router:pages_router",
        "smartseoul.safety.alerts.pages:router",
    ),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.safety.alerts.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(alert="smartseoul.safety.alerts.cli:app"),
    nav=(NavLink("/console/alerts", "alerts_nav", ("operator", "admin", "dispatcher", "auditor")),),
)
