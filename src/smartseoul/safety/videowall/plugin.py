"""The videowall domain as a platform plugin: live tiles, groups and tours, the health monitor."""

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
    from smartseoul.safety.videowall.feeds import FeedHub
    from smartseoul.safety.videowall.monitor import HealthMonitor

HUB_KEY = "videowall.hub"
MONITOR_KEY = "videowall.monitor"
MONITOR_TASK_KEY = "videowall.monitor_task"
WALL_ROLES = ("admin", "operator", "district_staff")


def hub_of(platform: Platform) -> FeedHub:
    """The one feed hub of this process: every viewer of a camera shares its feed."""
    from smartseoul.safety.videowall.feeds import FeedHub

    found = platform.cache.get(HUB_KEY)
    if not isinstance(found, FeedHub):
        found = FeedHub(platform.settings)
        platform.cache[HUB_KEY] = found
    return found


def monitor_of(platform: Platform) -> HealthMonitor:
    from smartseoul.safety.videowall.monitor import HealthMonitor

    found = platform.cache.get(MONITOR_KEY)
    if not isinstance(found, HealthMonitor):
        found = HealthMonitor(platform, hub_of(platform))
        platform.cache[MONITOR_KEY] = found
    return found


async def _on_startup(platform: Platform) -> None:
    if platform.settings.videowall_health:
        platform.cache[MONITOR_TASK_KEY] = asyncio.create_task(
            monitor_of(platform).run(), name="videowall health monitor"
        )


async def _on_shutdown(platform: Platform) -> None:
    task = platform.cache.pop(MONITOR_TASK_KEY, None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    hub = platform.cache.pop(HUB_KEY, None)
    platform.cache.pop(MONITOR_KEY, None)
    if hub is not None:
        await hub.close()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.videowall.seed import seed_groups

    seed_groups(session, platform.settings.demo_seed)
    return []


PLUGIN = DomainPlugin(
    name="videowall",
    models=("smartseoul.safety.videowall.models",),
    routers=lazy_routers(
        "smartseoul.safety.videowall.router:router", "smartseoul.safety.videowall.pages:router"
    ),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.safety.videowall.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(wall="smartseoul.safety.videowall.cli:app"),
    nav=(NavLink("/console/wall", "videowall_nav", WALL_ROLES),),
)
