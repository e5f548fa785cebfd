"""Virtual children walking between home and school, reporting over the real watch protocol.

Each child is a kids' GPS watch that connects to the platform's own watch listener (TCP 5093 by
default) and sends ``[3G*ID*LEN*UD,...]`` frames, so the demo exercises the same decoding,
consent checks, storage and alarms as a real watch; now and then one presses SOS indoors (no fix),
takes the watch off or runs low on battery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from smartseoul.core.plugin import ActivityGenerator
from smartseoul.tracking.models import Device

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

log = logging.getLogger("smartseoul.tracking.simulate")
WALK_KMH = 4.0
STATUS = {"sos": "00010000", "low_battery": "00020000", "removal": "00100000"}
RARE_EVENTS = (("sos", 0.01), ("removal", 0.005), ("low_battery", 0.005))


@dataclass
class VirtualWatch:
    identifier: str
    home: tuple[float, float]
    school: tuple[float, float]
    phase: float
    writer: asyncio.StreamWriter | None = None


def watch_frame(identifier: str, content: str) -> bytes:
    return f"[3G*{identifier}*{len(content.encode()):04X}*{content}]".encode()


def position_content(
    lat: float | None,
    lon: float | None,
    when: datetime,
    status: str = "00000000",
    command: str = "UD",
    battery: int = 80,
) -> str:
    valid = "A" if lat is not None and lon is not None else "V"
    lat_text = f"{abs(lat or 0):.6f},{'N' if (lat or 0) >= 0 else 'S'}"
    lon_text = f"{abs(lon or 0):.6f},{'E' if (lon or 0) >= 0 else 'W'}"
    return (
        f"{command},{when:%d%m%y},{when:%H%M%S},{valid},{lat_text},{lon_text},{WALK_KMH:.2f},0.0,30.0,"
        f"{9 if valid == 'A' else 0},100,{battery},0,0,{status},0,0"
    )


def where(watch: VirtualWatch, now: datetime) -> tuple[float, float]:
    """Back and forth between home and school, at walking speed, with a little GPS noise."""
    (lat1, lon1), (lat2, lon2) = watch.home, watch.school
    metres = math.hypot((lat2 - lat1) * 111_000, (lon2 - lon1) * 88_000) or 1.0
    cycle = 2 * metres / (WALK_KMH / 3.6)
    t = (now.timestamp() / cycle + watch.phase) % 1.0
    share = 2 * t if t < 0.5 else 2 - 2 * t
    return (round(lat1 + (lat2 - lat1) * share, 6), round(lon1 + (lon2 - lon1) * share, 6))


class ChildWalkers:
    """The virtual watches of the demo children; each call sends one frame for one child."""

    def __init__(self, platform: Platform, watches: list[VirtualWatch]) -> None:
        self.platform = platform
        self.watches = watches
        self._readers: set[asyncio.Task[None]] = set()

    async def _send(self, watch: VirtualWatch, frame: bytes) -> None:
        if watch.writer is None or watch.writer.is_closing():
            reader, watch.writer = await asyncio.open_connection(
                "127.0.0.1", self.platform.settings.tracking_watch_port
            )
            task = asyncio.create_task(self._drain_replies(reader))
            self._readers.add(task)
            task.add_done_callback(self._readers.discard)
        watch.writer.write(frame)
        await watch.writer.drain()

    @staticmethod
    async def _drain_replies(reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(Exception):
            while await reader.read(1024):
                pass

    async def step(self, platform: Platform, rng: random.Random) -> Event | None:
        if not self.watches:
            return None
        watch = rng.choice(self.watches)
        now = datetime.now(UTC)
        lat, lon = where(watch, now)
        content = position_content(lat + rng.gauss(0, 0.00003), lon + rng.gauss(0, 0.00003), now)
        for kind, chance in RARE_EVENTS:
            if rng.random() < chance:
                indoors = kind == "sos" and rng.random() < 0.5
                content = position_content(
                    None if indoors else lat,
                    None if indoors else lon,
                    now,
                    status=STATUS[kind],
                    command="AL",
                    battery=9 if kind == "low_battery" else 80,
                )
                break
        try:
            await self._send(watch, watch_frame(watch.identifier, content))
        except OSError as error:
            log.warning("simulated watch %s could not reach the listener: %s", watch.identifier, error)
            watch.writer = None
        return None


def listener_reachable(port: int) -> bool:
    """`smartseoul simulate` may run without a server: walk only where a watch listener answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def walkers(platform: Platform) -> list[ActivityGenerator]:
    """The generator for the simulator, or none when the listeners are off or no child is seeded."""
    if not platform.settings.tracking_listeners or not listener_reachable(
        platform.settings.tracking_watch_port
    ):
        log.info(
            "simulator: no watch listener on port %d; the demo children stay home",
            platform.settings.tracking_watch_port,
        )
        return []
    from smartseoul.tracking.seed import DEMO_PREFIX, homes_and_schools

    with platform.db.session() as session:
        identifiers = list(
            session.scalars(select(Device.identifier).where(Device.identifier.startswith(DEMO_PREFIX)))
        )
        places = homes_and_schools(session, identifiers)
    rng = random.Random(platform.settings.demo_seed)
    watches = [VirtualWatch(i, *places[i], phase=rng.random()) for i in identifiers if i in places]
    if not watches:
        return []
    return [ActivityGenerator("tracking.child_walkers", 3.0, ChildWalkers(platform, watches).step)]
