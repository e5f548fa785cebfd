"""The videowall domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="videowall",
    models=("smartseoul.safety.videowall.models",),
)
