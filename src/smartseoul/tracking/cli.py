"""`smartseoul device ...` and `smartseoul person ...`: the location service's admin commands.

Reads of positions and alarms are provisions of location data like any other: they need a
purpose (`--reason`) and are written to the provision records and the audit ledger.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from smartseoul.core.auth import InvalidInput
from smartseoul.core.cli_support import cli_actor as _operator
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

app = typer.Typer(help="GPS devices of protected persons.", no_args_is_help=True)
person_app = typer.Typer(help="Protected persons, guardians and consent.", no_args_is_help=True)


@app.command("add")
def device_add(
    identifier: Annotated[str, typer.Argument(help="IMEI or the identifier the device sends.")],
    protocol: Annotated[str, typer.Option(help="osmand, watch, gt06, h02 or owntracks.")],
    person: Annotated[int | None, typer.Option(help="Id of the protected person who carries it.")] = None,
    label: Annotated[str, typer.Option(help="A label for operators.")] = "",
) -> None:
    """Register a device; frames from unregistered identifiers are refused."""
    from smartseoul.tracking import service

    platform = _platform()
    try:
        with platform.db.session() as session:
            service.register_device(
                session, identifier, protocol, actor=_operator(), person_id=person, label=label
            )
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(f"device {identifier} registered ({protocol})")


def _read(kind: str, identifier: str, limit: int, reason: str) -> list[dict[str, Any]]:
    from smartseoul.tracking import service

    platform = _platform()
    with platform.db.session() as session:
        try:
            device = service.get_device(session, identifier)
        except service.NotFound as error:
            _fail(str(error), 1)
        reader, role = _operator(), "admin"
        if kind == "positions":
            views = service.device_positions(
                session, device, reader=reader, reader_role=role, purpose=reason, limit=limit
            )
            return [service.position_dict(view) for view in views]
        return service.device_alarms(
            session, device, reader=reader, reader_role=role, purpose=reason, limit=limit
        )


@app.command("positions")
def device_positions(
    identifier: str,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 20,
    reason: Annotated[str, typer.Option(help="Why you read this person's location (recorded).")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Latest positions first: time, lat, lon, valid fix or not, source."""
    if not reason:
        _fail("--reason is required: every read of location data is recorded with its purpose")
    rows = _read("positions", identifier, limit, reason)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        fix = "GPS" if row["valid"] else f"no fix ({row['source']})"
        typer.echo(f"{row['time']}  {row['lat']}, {row['lon']}  {fix}  battery {row['battery_pct']}")


