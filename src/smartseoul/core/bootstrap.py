"""The single place that wires a process together (the Cosmic Python bootstrap).

Web app, CLI, simulator and tests all build their dependencies here, so swapping SQLite for
PostgreSQL or the in-process bus for NATS is a setting, never a code change.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from smartseoul.core.auth import RateLimiter
from smartseoul.core.bus import EventBus, make_bus
from smartseoul.core.db import Database, check_database
from smartseoul.core.settings import Settings


@dataclass
class Platform:
    """Everything a request handler, a consumer or a command may need."""

    settings: Settings
    db: Database
    bus: EventBus
    secret_key: str
    login_limiter: RateLimiter
    cache: dict[str, Any] = field(default_factory=dict)
    started: bool = False
    # start-up work still running in the background (e.g. compiling the safe zones); the server
    # freezes its heap once these are done (core/heap.py)
    warmups: list[asyncio.Future[Any]] = field(default_factory=list)

    async def start(self) -> None:
        """Reach the database and the bus; raise with a one-line reason when either is down."""
        check_database(self.db.engine)
        await self.bus.start()
        from smartseoul.domains import plugins

        for plugin in plugins():
            if plugin.on_startup is not None:
                await plugin.on_startup(self)
        self.started = True

    async def close(self) -> None:
        from smartseoul.domains import plugins

        for plugin in reversed(plugins()):
            if plugin.on_shutdown is not None and self.started:
                await plugin.on_shutdown(self)
        with contextlib.suppress(Exception):
            await self.bus.close()
        self.db.dispose()
        self.started = False


def bootstrap(settings: Settings, *, db: Database | None = None, bus: EventBus | None = None) -> Platform:
    """Build (but do not start) the platform described by ``settings``."""
    return Platform(
        settings=settings,
        db=db or Database(settings.effective_database_url),
        bus=bus or make_bus(settings.bus_url, settings.bus_stream),
        secret_key=settings.effective_secret_key(),
        login_limiter=RateLimiter(settings.login_rate_per_minute),
    )
