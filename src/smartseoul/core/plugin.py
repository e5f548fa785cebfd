"""What a domain hands to the platform: tables, routers, demo seeding, simulated activity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    import typer
    from fastapi import APIRouter
    from prometheus_client import CollectorRegistry
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event


@dataclass(frozen=True)
class ActivityGenerator:
    """Makes one kind of simulated event; ``weight`` is its share of the simulator's rate."""

    name: str
    weight: float
    make: Callable[[Platform, random.Random], Awaitable[Event | None]]


@dataclass(frozen=True)
class NavLink:
    """A link in the top bar: shown to a signed-in person holding any of ``roles``."""

    href: str
    label_key: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class DomainPlugin:
    name: str
    models: tuple[str, ...] = ()
    routers: Callable[[], list[APIRouter]] = field(default=lambda: [])
    seed_demo: Callable[[Platform, Session], list[Event]] | None = None
    generators: Callable[[Platform], list[ActivityGenerator]] = field(default=lambda _platform: [])
    on_startup: Callable[[Platform], Awaitable[None]] | None = None
    on_shutdown: Callable[[Platform], Awaitable[None]] | None = None
    cli: Callable[[], dict[str, typer.Typer]] | None = None
    nav: tuple[NavLink, ...] = ()
    # adds the domain's gauges to the app's /metrics registry (called once per app)
    metrics: Callable[[Platform, CollectorRegistry], None] | None = None
