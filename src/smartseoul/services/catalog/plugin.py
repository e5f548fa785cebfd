"""The catalog domain as a platform plugin: the service catalogue and its channel-coverage report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.catalog.service import load_demo

    load_demo(session)
    return []


PLUGIN = DomainPlugin(
    name="catalog",
    models=("smartseoul.services.catalog.models",),
    routers=lazy_routers(
        "smartseoul.services.catalog.router:router", "smartseoul.services.catalog.router:pages"
    ),
    seed_demo=_seed_demo,
    cli=lazy_cli(catalog="smartseoul.services.catalog.cli:app"),
    nav=(NavLink("/services", "catalog_nav", ("district_staff", "admin")),),
)
