"""The content domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="content",
    models=("smartseoul.portal.content.models",),
)
