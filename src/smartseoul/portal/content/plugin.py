"""The content domain as a platform plugin: the city's ~200 sites on one store, their pages for
web, mobile, tablet and TV, search, sitemaps, the JSON content API and the importer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


def _routers() -> list[APIRouter]:
    from smartseoul.portal.content.editor import router as editor
    from smartseoul.portal.content.pages import router as pages
    from smartseoul.portal.content.router import router

    return [router, editor, pages]


def _cli() -> dict[str, typer.Typer]:
    from smartseoul.portal.content.cli import app

    return {"portal": app}


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.portal.content.simulate import seed_demo

    return seed_demo(platform, session)


async def _on_shutdown(platform: Platform) -> None:
    from smartseoul.portal.content.reading import dispose

    dispose(platform)


PLUGIN = DomainPlugin(
    name="content",
    models=("smartseoul.portal.content.models",),
    routers=_routers,
    seed_demo=_seed_demo,
    cli=_cli,
    on_shutdown=_on_shutdown,
    nav=(NavLink("/console/content", "content_nav", ("admin", "district_staff")),),
)
