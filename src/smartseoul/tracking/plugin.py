"""The location safety service as a platform plugin: tables, CLI, and the device listeners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin, lazy_cli, lazy_generators, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event
    from smartseoul.tracking.commands import DeviceLinks
    from smartseoul.tracking.guardian_stream import GuardianFanout
    from smartseoul.tracking.ingest import Ingestor

log = logging.getLogger("smartseoul.tracking")
INGESTOR_KEY = "tracking.ingestor"
SERVERS_KEY = "tracking.servers"
MQTT_KEY = "tracking.mqtt"
RETENTION_KEY = "tracking.retention"
ARRIVALS_KEY = "tracking.arrivals"
LINKS_KEY = "tracking.device_links"
FANOUT_KEY = "tracking.guardian_fanout"
PUSH_KEY = "tracking.guardian_push"
ZONES_WARM_KEY = "tracking.zones_warm"


def ingestor(platform: Platform) -> Ingestor:
    """The one ingestor of this process (shared by every listener and the OwnTracks endpoint)."""
    from smartseoul.tracking.ingest import Ingestor

    found = platform.cache.get(INGESTOR_KEY)
    if not isinstance(found, Ingestor):
        found = Ingestor(platform)
        platform.cache[INGESTOR_KEY] = found
    return found


def device_links(platform: Platform) -> DeviceLinks:
    """Which connection each device is on, for commands such as find now."""
    from smartseoul.tracking.commands import DeviceLinks

    found = platform.cache.get(LINKS_KEY)
    if not isinstance(found, DeviceLinks):
        found = DeviceLinks()
        platform.cache[LINKS_KEY] = found
    return found


def guardian_fanout(platform: Platform) -> GuardianFanout:
    """The guardians' live alarm streams of this process."""
    from smartseoul.tracking.guardian_stream import GuardianFanout

    found = platform.cache.get(FANOUT_KEY)
    if not isinstance(found, GuardianFanout):
        found = GuardianFanout(platform.bus)
        platform.cache[FANOUT_KEY] = found
    return found


def tcp_protocols(platform: Platform) -> list[object]:
    from smartseoul.tracking.listeners import TcpProtocol
    from smartseoul.tracking.protocols.gt06 import Gt06Decoder
    from smartseoul.tracking.protocols.h02 import H02Decoder
    from smartseoul.tracking.protocols.watch import WatchDecoder

    settings = platform.settings
    return [
        TcpProtocol("watch", settings.tracking_watch_port, WatchDecoder),
        TcpProtocol("gt06", settings.tracking_gt06_port, Gt06Decoder),
        TcpProtocol("h02", settings.tracking_h02_port, H02Decoder),
    ]


async def start_listeners(platform: Platform) -> list[asyncio.Server]:
    """Start every listener; a port that is taken is a one-line error, not a crash."""
    from smartseoul.tracking.listeners import TcpProtocol, start_osmand, start_tcp

    host = platform.settings.tracking_listen_host
    servers: list[asyncio.Server] = []
    shared = ingestor(platform)
    starters = [
        (p.name, start_tcp(p, host, shared, device_links(platform)))
        for p in tcp_protocols(platform)
        if isinstance(p, TcpProtocol)
    ]
    starters.append(("osmand", start_osmand(platform.settings.tracking_osmand_port, host, shared)))
    for name, starter in starters:
        try:
            servers.append(await starter)
        except OSError as error:
            log.error("%s listener not started: %s", name, error)
    return servers


async def _on_startup(platform: Platform) -> None:
    from smartseoul.tracking import push_alarms
    from smartseoul.tracking.retention import run_periodically

    platform.cache[RETENTION_KEY] = asyncio.create_task(run_periodically(platform))
    platform.cache[PUSH_KEY] = await push_alarms.start(platform)
    if platform.settings.tracking_zones:
        from smartseoul.tracking.ingest import check_arrivals_forever

        # Compile the zones now, not on the first fix: at 50,000 zones that takes seconds, and the
        # first positions (and an SOS behind them) would wait for it.
        warm = platform.cache[ZONES_WARM_KEY] = asyncio.create_task(ingestor(platform).warm_zones())
        platform.warmups.append(warm)

        platform.cache[ARRIVALS_KEY] = asyncio.create_task(check_arrivals_forever(ingestor(platform)))
    if platform.settings.tracking_listeners:
        platform.cache[SERVERS_KEY] = await start_listeners(platform)
    if platform.settings.tracking_mqtt_url:
        from smartseoul.tracking.mqtt import subscribe_forever

        platform.cache[MQTT_KEY] = asyncio.create_task(
            subscribe_forever(platform.settings.tracking_mqtt_url, ingestor(platform))
        )


async def _on_shutdown(platform: Platform) -> None:
    for key in (MQTT_KEY, RETENTION_KEY, ARRIVALS_KEY, ZONES_WARM_KEY):
        task = platform.cache.pop(key, None)
        if isinstance(task, asyncio.Task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    pushing = platform.cache.pop(PUSH_KEY, None)
    if pushing is not None:
        await pushing.stop()
    fanout = platform.cache.pop(FANOUT_KEY, None)
    if fanout is not None:
        await fanout.stop()
    servers: list[asyncio.Server] = platform.cache.pop(SERVERS_KEY, [])
    for server in servers:
        server.close()
    for server in servers:
        await server.wait_closed()
    found = platform.cache.get(INGESTOR_KEY)
    if found is not None:
        await found.drain()


def _seed_demo(platform: Platform, session: Session) -> list[Event]:
    from smartseoul.tracking.seed import seed_children

    seed_children(session, platform.settings.demo_seed)
    return []


PLUGIN = DomainPlugin(
    name="tracking",
    models=("smartseoul.tracking.models",),
    routers=lazy_routers("smartseoul.tracking.router:router", "smartseoul.tracking.pages:router"),
    seed_demo=_seed_demo,
    generators=lazy_generators("smartseoul.tracking.simulate:walkers"),
    on_startup=_on_startup,
    on_shutdown=_on_shutdown,
    cli=lazy_cli(device="smartseoul.tracking.cli:app", person="smartseoul.tracking.cli:person_app"),
)
