"""The incidents domain as a platform plugin: desk consumers, timers, the outbox and the bells."""

from __future__ import annotations

import asyncio
import contextlib
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

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

SUBSCRIPTIONS_KEY = "incidents.subscriptions"
HUB_KEY = "incidents.stream_hub"
TASKS_KEY = "incidents.tasks"
DESK_NAV_ROLES = ("admin", "operator", "dispatcher", "district_staff", "auditor")


async def _on_startup(platform: Platform) -> None:
    from smartseoul.safety.incidents import runtime
    from smartseoul.web.stream import StreamHub

    platform.cache[SUBSCRIPTIONS_KEY] = await runtime.subscribe_all(platform)
    # the desk's own stream: only safety events, so a flood of other events never crowds out an incident
    hub = StreamHub(platform.bus, pattern="safety.>", queue_size=5000)
    await hub.start()
    platform.cache[HUB_KEY] = hub
    tasks = []
    if platform.settings.incidents_workers:
        tasks += [
            asyncio.create_task(runtime.timers_forever(platform)),
            asyncio.create_task(runtime.outbox_forever(platform)),
        ]
    if platform.settings.incidents_mqtt_url:
        from smartseoul.safety.incidents.mqtt import subscribe_forever

        tasks.append(asyncio.create_task(subscribe_forever(platform, platform.settings.incidents_mqtt_url)))
    platform.cache[TASKS_KEY] = tasks


async def _on_shutdown(platform: Platform) -> None:
    for task in platform.cache.pop(TASKS_KEY, []):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for subscription in platform.cache.pop(SUBSCRIPTIONS_KEY, []):
        await subscription.stop()
    hub = platform.cache.pop(HUB_KEY, None)
    if hub is not None:
        await hub.stop()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.incidents.seed import seed_demo

    seed_demo(session, platform.settings.demo_seed)
    return []


PLUGIN = DomainPlugin(
    name="incidents",
    models=("smartseoul.safety.incidents.models",),
    routers=lazy_routers(
        "smartseoul.safety.incidents.router:router", "smartseoul.safety.incidents.pages:router"
    ),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.safety.incidents.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(
        bell="smartseoul.safety.incidents.cli:bell_app",
        incident="smartseoul.safety.incidents.cli:incident_app",
        agency="smartseoul.safety.incidents.cli:agency_app",
    ),
    nav=(
        NavLink("/console/incidents", "incidents_nav", DESK_NAV_ROLES),
        NavLink("/console/handovers", "incidents_nav_handovers", ("admin", "operator", "dispatcher")),
    ),
)
