"""`smartseoul open311 key create|revoke|list`: API keys of Open311 clients (stored as SHA-256).

The key is printed once, at creation; the platform keeps only its hash, so a lost key is revoked
and a new one made. Creating and revoking are written to the audit ledger as ``cli:<user>``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from smartseoul.core.cli_support import cli_actor as _actor
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

app = typer.Typer(help="Open311 GeoReport v2 endpoint administration.", no_args_is_help=True)
keys = typer.Typer(
    help="API keys of Open311 clients (needed to post service requests).", no_args_is_help=True
)
app.add_typer(keys, name="key")


@keys.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. 'SeoulTalk app'.")],
    actor: Annotated[str | None, typer.Option("--as", help="Name written to the audit ledger.")] = None,
) -> None:
    """Make a key and print it (once: only its hash is kept)."""
    from smartseoul.services.complaints import service

    platform = _platform()
    try:
        with platform.db.session() as session:
            key = service.create_key(session, name, actor=_actor(actor))
    except service.ComplaintError as error:
        _fail(error.description)
    typer.echo(key)


@keys.command("revoke")
def revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after 'o311_', see `list`).")],
    actor: Annotated[str | None, typer.Option("--as", help="Name written to the audit ledger.")] = None,
) -> None:
    """Revoke a key at once: posts with it are refused with 403 from now on."""
    from smartseoul.services.complaints import service

    platform = _platform()
    with platform.db.session() as session:
        done = service.revoke_key(session, prefix.removeprefix(f"{service.KEY_PREFIX}_"), actor=_actor(actor))
    if not done:
        _fail(f"no active key with prefix {prefix!r}", 1)
    typer.echo(f"revoked {prefix}")


@keys.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The keys: prefix, name, created, last used, revoked (never the key itself)."""
    from smartseoul.services.complaints import service

    platform = _platform()
    with platform.db.session() as session:
        rows = [
            {
                "prefix": k.prefix,
                "name": k.name,
                "created_at": k.created_at.isoformat(),
                "created_by": k.created_by,
                "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in service.list_keys(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        typer.echo(f"{row['prefix']}\t{state}\t{row['name']}\t{row['last_used_at'] or '-'}")
