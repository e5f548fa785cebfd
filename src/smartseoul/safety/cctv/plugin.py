"""The cctv domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="cctv",
    models=("smartseoul.safety.cctv.models",),
)
