"""The sound domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="sound",
    models=("smartseoul.safety.sound.models",),
)
