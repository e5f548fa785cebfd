"""The payments domain as a platform plugin: API, the provider's page, recovery, reconciliation CLI."""

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

log = logging.getLogger("smartseoul.payments")
SWEEP_KEY = "payments.sweep"


async def _recover_forever(platform: Platform) -> None:
    """Finish payments a crash or a lost callback left pending (asks the provider, then applies it)."""
    from smartseoul.services.payments import service

    def sweep() -> list[Event]:
        with platform.db.session() as session:
            return service.recover_pending(session, platform.settings)

    while True:
        await asyncio.sleep(platform.settings.payments_recover_after_seconds / 2)
        try:
            for event in await asyncio.to_thread(sweep):
                await platform.bus.publish(event)
        except Exception:  # the sweep must outlive one bad row; the next pass retries
            log.exception("payment recovery sweep failed")


async def _on_startup(platform: Platform) -> None:
    platform.cache[SWEEP_KEY] = asyncio.create_task(_recover_forever(platform))


async def _on_shutdown(platform: Platform) -> None:
    task = platform.cache.pop(SWEEP_KEY, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    return []


PLUGIN = DomainPlugin(
    name="payments",
    models=("smartseoul.services.payments.models",),
    routers=lazy_routers(
        "smartseoul.services.payments.router:router", "smartseoul.services.payments.router:pages"
    ),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(payments="smartseoul.services.payments.cli:app"),
    nav=(
        NavLink("/console/payments/reconciliation", "payments_nav", ("district_staff", "admin", "auditor")),
    ),
)
