"""The wifi domain as a platform plugin: registry, health sweep, MQTT status, RADIUS listener."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from smartseoul.core.plugin import (
    DomainPlugin,
    NavLink,
    lazy_cli,
    lazy_generators,
    lazy_routers,
)

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

TASKS_KEY = "wifi.tasks"
RADIUS_KEY = "wifi.radius"


async def _on_startup(platform: Platform) -> None:
    from smartseoul.core.mqtt import subscribe_forever
    from smartseoul.portal.wifi import runtime

    settings = platform.settings
    tasks = []
    if settings.wifi_workers:
        tasks.append(asyncio.create_task(runtime.sweep_forever(platform)))
    if settings.wifi_mqtt_url:

        async def handler(topic: str, payload: bytes) -> None:
            await runtime.on_mqtt_message(platform, topic, payload)

        tasks.append(
            asyncio.create_task(
                subscribe_forever(
                    settings.wifi_mqtt_url, runtime.TOPIC, f"smartseoul-wifi-{id(platform)}", handler
                )
            )
        )
    platform.cache[TASKS_KEY] = tasks
    if settings.wifi_radius_port:
        platform.cache[RADIUS_KEY] = await runtime.start_radius(platform)


async def _on_shutdown(platform: Platform) -> None:
    for task in platform.cache.pop(TASKS_KEY, []):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    transport = platform.cache.pop(RADIUS_KEY, None)
    if transport is not None:
        transport.close()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.portal.wifi.seed import seed_demo

    seed_demo(session, platform.settings.demo_seed, platform.secret_key)
    return []


def _metrics(platform: Platform, registry: CollectorRegistry) -> None:
    from smartseoul.portal.wifi.metrics import WifiCollector

    registry.register(WifiCollector(platform))


PLUGIN = DomainPlugin(
    name="wifi",
    models=("smartseoul.portal.wifi.models",),
    routers=lazy_routers("smartseoul.portal.wifi.router:router", "smartseoul.portal.wifi.pages:router"),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.portal.wifi.simulate:generators"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(wifi="smartseoul.portal.wifi.cli:app"),
    nav=(NavLink("/console/wifi", "wifi_nav", ("admin", "operator", "district_staff", "auditor")),),
    metrics=_metrics,
)
