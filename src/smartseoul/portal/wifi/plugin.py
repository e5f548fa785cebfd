"""The wifi domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="wifi",
    models=("smartseoul.portal.wifi.models",),
)
