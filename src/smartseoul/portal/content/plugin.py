"""The content domain as a platform plugin: the city's ~200 sites on one store, their pages for
web, mobile, tablet and TV, search, sitemaps, the JSON content API and the importer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.portal.content.simulate import seed_demo

    return seed_demo(platform, session)


async def _on_shutdown(platform: Platform) -> None:
    from smartseoul.portal.content.reading import dispose

    dispose(platform)


PLUGIN = DomainPlugin(
    name="content",
    models=("smartseoul.portal.content.models",),
    routers=lazy_routers(
        "smartseoul.portal.content.router:router",
        "smartseoul.portal.content.editor:router",
        "smartseoul.portal.content.pages:router",
    ),
    seed_demo=_seed_demo,
    cli=lazy_cli(portal="smartseoul.portal.content.cli:app"),
    on_shutdown=_on_shutdown,
    nav=(NavLink("/console/content", "content_nav", ("admin", "district_staff")),),
)
