"""The complaints domain as a platform plugin: Open311 and staff API, pages, the delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
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

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

log = logging.getLogger("smartseoul.complaints")
WORKER_KEY = "complaints.worker"
STAFF_ROLES = ("district_staff", "admin")


async def _on_startup(platform: Platform) -> None:
    """Make sure every category and department exists, then start delivering."""
    from smartseoul.services.complaints import delivery, service

    def ensure() -> int:
        with platform.db.session() as session:
            return service.ensure_catalogue(session)

    added = await asyncio.to_thread(ensure)
    if added:
        log.info("complaints: %d categories and departments added", added)
    if platform.settings.complaints_worker:
        platform.cache[WORKER_KEY] = asyncio.create_task(delivery.worker_forever(platform))


async def _on_shutdown(platform: Platform) -> None:
    task = platform.cache.pop(WORKER_KEY, None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.complaints.simulate import seed_demo

    return seed_demo(platform, session)


PLUGIN = DomainPlugin(
    name="complaints",
    models=("smartseoul.services.complaints.models",),
    routers=lazy_routers(
        "smartseoul.services.complaints.open311:router",
        "smartseoul.services.complaints.router:router",
        "smartseoul.services.complaints.pages:router",
    ),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.services.complaints.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(open311="smartseoul.services.complaints.cli:app"),
    nav=(NavLink("/complaints/staff", "complaints_nav", STAFF_ROLES),),
)
