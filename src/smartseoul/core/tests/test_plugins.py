"""Every domain's lazily named routers, command groups and simulators resolve.

The plugins name them as ``"module:attribute"`` strings (imported only when the app, the CLI or
the simulator is built), which no type checker follows: a renamed module would only show when a
user starts that part. Here it fails the suite, naming the plugin.
"""

from __future__ import annotations

import inspect

import typer
from fastapi import APIRouter

from smartseoul.domains import plugins


def test_every_plugin_names_routers_and_commands_that_exist() -> None:
    for plugin in plugins():
        routers = plugin.routers()
        assert all(isinstance(router, APIRouter) for router in routers), plugin.name
        commands = plugin.cli() if plugin.cli is not None else {}
        assert all(isinstance(app, typer.Typer) for app in commands.values()), plugin.name


def test_every_plugin_simulator_is_a_function_of_the_platform() -> None:
    from smartseoul.core import plugin as core

    for found in plugins():
        generator = found.generators
        closure = inspect.getclosurevars(generator).nonlocals.get("reference")
        if closure is None:  # the default (no simulator) or a function of the plugin's own
            continue
        target = core._load(closure)
        assert callable(target), found.name
        assert list(inspect.signature(target).parameters) == ["platform"], found.name
