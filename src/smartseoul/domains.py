"""The domains that make up the platform, each self-contained (the Home Assistant way).

A domain is a package with a ``plugin`` module exposing ``PLUGIN``: its models module, its
routers, its demo seeding and its simulator generators. Adding a domain is one line here.
"""

from __future__ import annotations

import importlib

from smartseoul.core.plugin import DomainPlugin

DOMAIN_MODULES = (
    "smartseoul.core.plugin_core",
    "smartseoul.city.plugin",
    "smartseoul.tracking.plugin",
    "smartseoul.safety.cctv.plugin",
    "smartseoul.safety.placement.plugin",
    "smartseoul.safety.incidents.plugin",
    "smartseoul.safety.alerts.plugin",
    "smartseoul.safety.videowall.plugin",
    "smartseoul.services.complaints.plugin",
    "smartseoul.services.reservations.plugin",
    "smartseoul.services.payments.plugin",
    "smartseoul.services.catalog.plugin",
    "smartseoul.services.identity.plugin",
    "smartseoul.services.certificates.plugin",
    "smartseoul.portal.content.plugin",
    "smartseoul.portal.wifi.plugin",
    "smartseoul.portal.education.plugin",
    "smartseoul.safety.sound.plugin",
    "smartseoul.safety.monitoring.plugin",
)


def plugins() -> list[DomainPlugin]:
    return [importlib.import_module(name).PLUGIN for name in DOMAIN_MODULES]


def import_models() -> None:
    """Import every domain's tables so that the metadata is complete (migrations, tests)."""
    import smartseoul.core.models  # noqa: F401

    for plugin in plugins():
        for module in plugin.models:
            importlib.import_module(module)
