"""The identity domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="identity",
    models=("smartseoul.services.identity.models",),
)
