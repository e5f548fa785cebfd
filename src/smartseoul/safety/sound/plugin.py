"""The sound domain as a platform plugin: API, console page, the detection hub, demo microphones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import ActivityGenerator, DomainPlugin, NavLink

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


async def _on_startup(platform: Platform) -> None:
    from smartseoul.safety.sound.runtime import hub_of

    await hub_of(platform).start()


async def _on_shutdown(platform: Platform) -> None:
    from smartseoul.safety.sound.runtime import HUB_KEY

    hub = platform.cache.pop(HUB_KEY, None)
    if hub is not None:
        await hub.stop()


def _routers() -> list[APIRouter]:
    from smartseoul.safety.sound.pages import router as pages
    from smartseoul.safety.sound.router import router

    return [router, pages]


def _cli() -> dict[str, typer.Typer]:
    from smartseoul.safety.sound.cli import app

    return {"sound": app}


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.sound.simulate import seed_demo

    return seed_demo(platform, session)


def _generators(platform: Platform) -> list[ActivityGenerator]:
    from smartseoul.safety.sound.simulate import generators

    return generators(platform)


PLUGIN = DomainPlugin(
    name="sound",
    models=("smartseoul.safety.sound.models",),
    routers=_routers,
    seed_demo=_seed_demo,
    generators=_generators,
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=_cli,
    nav=(NavLink("/console/sound", "sound_nav", ("operator", "admin", "auditor")),),
)
