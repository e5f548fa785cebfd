"""The catalog domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="catalog",
    models=("smartseoul.services.catalog.models",),
)
