"""What a domain hands to the platform: tables, routers, demo seeding, simulated activity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def _load(reference: str) -> Any:
    """``"package.module:name"`` -> that object, imported only now."""
    module, _, name = reference.partition(":")
    return getattr(import_module(module), name)


def lazy_routers(*references: str) -> Callable[[], list[APIRouter]]:
    """A plugin's routers, named ``"module:attribute"`` and imported when the app is built, so that
    listing the domains (for the CLI, migrations, a worker) imports no web code."""
    return lambda: [_load(reference) for reference in references]


def lazy_cli(**commands: str) -> Callable[[], dict[str, typer.Typer]]:
    """A plugin's command groups (``device="smartseoul.tracking.cli:app"``), imported when the CLI
    is built."""
    return lambda: {name: _load(reference) for name, reference in commands.items()}


def lazy_generators(reference: str) -> Callable[[Platform], list[ActivityGenerator]]:
    """A plugin's simulator: ``"module:function"`` called with the platform when it starts."""
    return lambda platform: list(_load(reference)(platform))
