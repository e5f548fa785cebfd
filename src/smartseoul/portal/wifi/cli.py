"""`smartseoul wifi ...`: import RADIUS detail files, coverage and usage figures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import typer

from smartseoul.core import audit
from smartseoul.core.cli_support import cli_actor, command_platform
from smartseoul.portal.wifi import radius, service

app = typer.Typer(help="Public WiFi: RADIUS imports, coverage, usage.", no_args_is_help=True)


@app.command("import-radius")
def import_radius(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A FreeRADIUS detail file."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import accounting records; records already stored (same session, type and time) are skipped."""
    platform = command_platform()
    records, malformed = [], []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for item in radius.parse_detail(handle):
            if isinstance(item, radius.MalformedRecord):
                malformed.append(str(item))
            else:
                records.append(item)
    with platform.db.session() as session:
        result = service.store_accounting(session, records, platform.secret_key, source="file")
        result.malformed = malformed
        audit.record(session, actor=cli_actor(), action="wifi.accounting.import", target=str(path)[:256])
    platform.db.dispose()
    found = result.as_dict()
    if as_json:
        typer.echo(json.dumps(found))
    else:
        typer.echo(
            f"stored {found['stored']}, duplicates {found['duplicates']}, "
            f"malformed {found['malformed_count']}"
        )
        for line in malformed[:20]:
            typer.echo(f"  {line}", err=True)


@app.command("coverage")
def coverage(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The share of public facilities with working WiFi, city-wide and by district."""
    platform = command_platform()
    with platform.db.session() as session:
        city, districts = service.coverage(session)
    platform.db.dispose()
    if as_json:
        body = {"city": city.as_dict(), "districts": {k: v.as_dict() for k, v in districts.items()}}
        typer.echo(json.dumps(body))
        return
    typer.echo(f"city: {city.covered}/{city.facilities} = {city.ratio:.1%}")
    for code, found in districts.items():
        typer.echo(f"{code}: {found.covered}/{found.facilities} = {found.ratio:.1%}")


@app.command("usage")
def usage(
    days: int = typer.Option(7, min=1, max=366, help="How many days back from today (Seoul)."),
    by: str = typer.Option("district", help="ap, facility, district or city."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Sessions, unique users and traffic per day."""
    if by not in ("ap", "facility", "district", "city"):
        raise typer.BadParameter("by must be ap, facility, district or city")
    platform = command_platform()
    today: date = service.today_seoul()
    with platform.db.session() as session:
        rows = service.usage(session, today - timedelta(days=days - 1), today, by)
    platform.db.dispose()
    if as_json:
        typer.echo(json.dumps([row.as_dict() for row in rows]))
        return
    for row in rows:
        typer.echo(
            f"{row.day} {row.key}: {row.sessions} sessions, {row.unique_users} users, {row.bytes} bytes"
        )
