"""The monitoring domain as a platform plugin: API and console, the engine, demo cameras."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, NavLink, lazy_cli, lazy_routers

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

CONSOLE_ROLES = ("admin", "operator", "dispatcher", "district_staff")


async def _on_startup(platform: Platform) -> None:
    if not platform.settings.monitoring_enabled:
        return
    from smartseoul.safety.monitoring.engine import engine_of

    engine = engine_of(platform)
    await asyncio.to_thread(engine.start, asyncio.get_running_loop())


async def _on_shutdown(platform: Platform) -> None:
    from smartseoul.safety.monitoring.engine import ENGINE_KEY, Engine

    engine = platform.cache.pop(ENGINE_KEY, None)
    if isinstance(engine, Engine):
        await asyncio.to_thread(engine.stop)


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.safety.monitoring.seed import seed_demo

    return seed_demo(platform, session)


def _metrics(platform: Platform, registry: CollectorRegistry) -> None:
    from smartseoul.safety.monitoring.engine import install_gauge

    install_gauge(registry, platform)


PLUGIN = DomainPlugin(
    name="monitoring",
    models=("smartseoul.safety.monitoring.models",),
    routers=lazy_routers(
        "smartseoul.safety.monitoring.router:router", "smartseoul.safety.monitoring.pages:router"
    ),
    seed_demo=_seed_demo,
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(monitoring="smartseoul.safety.monitoring.cli:app"),
    nav=(NavLink("/console/monitoring", "monitoring_nav", CONSOLE_ROLES),),
    metrics=_metrics,
)
