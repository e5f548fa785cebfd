"""The simulator: synthetic city activity on the bus, so screens and consumers have something to do.

Each domain plugs in its own generators (see ``DomainPlugin.generators``); arrivals are a Poisson
process at ``SMARTSEOUL_SIMULATE_RATE`` events per second, split between generators by weight.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

from smartseoul.core.bootstrap import Platform
from smartseoul.core.plugin import ActivityGenerator
from smartseoul.domains import plugins

log = logging.getLogger(__name__)


class Simulator:
    def __init__(self, platform: Platform, *, rate: float | None = None, seed: int | None = None) -> None:
        self.platform = platform
        self.rate = rate or platform.settings.simulate_rate
        self.rng = random.Random(seed if seed is not None else time.time_ns())
        self.generators: list[ActivityGenerator] = []
        self.published = 0

    def load_generators(self) -> list[ActivityGenerator]:
        if not self.generators:
            self.generators = [g for plugin in plugins() for g in plugin.generators(self.platform)]
        return self.generators

    async def step(self) -> bool:
        """Publish one event from a generator chosen by weight; False when none made one."""
        generators = self.load_generators()
        if not generators:
            return False
        generator = self.rng.choices(generators, weights=[g.weight for g in generators])[0]
        event = await generator.make(self.platform, self.rng)
        if event is None:
            return False
        await self.platform.bus.publish(event)
        self.published += 1
        return True

    async def run(self, duration: float | None = None, on_event: Callable[[int], None] | None = None) -> int:
        """Run until cancelled or ``duration`` seconds have passed; returns how many were published."""
        if not self.load_generators():
            log.warning("simulator: no domain provides generators; nothing to simulate")
            return 0
        log.info("simulator: %d generators at %.2f events/s", len(self.generators), self.rate)
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            wait = self.rng.expovariate(self.rate)
            if deadline is not None:
                wait = min(wait, max(deadline - time.monotonic(), 0))
            await asyncio.sleep(wait)
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                if await self.step() and on_event is not None:
                    on_event(self.published)
            except Exception:
                log.exception("simulator: a generator failed; continuing")
        return self.published
