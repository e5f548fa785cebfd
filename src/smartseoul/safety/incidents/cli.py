"""`smartseoul bell ...`, `smartseoul incident ...` and `smartseoul agency ...`: the desk's admin
commands for scripting and drills, recorded in the audit ledger like the console."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select

from smartseoul.core.auth import InvalidInput
from smartseoul.core.cli_support import cli_actor as _operator
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

bell_app = typer.Typer(help="Emergency bells.", no_args_is_help=True)
incident_app = typer.Typer(help="The incident desk.", no_args_is_help=True)
agency_app = typer.Typer(
    help="Agencies that take hand-overs (police, fire, school guards, districts).", no_args_is_help=True
)
CLI_PRINCIPAL_ROLES = frozenset({"admin"})


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _echo_json(rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    typer.echo(json.dumps(rows, ensure_ascii=False, default=_jsonable))


@bell_app.command("add")
def bell_add(
    bell_id: Annotated[str, typer.Argument(metavar="ID", help="The bell's id (as in its MQTT topic).")],
    lat: Annotated[float, typer.Option(help="Latitude (WGS84).")],
    lon: Annotated[float, typer.Option(help="Longitude (WGS84).")],
    district: Annotated[
        str | None, typer.Option(help="District code; found from the point when left out.")
    ] = None,
    name: Annotated[str, typer.Option(help="A name operators recognise.")] = "",
    camera: Annotated[list[int] | None, typer.Option(help="A linked camera id (repeat for several).")] = None,
    no_intercom: Annotated[bool, typer.Option("--no-intercom", help="The bell has no intercom.")] = False,
    http_key: Annotated[
        bool, typer.Option("--http-key", help="Print a key for a bell that posts over HTTP.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register an emergency bell."""
    from smartseoul.safety.incidents import bells

    platform = _platform()
    try:
        with platform.db.session() as session:
            bell = bells.add_bell(
                session,
                bell_id,
                lat,
                lon,
                actor=_operator(),
                district_code=district,
                name=name,
                camera_ids=camera or [],
                has_intercom=not no_intercom,
            )
            found = bells.bell_dict(bell)
            if http_key:
                found["http_key"] = bells.issue_http_key(session, bell, _operator())
    except InvalidInput as error:
        _fail(str(error))
    if as_json:
        _echo_json(found)
        return
    typer.echo(f"bell {bell_id} registered in district {found['district_code'] or '-'}")
    if http_key:
        typer.echo(f"HTTP key (shown once): {found['http_key']}")


@bell_app.command("list")
def bell_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every bell with its health."""
    from smartseoul.safety.incidents import bells

    platform = _platform()
    with platform.db.session() as session:
        rows = [bells.bell_dict(b) for b in bells.list_bells(session)]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['district_code'] or '-'}\t{row['status']}\t{row['lat']}, {row['lon']}")


@incident_app.command("list")
def incident_list(
    status: Annotated[
        str | None,
        typer.Option(help="open, or one of new, acknowledged, dispatched, on_scene, resolved, closed."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Incidents, most urgent first (the read is recorded in the audit ledger)."""
    from smartseoul.core import audit
    from smartseoul.core.auth import Principal
    from smartseoul.safety.incidents import service

    platform = _platform()
    principal = Principal("user", 0, _operator(), CLI_PRINCIPAL_ROLES)
    try:
        with platform.db.session() as session:
            rows = [
                service.incident_dict(i) for i in service.list_incidents(session, principal, status, limit)
            ]
            audit.record(
                session,
                actor=_operator(),
                action="incident.list",
                target=f"status:{status or 'all'}",
                client="cli",
            )
    except InvalidInput as error:
        _fail(str(error))
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        typer.echo(f"#{row['id']}\tP{row['priority']}\t{row['status']}\t{row['source']}\t{row['title_en']}")


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Argument(help="A short unique code, e.g. police-jongno.")],
    kind: Annotated[str, typer.Option(help="police, fire, school_guard or district.")],
    name_ko: Annotated[str, typer.Option(help="Korean name.")] = "",
    name_en: Annotated[str, typer.Option(help="English name.")] = "",
    district: Annotated[list[str] | None, typer.Option(help="A district code it covers (repeat).")] = None,
    webhook: Annotated[str, typer.Option(help="http(s) URL that receives signed hand-overs.")] = "",
    lat: Annotated[float | None, typer.Option(help="Where the agency is (nearest-first choice).")] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    api_key: Annotated[bool, typer.Option("--api-key", help="Also print the agency's own API key.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register an agency; prints its webhook secret (and API key) once."""
    from smartseoul.safety.incidents import handovers

    platform = _platform()
    try:
        with platform.db.session() as session:
            agency = handovers.add_agency(
                session,
                code=code,
                kind=kind,
                name_ko=name_ko,
                name_en=name_en,
                district_codes=district or [],
                actor=_operator(),
                webhook_url=webhook,
                lat=lat,
                lon=lon,
            )
            found = {**handovers.agency_dict(agency), "secret": agency.secret}
            if api_key:
                found["api_key"] = handovers.issue_agency_key(session, agency, _operator())
    except InvalidInput as error:
        _fail(str(error))
    if as_json:
        _echo_json(found)
        return
    typer.echo(f"agency {code} registered ({kind}); webhook secret (shown once): {found['secret']}")
    if api_key:
        typer.echo(f"agency API key (shown once): {found['api_key']}")


@agency_app.command("list")
def agency_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every agency, by kind."""
    from smartseoul.safety.incidents import handovers
    from smartseoul.safety.incidents.models import Agency

    platform = _platform()
    with platform.db.session() as session:
        rows = [
            handovers.agency_dict(a)
            for a in session.scalars(select(Agency).order_by(Agency.kind, Agency.code))
        ]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        districts = ",".join(row["district_codes"]) or "-"
        typer.echo(f"{row['code']}\t{row['kind']}\t{districts}\t{row['webhook_url'] or '(console)'}")
