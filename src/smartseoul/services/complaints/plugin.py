"""The complaints domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="complaints",
    models=("smartseoul.services.complaints.models",),
)
