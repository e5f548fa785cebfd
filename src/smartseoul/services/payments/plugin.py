"""The payments domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="payments",
    models=("smartseoul.services.payments.models",),
)
