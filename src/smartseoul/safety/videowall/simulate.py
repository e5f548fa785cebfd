"""Simulated camera faults for the demo: now and then a grouped camera that nobody has on screen
goes black, freezes, is covered, blurs or is knocked aside for a minute, so the health monitor,
its alarms and the incident desk have something to show without an operator's drill.

One fault at a time, never on a camera someone is watching (what is on a screen stays as it is),
none while an operator's drill is running, and none with ``videowall_demo_faults`` off.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from smartseoul.core.plugin import ActivityGenerator
from smartseoul.safety.videowall.plugin import hub_of, monitor_of

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

DEMO_FAULTS = ("freeze", "black", "covered", "blur", "moved")
FAULT_S = 60.0
WEIGHT = 0.01  # about one every few minutes at the demo rate


async def camera_fault(platform: Platform, rng: random.Random) -> Event | None:
    """Start one demo fault (healed after ``FAULT_S``); the event comes later, from the monitor."""
    hub = hub_of(platform)
    if not platform.settings.videowall_demo_faults or hub.faults:
        return None
    on_screen = set(hub.watched())
    candidates = [c for c in monitor_of(platform).grouped if c not in on_screen]
    if not candidates:
        return None
    camera_id, fault = rng.choice(candidates), rng.choice(DEMO_FAULTS)
    hub.set_fault(camera_id, fault)  # type: ignore[arg-type]
    asyncio.get_running_loop().call_later(FAULT_S, hub.set_fault, camera_id, None)
    return None


def generators(platform: Platform) -> list[ActivityGenerator]:
    return [ActivityGenerator("camera_fault", WEIGHT, camera_fault)]
