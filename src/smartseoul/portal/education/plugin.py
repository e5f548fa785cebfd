"""The education domain as a platform plugin: courses, sign-up, reminders, the targets dashboard."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_generators, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

TASKS_KEY = "education.tasks"


async def _on_startup(platform: Platform) -> None:
    from smartseoul.portal.education import runtime

    tasks = []
    if platform.settings.education_workers:
        tasks.append(asyncio.create_task(runtime.work_forever(platform)))
    platform.cache[TASKS_KEY] = tasks


async def _on_shutdown(platform: Platform) -> None:
    for task in platform.cache.pop(TASKS_KEY, []):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.portal.education.seed import seed_demo

    seed_demo(session, platform.settings.demo_seed)
    return []


PLUGIN = DomainPlugin(
    name="education",
    models=("smartseoul.portal.education.models",),
    routers=lazy_routers(
        "smartseoul.portal.education.router:router", "smartseoul.portal.education.pages:router"
    ),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.portal.education.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    nav=(NavLink("/console/education", "education_nav", ("admin", "district_staff", "auditor")),),
)
