"""`smartseoul payments ...`: reconcile a day with the provider's settlement; recover stuck ones."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from smartseoul.core import audit
from smartseoul.core.cli_support import cli_actor, command_platform, fail

app = typer.Typer(help="Fees: reconciliation and recovery.", no_args_is_help=True)


@app.command("reconcile")
def reconcile(
    day: Annotated[
        str | None, typer.Option("--date", help="Korean business day YYYY-MM-DD (default today).")
    ] = None,
    settlement: Annotated[
        Path | None, typer.Option(help="The provider's settlement CSV (default: fetched from the provider).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    actor: Annotated[str | None, typer.Option("--as", help="Who acts (for the audit ledger).")] = None,
) -> None:
    """Compare our captures and refunds of a day with the provider's settlement; exit 1 on any difference."""
    from smartseoul.services.payments import service
    from smartseoul.services.payments.provider import SEOUL, parse_settlement_csv

    try:
        chosen = date.fromisoformat(day) if day else datetime.now(SEOUL).date()
    except ValueError:
        fail("--date is YYYY-MM-DD")
    platform = command_platform()
    with platform.db.session() as session:
        if settlement is not None:
            try:
                lines = parse_settlement_csv(settlement.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                fail(f"--settlement: {error}")
            report = service.reconcile(session, chosen, lines)
        else:
            report = service.reconcile_day(session, platform.settings, chosen)
        audit.record(
            session,
            actor=cli_actor(actor),
            action="payments.reconcile",
            target=chosen.isoformat(),
            details=report.summary(),
        )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        summary = report.summary()
        typer.echo(
            f"{summary['date']}: matched {summary['matched']}, missing ours {summary['missing_ours']}, "
            f"missing theirs {summary['missing_theirs']}, amount mismatch {summary['amount_mismatch']}"
        )
        for row in report.rows:
            if row.status != "matched":
                typer.echo(
                    f"  {row.status:<16} {row.kind:<8} {row.ref} ours={row.ours_krw} theirs={row.theirs_krw}"
                )
    if any(row.status != "matched" for row in report.rows):
        raise typer.Exit(1)


@app.command("recover")
def recover(
    older_than: Annotated[int, typer.Option(help="Only payments open for at least this many seconds.")] = 60,
) -> None:
    """Ask the provider about payments left pending (a crash, a lost callback) and finish them."""
    from smartseoul.services.payments import service

    platform = command_platform()
    with platform.db.session() as session:
        events = service.recover_pending(session, platform.settings, older_than_s=older_than)
    typer.echo(f"{len(events)} payments completed")
