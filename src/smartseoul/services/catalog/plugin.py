"""The catalog domain as a platform plugin: the service catalogue and its channel-coverage report."""

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
    from smartseoul.services.catalog.router import pages, router

    return [router, pages]


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.catalog.service import load_demo

    load_demo(session)
    return []


def _cli() -> dict[str, typer.Typer]:
    from smartseoul.services.catalog.cli import app

    return {"catalog": app}


PLUGIN = DomainPlugin(
    name="catalog",
    models=("smartseoul.services.catalog.models",),
    routers=_routers,
    seed_demo=_seed_demo,
    cli=_cli,
    nav=(NavLink("/services", "catalog_nav", ("district_staff", "admin")),),
)
