"""The certificates domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="certificates",
    models=("smartseoul.services.certificates.models",),
)
