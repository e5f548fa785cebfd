"""The sound domain as a platform plugin: API, console page, the detection hub, demo microphones."""

from __future__ import annotations

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


async def _on_startup(platform: Platform) -> None:
    from smartseoul.safety.sound.runtime import hub_of

    await hub_of(platform).start()


async def _on_shutdown(platform: Platform) -> None:
    from smartseoul.safety.sound.runtime import HUB_KEY

    hub = platform.cache.pop(HUB_KEY, None)
    if hub is not None:
        await hub.stop()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.sound.simulate import seed_demo

    return seed_demo(platform, session)


PLUGIN = DomainPlugin(
    name="sound",
    models=("smartseoul.safety.sound.models",),
    routers=lazy_routers("smartseoul.safety.sound.router:router", "smartseoul.safety.sound.pages:router"),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.safety.sound.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(sound="smartseoul.safety.sound.cli:app"),
    nav=(NavLink("/console/sound", "sound_nav", ("operator", "admin", "auditor")),),
)