@app.command("alarms")
def device_alarms(
    identifier: str,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 20,
    reason: Annotated[str, typer.Option(help="Why you read this person's alarms (recorded).")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Alarms, latest first: type, time, position or last known position."""
    if not reason:
        _fail("--reason is required: every read of location data is recorded with its purpose")
    rows = _read("alarms", identifier, limit, reason)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        where = "no position" if row["lat"] is None else f"{row['lat']}, {row['lon']}"
        if row["position_is_last_known"]:
            where += f" (last known, {row['position_age_s']} s old)"
        typer.echo(f"{row['time']}  {row['type']}  {where}")


@app.command("purge")
def device_purge(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days (default: the setting).")
    ] = None,
) -> None:
    """Delete positions past the retention period now (the server also does it every hour)."""
    from smartseoul.tracking.retention import purge

    typer.echo(f"deleted {purge(_platform(), days, actor=_operator())} positions")


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Option(help="Name shown to guardians and operators.")],
    category: Annotated[
        str, typer.Option(help="child, low_income_child, intellectual_disability or dementia.")
    ],
    birth_date: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (decides whose consent is needed).")
    ] = None,
    cannot_consent: Annotated[
        bool, typer.Option(help="Severe disability: a guardian consents in writing.")
    ] = False,
) -> None:
    """Register a protected person; prints the id."""
    from smartseoul.tracking import service

    platform = _platform()
    try:
        born = date.fromisoformat(birth_date) if birth_date else None
    except ValueError:
        _fail(f"birth date {birth_date!r} is not YYYY-MM-DD")
    try:
        with platform.db.session() as session:
            person = service.add_person(
                session,
                display_name=name,
                category=category,
                actor=_operator(),
                birth_date=born,
                cannot_consent=cannot_consent,
            )
            person_id = person.id
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(str(person_id))


@person_app.command("consent")
def person_consent(
    person: int,
    by: Annotated[str, typer.Option(help="'person' or 'guardian'.")],
    guardian: Annotated[str | None, typer.Option(help="Username of the consenting guardian.")] = None,
    written_record: Annotated[str, typer.Option(help="Reference of the signed consent form.")] = "",
) -> None:
    """Record a consent; refused when it does not meet the Location Information Act for this person."""
    from smartseoul.core import auth
    from smartseoul.tracking import consent
    from smartseoul.tracking.models import ProtectedPerson

    platform = _platform()
    with platform.db.session() as session:
        found = session.get(ProtectedPerson, person)
        if found is None:
            _fail(f"no protected person {person}", 1)
        user = auth.get_user(session, guardian) if guardian else None
        if guardian and user is None:
            _fail(f"no user {guardian}", 1)
        try:
            consent.give(
                session,
                found,
                given_by=by,
                recorded_by=_operator(),
                guardian_user_id=user.id if user else None,
                written_record=written_record,
            )
        except consent.ConsentError as error:
            _fail(str(error))
    typer.echo("consent recorded")


@person_app.command("guardian")
def person_guardian(
    person: int,
    username: Annotated[str, typer.Option(help="The guardian's account.")],
    relation: Annotated[str, typer.Option(help="parent, carer, teacher, ...")] = "parent",
    legal_representative: Annotated[
        bool, typer.Option(help="The guardian is the legal representative.")
    ] = False,
) -> None:
    """Link a guardian to a protected person."""
    from smartseoul.core import auth
    from smartseoul.tracking import service
    from smartseoul.tracking.models import ProtectedPerson

    platform = _platform()
    with platform.db.session() as session:
        found = session.get(ProtectedPerson, person)
        user = auth.get_user(session, username)
        if found is None or user is None:
            _fail("unknown person or user", 1)
        service.add_guardian(
            session,
            found,
            user.id,
            relation=relation,
            actor=_operator(),
            legal_representative=legal_representative,
        )
    typer.echo("guardian linked")


@person_app.command("zone-add")
def person_zone_add(
    person: int,
    name: Annotated[str, typer.Option(help="Name shown to guardians, e.g. the school's name.")],
    circle: Annotated[str, typer.Option(help="LAT,LON,RADIUS_M: a circle (radius 20-5000 m).")],
    role: Annotated[str, typer.Option(help="school, home, route or other.")] = "other",
    schedule: Annotated[
        str, typer.Option(help='When it is watched, Seoul time: "mon-fri 08:30-15:00" (empty: always).')
    ] = "",
    arrive_by: Annotated[
        str | None, typer.Option(help="HH:MM: alarm when the person is not inside by then.")
    ] = None,
    alert_on_enter: Annotated[bool, typer.Option(help="Also alarm when the person enters.")] = False,
    alert_on_exit: Annotated[bool, typer.Option(help="Alarm when the person leaves.")] = True,
) -> None:
    """Add a circular safe zone to a protected person; prints the zone id."""
    from smartseoul.tracking import zones
    from smartseoul.tracking.models import ProtectedPerson

    try:
        lat_text, lon_text, radius_text = circle.split(",")
        lat, lon, radius = float(lat_text), float(lon_text), float(radius_text)
    except ValueError:
        _fail(f"--circle {circle!r}: give LAT,LON,RADIUS_M, e.g. 37.5720,126.9860,150")
    platform = _platform()
    try:
        planned = zones.parse_schedule_text(schedule) if schedule else []
        with platform.db.session() as session:
            if session.get(ProtectedPerson, person) is None:
                _fail(f"no protected person {person}", 1)
            zone = zones.add_zone(
                session,
                person,
                actor=_operator(),
                name=name,
                kind="circle",
                geometry={"type": "Point", "coordinates": [lon, lat]},
                radius_m=radius,
                role=role,
                schedule=planned,
                arrive_by=arrive_by,
                alert_on_enter=alert_on_enter,
                alert_on_exit=alert_on_exit,
                bounds=zones.city_bounds(session),
            )
            zone_id = zone.id
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(str(zone_id))
