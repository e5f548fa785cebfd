"""The certificates domain as a platform plugin: sealed documents, /verify, revocation, and the
documents whose fee the payments domain captured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


PAID_CONSUMER = "certificates-paid"
SUBSCRIPTION_KEY = "certificates.paid"


async def _on_startup(platform: Platform) -> None:
    """Seal a document when the payments domain announces its fee was captured (once per event)."""
    from smartseoul.core.idempotency import apply_once
    from smartseoul.services.certificates import service
    from smartseoul.services.payments.events import PaymentCaptured

    async def paid(event: Event) -> None:
        if not isinstance(event, PaymentCaptured) or not event.reference.startswith("certificate:"):
            return

        def work(session: Session, captured: PaymentCaptured) -> None:
            service.on_payment_captured(
                session,
                platform.settings,
                reference=captured.reference,
                amount_krw=captured.amount_krw,
                user_id=captured.user_id,
                payment_id=captured.payment_id,
            )

        await apply_once(platform.db, PAID_CONSUMER, event, work)

    platform.cache[SUBSCRIPTION_KEY] = await platform.bus.subscribe(
        "services.payment.captured.v1", paid, durable=PAID_CONSUMER
    )


async def _on_shutdown(platform: Platform) -> None:
    subscription = platform.cache.pop(SUBSCRIPTION_KEY, None)
    if subscription is not None:
        await subscription.stop()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.certificates.seed import seed_demo

    seed_demo(platform, session)
    return []


PLUGIN = DomainPlugin(
    name="certificates",
    models=("smartseoul.services.certificates.models",),
    routers=lazy_routers(
        "smartseoul.services.certificates.router:router", "smartseoul.services.certificates.router:pages"
    ),
    seed_demo=_seed_demo,
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(certificate="smartseoul.services.certificates.cli:app"),
    nav=(NavLink("/console/certificates", "certificates_nav_console", ("district_staff", "admin")),),
)
