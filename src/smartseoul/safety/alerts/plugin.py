"""The alerts domain as a platform plugin: API and pages, the alert stream hub, Web Push delivery."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smartseoul.core.plugin import ActivityGenerator, DomainPlugin, NavLink

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
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
        with platform.db.session() as session:
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


def _routers() -> list[APIRouter]:
    from smartseoul.safety.alerts.pages import router as pages
    from smartseoul.safety.alerts.router import pages_router, router

    return [router, pages_router, pages]


def _cli() -> dict[str, typer.Typer]:
    from smartseoul.safety.alerts.cli import app

    return {"alert": app}


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.alerts.simulate import seed_demo

    return seed_demo(platform, session)


def _generators(platform: Platform) -> list[ActivityGenerator]:
    from smartseoul.safety.alerts.simulate import generators

    return generators(platform)


PLUGIN = DomainPlugin(
    name="alerts",
    models=("smartseoul.safety.alerts.models",),
    routers=_routers,
    seed_demo=_seed_demo,
    generators=_generators,
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=_cli,
    nav=(NavLink("/console/alerts", "alerts_nav", ("operator", "admin", "dispatcher", "auditor")),),
)
