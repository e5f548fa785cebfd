"""The alerts domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="alerts",
    models=("smartseoul.safety.alerts.models",),
)
