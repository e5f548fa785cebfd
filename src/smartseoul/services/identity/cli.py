"""`smartseoul pki ...`: the city test CA: make it, show it, revoke a citizen certificate."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from smartseoul.core.cli_support import cli_actor, command_platform, fail

app = typer.Typer(
    help="The city test CA (citizen certificates, CRL, the document seal).", no_args_is_help=True
)


@app.command("init")
def init(
    force: Annotated[
        bool, typer.Option(help="Replace an existing CA (every certificate it issued stops working).")
    ] = False,
) -> None:
    """Make the city CA under DATA_DIR/pki (root, Seoul City CA, document-signing key)."""
    from smartseoul.services.identity import pki

    platform = command_platform()
    ca, made = pki.init_ca(platform.settings.data_dir, force=force)
    state = "made" if made else "already there"
    typer.echo(f"city CA {state}: {pki.pki_dir(platform.settings.data_dir)}")
    typer.echo(f"root {pki.serial_hex(ca.root)} sha256 {pki.fingerprint(ca.root)}")


@app.command("show")
def show(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The CA's certificates and the revocations its CRL lists."""
    from smartseoul.services.identity import pki, service

    platform = command_platform()
    ca = pki.city_ca(platform.settings.data_dir)
    with platform.db.session() as session:
        crl = service.current_crl(session, platform.settings)
    names = {"root": ca.root, "issuer": ca.issuer, "signer": ca.signer}
    info: dict[str, Any] = {
        key: {
            "subject": cert.subject.rfc4514_string(),
            "sha256": pki.fingerprint(cert),
            "not_after": cert.not_valid_after_utc.isoformat(),
        }
        for key, cert in names.items()
    }
    info["revoked"] = [format(entry.serial_number, "x") for entry in crl]
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key in ("root", "issuer", "signer"):
        typer.echo(f"{key:7s} {info[key]['subject']}")
    typer.echo(f"revoked {len(info['revoked'])}")


@app.command("revoke")
def revoke(
    serial: Annotated[str, typer.Argument(help="Serial of the citizen certificate, hex.")],
    reason: Annotated[str, typer.Option(help="Why (written to the ledger).")] = "revoked by the CA operator",
    actor: Annotated[str | None, typer.Option("--as", help="Who is acting (audit).")] = None,
) -> None:
    """Revoke a citizen certificate: the next CRL lists it and its logins are refused."""
    from smartseoul.services.identity import service

    platform = command_platform()
    try:
        with platform.db.session() as session:
            row = service.revoke_certificate(session, serial, actor=cli_actor(actor), reason=reason)
            done = row.serial, row.revoked_at
    except service.IdentityError as error:
        fail(error.detail, 1)
    typer.echo(f"revoked {done[0]} at {done[1]:%Y-%m-%d %H:%M:%S} UTC")
