"""The incidents domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="incidents",
    models=("smartseoul.safety.incidents.models",),
)
