"""`smartseoul wall ...`: camera groups, tours and health alarms of the video wall.

Changes go through the same service functions as the web, so they land in the audit ledger with
the command's operator as the actor, and bad input is refused before anything is written.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from smartseoul.core.auth import InvalidInput
from smartseoul.core.cli_support import cli_actor as _operator
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

app = typer.Typer(help="The video wall: camera groups, tours, camera health alarms.", no_args_is_help=True)


def _print(rows: list[dict[str, Any]], as_json: bool, line: Any) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(line(row))


@app.command("groups")
def groups(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the camera groups and their cameras."""
    from smartseoul.safety.videowall import service

    with _platform().db.session() as session:
        rows = [service.group_dict(session, group) for group in service.list_groups(session)]
    _print(
        rows, as_json, lambda r: f"{r['id']:>4}  {r['name']}  cameras {','.join(map(str, r['camera_ids']))}"
    )


@app.command("group-add")
def group_add(
    name: Annotated[str, typer.Argument(help="Name of the group.")],
    camera_ids: Annotated[list[int], typer.Argument(help="Camera ids, in wall order.")],
    description: Annotated[str, typer.Option(help="What the group watches.")] = "",
) -> None:
    """Create a camera group (checked against the camera registry)."""
    from smartseoul.safety.videowall import service

    try:
        with _platform().db.session() as session:
            group = service.save_group(
                session, name=name, camera_ids=camera_ids, description=description, actor=_operator()
            )
            group_id = group.id
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(f"group {group_id} saved: {name} ({len(camera_ids)} cameras)")


@app.command("tour-add")
def tour_add(
    name: Annotated[str, typer.Argument(help="Name of the tour.")],
    group_ids: Annotated[list[int], typer.Argument(help="Group ids, in the order shown.")],
    layout: Annotated[int, typer.Option(help="Tiles a page: 1, 4, 9 or 16.")] = 4,
    dwell: Annotated[int, typer.Option(help="Seconds each page stays.")] = 15,
) -> None:
    """Create a tour that shows groups in turn, a page of tiles at a time."""
    from smartseoul.safety.videowall import service

    try:
        with _platform().db.session() as session:
            tour = service.save_tour(
                session, name=name, group_ids=group_ids, layout=layout, dwell_s=dwell, actor=_operator()
            )
            tour_id = tour.id
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(f"tour {tour_id} saved: {name}")


@app.command("alarms")
def alarms(
    all_alarms: Annotated[bool, typer.Option("--all", help="Include cleared alarms.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most alarms shown.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Camera health alarms, newest first (open ones only unless --all)."""
    from smartseoul.safety.videowall import service

    with _platform().db.session() as session:
        rows = [service.alarm_dict(a) for a in service.alarms(session, open_only=not all_alarms, limit=limit)]
    _print(
        rows,
        as_json,
        lambda r: (
            f"{r['raised_at']}  camera {r['camera_id']} {r['camera_name']}: {r['problem']}"
            + (f" (cleared {r['cleared_at']})" if r["cleared_at"] else "")
            + f"  {r['detail']}"
        ),
    )
