"""`smartseoul certificate ...`: look up, check and revoke issued documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smartseoul.core.cli_support import cli_actor, command_platform, fail

app = typer.Typer(
    help="Certificate documents the city issued (verify, check a PDF, revoke).", no_args_is_help=True
)


@app.command("verify")
def verify(
    number: Annotated[str, typer.Argument(help="Verification number SS-YYYY-NNNN-NNNN-NNNN.")],
) -> None:
    """valid, revoked or unknown (exit code 1 unless valid)."""
    from smartseoul.services.certificates import service

    platform = command_platform()
    with platform.db.session() as session:
        result = service.verification(session, number, client="cli")
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    raise typer.Exit(0 if result["status"] == "valid" else 1)


@app.command("check")
def check(path: Annotated[Path, typer.Argument(help="A document PDF.", exists=True, dir_okay=False)]) -> None:
    """Check a PDF's city seal and that its bytes are the ones issued (exit code 1 unless valid)."""
    from smartseoul.services.certificates import service

    platform = command_platform()
    with platform.db.session() as session:
        result = service.check_upload(session, platform.settings, path.read_bytes(), client="cli")
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    raise typer.Exit(0 if result["status"] == "valid" else 1)


@app.command("revoke")
def revoke(
    number: Annotated[str, typer.Argument(help="Verification number.")],
    reason: Annotated[str, typer.Option(help="Why (shown on /verify, written to the ledger).")],
    actor: Annotated[str | None, typer.Option("--as", help="Who is acting (audit).")] = None,
) -> None:
    """Revoke a document: /verify shows it as revoked from now on."""
    from smartseoul.services.certificates import service

    platform = command_platform()
    try:
        with platform.db.session() as session:
            service.revoke(session, number, actor=cli_actor(actor), reason=reason)
    except service.DocumentError as error:
        fail(error.detail, 1)
    typer.echo(f"revoked {number}")
