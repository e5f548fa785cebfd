"""The reservations domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="reservations",
    models=("smartseoul.services.reservations.models",),
)
