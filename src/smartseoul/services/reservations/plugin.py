"""The reservations domain as a platform plugin: API and pages, confirming paid bookings, the hold sweep."""

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

log = logging.getLogger("smartseoul.reservations")
SWEEP_KEY, SUBSCRIPTION_KEY = "reservations.sweep", "reservations.paid"
PAID_CONSUMER = "reservations-paid"


async def _sweep_forever(platform: Platform) -> None:
    """Expire unpaid holds (freeing seats for the waitlist) and confirm holds paid without a callback."""
    from smartseoul.services.reservations import service

    def sweep() -> list[Event]:
        with platform.db.session() as session:
            return service.expire_holds(session, platform.settings)

    while True:
        await asyncio.sleep(platform.settings.reservations_sweep_seconds)
        try:
            for event in await asyncio.to_thread(sweep):
                await platform.bus.publish(event)
        except Exception:  # one bad row must not stop the sweep; the next pass retries
            log.exception("reservation hold sweep failed")


async def _on_startup(platform: Platform) -> None:
    from smartseoul.core.idempotency import apply_once
    from smartseoul.services.payments.events import PaymentCaptured
    from smartseoul.services.reservations import service

    async def paid(event: Event) -> None:
        if not isinstance(event, PaymentCaptured) or not event.reference.startswith("reservation:"):
            return

        def work(session: Session, captured: PaymentCaptured) -> None:
            service.confirm_paid(session, platform.settings, captured.payment_id, captured.reference)

        await apply_once(platform.db, PAID_CONSUMER, event, work)

    platform.cache[SUBSCRIPTION_KEY] = await platform.bus.subscribe(
        "services.payment.captured.v1", paid, durable=PAID_CONSUMER
    )
    platform.cache[SWEEP_KEY] = asyncio.create_task(_sweep_forever(platform))


async def _on_shutdown(platform: Platform) -> None:
    task = platform.cache.pop(SWEEP_KEY, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    subscription = platform.cache.pop(SUBSCRIPTION_KEY, None)
    if subscription is not None:
        await subscription.stop()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.reservations.seed import seed_demo

    return seed_demo(platform, session)


PLUGIN = DomainPlugin(
    name="reservations",
    models=("smartseoul.services.reservations.models",),
    routers=lazy_routers(
        "smartseoul.services.reservations.router:router", "smartseoul.services.reservations.pages:router"
    ),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.services.reservations.seed:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(reservations="smartseoul.services.reservations.cli:app"),
    nav=(
        NavLink("/reservations/mine", "reservations_nav_mine", ("citizen",)),
        NavLink("/console/reservations", "reservations_nav_admin", ("district_staff", "admin")),
    ),
)
