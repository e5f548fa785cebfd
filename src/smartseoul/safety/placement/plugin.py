"""The placement domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="placement",
    models=("smartseoul.safety.placement.models",),
)
