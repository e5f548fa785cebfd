"""The identity domain as a platform plugin: citizen accounts, the city test CA, certificate login."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.identity.seed import seed_demo

    seed_demo(platform, session)
    return []


PLUGIN = DomainPlugin(
    name="identity",
    models=("smartseoul.services.identity.models",),
    routers=lazy_routers(
        "smartseoul.services.identity.router:router",
        "smartseoul.services.identity.router:pki_router",
        "smartseoul.services.identity.pages:router",
    ),
    seed_demo=_seed_demo,
    cli=lazy_cli(pki="smartseoul.services.identity.cli:app"),
    # one link for citizens: "my services" leads to documents, the certificate and the catalogue
    # (the top bar is shared by every domain and must still fit a phone)
    nav=(NavLink("/services/my", "identity_nav_my", ("citizen",)),),
)
