"""The education domain as a platform plugin."""

from __future__ import annotations

from smartseoul.core.plugin import DomainPlugin

PLUGIN = DomainPlugin(
    name="education",
    models=("smartseoul.portal.education.models",),
)
