"""The monitoring domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="monitoring",
    models=("smartseoul.safety.monitoring.models",),
)
