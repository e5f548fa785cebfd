"""`smartseoul camera ...`: import and export the registry, list cameras, find those covering a
point, print the coverage and disparity figures. Imports and exports go to the audit ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from smartseoul.core.cli_support import cli_actor as _operator
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

app = typer.Typer(
    help="The CCTV registry: import, export, list, nearest cameras, coverage.", no_args_is_help=True
)


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="CSV in the national CCTV standard layout.", exists=True, dir_okay=False)
    ],
    encoding: Annotated[str | None, typer.Option(help="utf-8 or cp949 (default: detected).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import a national-layout file: all rows or none; bad rows are listed with their line."""
    from smartseoul.safety.cctv import importer

    platform = _platform()
    try:
        with platform.db.session() as session:
            summary = importer.import_file(session, file.read_bytes(), actor=_operator(), encoding=encoding)
    except importer.ImportRejected as rejected:
        if as_json:
            _print({"imported": False, "errors": [e.as_dict() for e in rejected.errors]})
        for error in rejected.errors:
            typer.echo(f"row {error.row}, {error.column}: {error.message}", err=True)
        _fail(f"nothing imported: {len(rejected.errors)} bad row(s)")
    if as_json:
        _print({"imported": True, **summary})
        return
    typer.echo(f"imported {summary['cameras']} cameras at {summary['sites']} sites")


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
    district: Annotated[str | None, typer.Option(help="Only this district (5-digit code).")] = None,
    encoding: Annotated[str, typer.Option(help="utf-8 (with BOM) or cp949.")] = "utf-8",
) -> None:
    """Export the registry in the national CCTV standard layout."""
    import sys

    from sqlalchemy import select

    from smartseoul.core import audit
    from smartseoul.safety.cctv import importer
    from smartseoul.safety.cctv.models import Camera

    if encoding.lower() not in ("utf-8", "cp949"):
        _fail(f"--encoding: use utf-8 or cp949 (got {encoding!r})")
    platform = _platform()
    with platform.db.session() as session:
        query = select(Camera).where(Camera.status != "removed").order_by(Camera.id)
        if district:
            query = query.where(Camera.district_code == district)
        body = importer.export_csv(session.scalars(query), encoding)
        audit.record(session, actor=_operator(), action="cctv.export", target=f"district:{district or 'all'}")
    if output is None:
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
        typer.echo(f"wrote {output}", err=True)


@app.command("list")
def list_cameras(
    district: Annotated[str | None, typer.Option(help="District code (5 digits).")] = None,
    purpose: Annotated[
        str | None, typer.Option(help="crime, school_zone, traffic, facility, disaster, other.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List cameras (id order)."""
    from smartseoul.safety.cctv import service

    platform = _platform()
    with platform.db.session() as session:
        total, rows = service.list_cameras(session, service.CameraFilter(district, purpose), limit=limit)
        items = [service.camera_dict(c) for c in rows]
    if as_json:
        _print({"total": total, "items": items})
        return
    for item in items:
        typer.echo(f"{item['id']:>6}  {item['district_code']}  {item['purpose']:<11} {item['name']}")
    typer.echo(f"{len(items)} of {total}", err=True)


@app.command("near")
def near(
    lat: Annotated[float, typer.Argument(min=-90, max=90)],
    lon: Annotated[float, typer.Argument(min=-180, max=180)],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Cameras whose view covers the point, then PTZ cameras that can be turned to it."""
    from dataclasses import asdict

    from smartseoul.safety.cctv import service

    platform = _platform()
    with platform.db.session() as session:
        found = [asdict(c) for c in service.cameras_covering(session, lat, lon, limit)]
    if as_json:
        _print({"lat": lat, "lon": lon, "items": found})
        return
    for c in found:
        how = "covers" if c["covers"] else "PTZ can turn"
        typer.echo(f"{c['camera_id']:>6}  {c['distance_m']:>6.1f} m  {how:<12} {c['score']:.3f}  {c['name']}")


@app.command("coverage")
def coverage_figures(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Coverage of each district and the disparity figures (computed from the registry)."""
    from smartseoul.safety.cctv.coverage import METRICS, coverage_for

    platform = _platform()
    with platform.db.session() as session:
        result = coverage_for(session)
    if as_json:
        data = result.as_dict()
        data.pop("neighbourhoods")
        _print(data)
        return
    for d in result.districts:
        typer.echo(f"{d['code']}  {d['name_en']:<16} {d['cameras']:>6}  {d['coverage_area_pct']:>6.2f}%")
    for metric in METRICS:
        figures = result.disparity[metric]
        typer.echo(f"{metric}: max/min {figures['ratio']}, Gini {figures['gini']}")


@app.command("policies")
def policies(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The sharing policies: who may view which cameras, when."""
    from smartseoul.safety.cctv import sharing

    platform = _platform()
    with platform.db.session() as session:
        rows = [sharing.policy_dict(p) for p in sharing.list_policies(session)]
    if as_json:
        _print(rows)
        return
    for p in rows:
        window = f"{p['start']}-{p['end']}" if p["start"] else "always"
        purposes = ",".join(p["purposes"]) or "any purpose"
        typer.echo(
            f"{p['id']:>3}  {p['role']:<10} {p['agency'] or '-':<12} {purposes:<22} {window:<11} {p['name']}"
        )


@app.command("agency")
def agency(
    username: Annotated[str, typer.Argument(help="The account.")],
    name: Annotated[str, typer.Argument(help="control_room, police, fire, or none to clear.")],
) -> None:
    """Set the agency of an account (sharing policies may be limited to an agency)."""
    from smartseoul.core.auth import InvalidInput, get_user
    from smartseoul.safety.cctv import sharing

    platform = _platform()
    try:
        with platform.db.session() as session:
            user = get_user(session, username)
            if user is None:
                _fail(f"no account {username!r}")
            sharing.set_agency(session, user.id, None if name == "none" else name, actor=_operator())
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(f"{username}: agency {name}")
