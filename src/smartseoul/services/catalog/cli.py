"""`smartseoul catalog ...`: load the demo catalogue and print the channel-coverage report."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from smartseoul.core.cli_support import command_platform

app = typer.Typer(help="The city's service catalogue and its channel coverage.", no_args_is_help=True)


@app.command("load-demo")
def load_demo() -> None:
    """Load the demo catalogue (108 Seoul services); services already there are kept."""
    from smartseoul.services.catalog import service

    platform = command_platform()
    with platform.db.session() as session:
        added = service.load_demo(session)
    typer.echo(f"{added} services added")


@app.command("coverage")
def coverage(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV (per year and department).")] = False,
) -> None:
    """Share of services fully doable on mobile, per year (and per department with --json/--csv)."""
    from smartseoul.services.catalog import service

    platform = command_platform()
    with platform.db.session() as session:
        report = service.coverage(session)
    if csv:
        typer.echo(service.coverage_csv(report), nl=False)
        return
    if as_json:
        typer.echo(json.dumps(service.coverage_dict(report), ensure_ascii=False, indent=2))
        return
    for row in report:
        if not row.department:
            typer.echo(f"{row.year}  {row.mobile:4d}/{row.services:<4d} {row.share:5.1f}%")
