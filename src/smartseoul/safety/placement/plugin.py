"""The placement domain as a platform plugin: its tables, API and page, CLI, a demo plan, and the
consumer that keeps incidents as demand."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

DEMO_CAMERAS = 300


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    """One stored plan (300 cameras, 200 m, 100 a year) so the console shows proposed sites at once."""
    from smartseoul.safety.placement import planner, service

    request = planner.PlanRequest(
        cameras=DEMO_CAMERAS,
        per_year=100,
        seed=platform.settings.demo_seed,
        time_limit_s=platform.settings.placement_time_limit_s,
    )
    solved = service.compute(request, service.prepare(session, request))
    service.save_plan(session, request, solved, "demo")
    return []


INCIDENTS_KEY = "placement.incident_points"


async def _on_startup(platform: Platform) -> None:
    """Keep the place of every new incident as demand for cameras."""
    from smartseoul.safety.placement.incidents import subscribe

    platform.cache[INCIDENTS_KEY] = await subscribe(platform)


async def _on_shutdown(platform: Platform) -> None:
    subscription = platform.cache.pop(INCIDENTS_KEY, None)
    if subscription is not None:
        with contextlib.suppress(Exception):
            await subscription.stop()


PLUGIN = DomainPlugin(
    name="placement",
    models=("smartseoul.safety.placement.models",),
    routers=lazy_routers(
        "smartseoul.safety.placement.router:router", "smartseoul.safety.placement.pages:router"
    ),
    cli=lazy_cli(placement="smartseoul.safety.placement.cli:app"),
    seed_demo=_seed_demo,
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    nav=(NavLink("/console/placement", "placement_nav", ("admin", "operator", "district_staff")),),
)
