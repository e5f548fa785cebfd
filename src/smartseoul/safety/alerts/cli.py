"""`smartseoul alert ...`: issue, list and cancel public alerts from scripts and drills.

Audited like the console: the actor is ``cli:<user>`` (or ``--as``), and a city-wide alert waits
for another person's approval exactly as it does on the console (`smartseoul alert approve`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from smartseoul.core.cli_support import cli_actor as _actor
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail
from smartseoul.safety.alerts.areas import FieldError

app = typer.Typer(help="Public alerts (CAP 1.2) to phones and screens.", no_args_is_help=True)


def _run(platform: Any, change: Any) -> Any:
    """Apply ``change(session)`` in one transaction, then publish its events on the configured bus."""
    from smartseoul.safety.alerts import service

    try:
        with platform.db.session() as session:
            outcome = change(session)
            alert_id, state = outcome.alert.id, outcome.alert.state
    except FieldError as error:
        _fail(str(error))
    except service.AlertNotFound as error:
        _fail(str(error), 1)
    except (service.AlertConflict, service.ApprovalRefused) as error:
        _fail(str(error), 1)

    async def publish() -> None:
        await platform.bus.start()
        try:
            for event in outcome.events:
                await platform.bus.publish(event)
        finally:
            await platform.bus.close()

    asyncio.run(publish())
    return alert_id, state


@app.command("issue")
def issue(
    event: Annotated[str, typer.Option(help="What happens, e.g. Flood.")],
    severity: Annotated[str, typer.Option(help="Extreme, Severe, Moderate, Minor or Unknown.")],
    urgency: Annotated[str, typer.Option(help="Immediate, Expected, Future, Past or Unknown.")],
    certainty: Annotated[str, typer.Option(help="Observed, Likely, Possible, Unlikely or Unknown.")],
    headline: Annotated[str, typer.Option(help="The headline (Korean; used for English too unless given).")],
    district: Annotated[list[str] | None, typer.Option(help="District code; repeat for several.")] = None,
    circle: Annotated[str | None, typer.Option(help="'lat,lon radius_km' instead of districts.")] = None,
    polygon: Annotated[str | None, typer.Option(help="'lat,lon lat,lon ...' instead of districts.")] = None,
    headline_en: Annotated[str | None, typer.Option(help="The English headline.")] = None,
    description: Annotated[str, typer.Option(help="Description (Korean).")] = "",
    category: Annotated[str, typer.Option(help="CAP category.")] = "Safety",
    expires_minutes: Annotated[int | None, typer.Option(min=5, max=10080)] = None,
    status: Annotated[str, typer.Option(help="Actual, Exercise (drills) or Test.")] = "Actual",
    as_user: Annotated[
        str | None, typer.Option("--as", help="Who issues (recorded); default cli:$USER.")
    ] = None,
) -> None:
    """Issue an alert and print its id (a city-wide one waits for approval: the state says so)."""
    from smartseoul.safety.alerts import service

    area: dict[str, Any] = {"districts": district or [], "circle": circle, "polygon": polygon}
    draft = service.AlertDraft(
        event=event,
        severity=severity,
        urgency=urgency,
        certainty=certainty,
        headline_ko=headline,
        headline_en=headline_en or headline,
        description_ko=description,
        description_en=description,
        category=category,
        area={k: v for k, v in area.items() if v},
        expires_minutes=expires_minutes,
        cap_status=status,
    )
    platform = _platform()
    alert_id, state = _run(
        platform,
        lambda s: service.issue(s, draft, issuer=_actor(as_user), settings=platform.settings, client="cli"),
    )
    typer.echo(str(alert_id))
    if state == "pending":
        typer.echo(f"alert {alert_id} is city-wide: it waits for another person's approval", err=True)


@app.command("approve")
def approve(
    alert_id: int,
    as_user: Annotated[str | None, typer.Option("--as", help="Who approves (recorded).")] = None,
) -> None:
    """Approve a city-wide alert (not by the person who issued it)."""
    from smartseoul.safety.alerts import service

    platform = _platform()
    _run(
        platform, lambda s: service.approve(s, alert_id, approver=_actor(as_user), settings=platform.settings)
    )
    typer.echo(f"alert {alert_id} approved and sent")


@app.command("cancel")
def cancel(
    alert_id: int,
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    as_user: Annotated[str | None, typer.Option("--as", help="Who cancels (recorded).")] = None,
) -> None:
    """Cancel an alert: a CAP Cancel referencing the original goes out."""
    from smartseoul.safety.alerts import service

    platform = _platform()
    _run(
        platform,
        lambda s: service.cancel(
            s, alert_id, by=_actor(as_user), settings=platform.settings, reason=reason, client="cli"
        ),
    )
    typer.echo(f"alert {alert_id} cancelled")


@app.command("list")
def list_alerts(
    everything: Annotated[bool, typer.Option("--all", help="Every state, not only current alerts.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Current alerts (or the latest 50 in every state with --all)."""
    from smartseoul.safety.alerts import service

    platform = _platform()
    with platform.db.session() as session:
        alerts = service.recent_alerts(session) if everything else service.current_alerts(session)
        rows = [service.alert_dict(a) for a in alerts]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(
            f"{row['id']}\t{row['state']}\t{row['severity']}\t{','.join(row['district_codes'])}\t{row['headline_ko']}"
        )


@app.command("cap")
def show_cap(alert_id: int) -> None:
    """Print the alert's latest CAP 1.2 message."""
    from smartseoul.safety.alerts import service

    platform = _platform()
    with platform.db.session() as session:
        message = service.latest_message(session, alert_id)
    if message is None:
        _fail(f"alert {alert_id} has no CAP message (unknown, or awaiting approval)", 1)
    typer.echo(message.xml)
