"""The platform core as a plugin: its tables and its API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core.plugin import DomainPlugin

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> list[APIRouter]:
    from smartseoul.core.router import router

    return [router]


PLUGIN = DomainPlugin(
    name="core", models=("smartseoul.core.models", "smartseoul.core.push_models"), routers=_routers
)
