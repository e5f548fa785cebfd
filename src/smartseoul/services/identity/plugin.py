"""The identity domain as a platform plugin: citizen accounts, the city test CA, certificate login."""

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
    from smartseoul.services.identity.pages import router as pages
    from smartseoul.services.identity.router import pki_router, router

    return [router, pki_router, pages]


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.services.identity.seed import seed_demo

    seed_demo(platform, session)
    return []


def _cli() -> dict[str, typer.Typer]:
    from smartseoul.services.identity.cli import app

    return {"pki": app}


PLUGIN = DomainPlugin(
    name="identity",
    models=("smartseoul.services.identity.models",),
    routers=_routers,
    seed_demo=_seed_demo,
    cli=_cli,
    # one link for citizens: "my services" leads to documents, the certificate and the catalogue
    # (the top bar is shared by every domain and must still fit a phone)
    nav=(NavLink("/services/my", "identity_nav_my", ("citizen",)),),
)
