"""The cctv domain as a platform plugin: registry, sharing, coverage, nearest cameras, PTZ."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

AIM_KEY = "cctv.aim_subscription"
WARM_KEY = "cctv.coverage_warm_up"
log = logging.getLogger("smartseoul.cctv")


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.cctv.seed import seed_cameras

    seed_cameras(session, platform.settings.demo_seed)
    return []


def _warm_coverage(platform: Platform) -> None:
    """Compute the coverage figures once in the background, so that the first operator to open
    the cameras page does not wait for 30,000 view sectors (seconds)."""
    from smartseoul.safety.cctv.coverage import coverage_for

    try:
        with platform.db.reading() as session:
            coverage_for(session)
    except Exception as error:  # a warm-up only: the page computes it on demand otherwise
        log.warning("coverage warm-up skipped: %s", error)


async def _on_startup(platform: Platform) -> None:
    """Aim cameras at every new incident with a location; warm the coverage figures."""
    from smartseoul.safety.cctv.aiming import subscribe

    if platform.settings.cctv_aim_incidents:
        platform.cache[AIM_KEY] = await subscribe(platform)
    platform.cache[WARM_KEY] = asyncio.create_task(asyncio.to_thread(_warm_coverage, platform))


async def _on_shutdown(platform: Platform) -> None:
    warm = platform.cache.pop(WARM_KEY, None)
    if isinstance(warm, asyncio.Task):
        with contextlib.suppress(Exception):
            await warm
    subscription = platform.cache.pop(AIM_KEY, None)
    if subscription is not None:
        with contextlib.suppress(Exception):
            await subscription.stop()


PLUGIN = DomainPlugin(
    name="cctv",
    models=("smartseoul.safety.cctv.models",),
    routers=lazy_routers("smartseoul.safety.cctv.router:router", "smartseoul.safety.cctv.pages:router"),
    seed_demo=_seed_demo,
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(camera="smartseoul.safety.cctv.cli:app"),
    nav=(NavLink("/console/cameras", "cctv_nav", ("operator", "admin", "district_staff", "auditor")),),
)
