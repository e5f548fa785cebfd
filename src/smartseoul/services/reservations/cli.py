"""`smartseoul reservations ...`: facilities, slots, no-shows, and a double-booking check."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from smartseoul.core import audit
from smartseoul.core.cli_support import cli_actor, command_platform, fail

app = typer.Typer(help="Public facility reservations: facilities, slots, no-shows.", no_args_is_help=True)
facility_app = typer.Typer(help="Facilities and their booking rules.", no_args_is_help=True)
app.add_typer(facility_app, name="facility")


@facility_app.command("list")
def facility_list(
    district: Annotated[str | None, typer.Option(help="District code, e.g. 11230.")] = None,
    kind: Annotated[str | None, typer.Option(help="sports, hall, meeting_room or class.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List active facilities with their rules."""
    from smartseoul.services.reservations import service

    platform = command_platform()
    with platform.db.session() as session:
        rows = [
            service.facility_dict(f) for f in service.list_facilities(session, district=district, kind=kind)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        rules = row["rules"]
        typer.echo(
            f"{row['id']:>5} {row['code']:<12} {row['kind']:<12} {row['district_code']} "
            f"fee {rules['fee_krw']:>7,} KRW  {rules['who_may_book']:<9} {row['name_ko']}"
        )


@facility_app.command("add")
def facility_add(
    code: Annotated[str, typer.Argument(help="A unique code, e.g. 11230-101.")],
    name_ko: Annotated[str, typer.Option(help="Korean name.")],
    name_en: Annotated[str, typer.Option(help="English name.")],
    kind: Annotated[str, typer.Option(help="sports, hall, meeting_room or class.")],
    district: Annotated[str, typer.Option(help="District code.")],
    capacity: Annotated[int, typer.Option(help="Seats per slot.")] = 1,
    residents_only: Annotated[bool, typer.Option(help="Only residents of the district may book.")] = False,
    book_ahead_days: Annotated[int, typer.Option(help="How many days ahead bookings open.")] = 14,
    weekly_limit: Annotated[int, typer.Option(help="Bookings per person per week.")] = 2,
    cancel_deadline_hours: Annotated[int, typer.Option(help="Cancel until this many hours before.")] = 24,
    fee_krw: Annotated[int, typer.Option(help="Fee in whole won (0: free).")] = 0,
    no_show_limit: Annotated[
        int, typer.Option(help="No-shows (90 days) after which booking is refused.")
    ] = 3,
    actor: Annotated[str | None, typer.Option("--as", help="Who acts (for the audit ledger).")] = None,
) -> None:
    """Add a facility."""
    from smartseoul.services.reservations import service

    platform = command_platform()
    draft = service.FacilityDraft(
        code=code,
        name_ko=name_ko,
        name_en=name_en,
        kind=kind,
        district_code=district,
        capacity=capacity,
        who_may_book="residents" if residents_only else "anyone",
        book_ahead_days=book_ahead_days,
        weekly_limit=weekly_limit,
        cancel_deadline_hours=cancel_deadline_hours,
        fee_krw=fee_krw,
        no_show_limit=no_show_limit,
    )
    try:
        with platform.db.session() as session:
            made = service.add_facility(session, draft)
            audit.record(
                session, actor=cli_actor(actor), action="reservations.facility.add", target=made.code
            )
            facility_id = made.id
    except service.BookingRefused as error:
        fail(f"{error.field}: {error}")
    typer.echo(f"facility {facility_id} ({code}) added")


@app.command("slots")
def slots(
    facility_id: Annotated[int, typer.Argument(help="Facility id.")],
    day: Annotated[str, typer.Option(help="Day (Seoul), YYYY-MM-DD.")],
    hours: Annotated[str, typer.Option(help="Start hours, e.g. 9,10,11.")],
) -> None:
    """Open slots on a day."""
    from smartseoul.services.reservations import service

    try:
        chosen = date.fromisoformat(day)
        starts = [int(h) for h in hours.split(",")]
    except ValueError:
        fail("--day is YYYY-MM-DD and --hours like 9,10,11")
    if any(not 0 <= h <= 23 for h in starts):
        fail("--hours are 0..23")
    platform = command_platform()
    try:
        with platform.db.session() as session:
            made = service.add_slots(session, service.get_facility(session, facility_id), chosen, starts)
    except service.BookingRefused as error:
        fail(str(error), 1)
    typer.echo(f"{len(made)} slots opened")


@app.command("noshow")
def noshow(
    booking_id: Annotated[int, typer.Argument(help="Booking id.")],
    attended: Annotated[bool, typer.Option(help="Mark as attended instead.")] = False,
    actor: Annotated[str | None, typer.Option("--as", help="Who acts (for the audit ledger).")] = None,
) -> None:
    """Mark a booking as a no-show (counts toward the facility's no-show limit)."""
    from smartseoul.services.reservations import service

    platform = command_platform()
    try:
        with platform.db.session() as session:
            booking = service.mark_attendance(session, booking_id, attended=attended)
            audit.record(
                session,
                actor=cli_actor(actor),
                action="reservations.attendance.mark",
                target=f"booking:{booking_id}",
                details={"attended": attended},
            )
            state = booking.state
    except service.BookingRefused as error:
        fail(f"{error.rule}: {error}", 1)
    typer.echo(f"booking {booking_id}: {state}")


@app.command("check")
def check() -> None:
    """Count seats sold beyond capacity (must be 0); exit 1 otherwise."""
    from smartseoul.services.reservations import service

    platform = command_platform()
    with platform.db.session() as session:
        over = service.double_bookings(session)
    typer.echo(f"double bookings: {over}")
    if over:
        raise typer.Exit(1)
