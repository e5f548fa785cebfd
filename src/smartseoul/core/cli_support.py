"""What every domain's admin commands share: the platform built from the environment, who is
acting (written to the audit ledger), and failing with one clear line and an exit code."""

from __future__ import annotations

import os
from typing import Any, NoReturn

import typer


def command_platform() -> Any:
    """The platform as `smartseoul serve` would build it (settings from SMARTSEOUL_*)."""
    from smartseoul.cli import _platform as build
    from smartseoul.cli import _settings

    return build(_settings())


def cli_actor(name: str | None = None) -> str:
    """The ledger's name for whoever runs the command: ``--as NAME``, else ``cli:$USER``."""
    return name or f"cli:{os.environ.get('USER', 'admin')}"


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
