"""`smartseoul placement ...`: plan camera placement from the shell, list and show stored plans.

A plan made here is stored and written to the audit ledger like one made in the console, with
the shell user as the actor.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from smartseoul.core.cli_support import cli_actor as _actor
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

app = typer.Typer(help="Camera placement planner (maximal covering, equity).", no_args_is_help=True)


def _summary(body: dict[str, Any]) -> str:
    figures = body["figures"]
    gap = body["gap"] or 0.0
    lines = [
        f"plan {body['id']} ({body['mode']}): {figures['cameras_used']} new cameras, "
        f"{body['solver_status']} by {body['method']} in {body['solve_seconds']:.2f} s",
        f"covered demand {figures['covered_share_before']:.1%} -> {figures['covered_share_after']:.1%}; "
        f"objective {body['objective']:,.0f}, bound {body['bound']:,.0f}, proven gap {gap:.3%}",
        f"disparity (max/min cameras per 1,000 residents) {figures['disparity_before']} -> "
        f"{figures['disparity_after']}",
    ]
    lines += [
        f"  year {y['year']}: {y['cameras_installed']} cameras, covered {y['covered_share']:.1%}, "
        f"disparity {y['disparity_ratio']}"
        for y in body["years"]
    ]
    return "\n".join(lines)


@app.command("plan")
def plan(
    cameras: Annotated[int, typer.Option(min=1, max=20000, help="New cameras (the budget in equity mode).")],
    radius: Annotated[float, typer.Option(help="Coverage radius of a new camera, metres (> 0).")] = 200.0,
    mode: Annotated[str, typer.Option(help="coverage or equity.")] = "coverage",
    target_ratio: Annotated[
        float | None, typer.Option(help="Equity: highest/lowest cameras per 1,000 residents to reach.")
    ] = None,
    per_year: Annotated[int | None, typer.Option(min=1, help="Cameras installed per year.")] = None,
    cell: Annotated[float, typer.Option(min=50, max=2000, help="Demand grid cell, metres.")] = 200.0,
    candidates: Annotated[int, typer.Option(min=1, help="Candidate sites (coverage mode).")] = 5000,
    crime: Annotated[float, typer.Option(min=0, max=100, help="Weight of 2016 crime.")] = 0.0,
    schools: Annotated[float, typer.Option(min=0, max=100, help="Weight of school zones.")] = 0.0,
    incidents: Annotated[float, typer.Option(min=0, max=100, help="Weight of last year's incidents.")] = 0.0,
    district: Annotated[
        list[str] | None, typer.Option(help="Limit to this district code (repeatable).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(min=1, max=600, help="Solve time limit, seconds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Solve a placement request, store it as a plan and print it."""
    from smartseoul.safety.placement import demand, planner, service
    from smartseoul.safety.placement.solver import Infeasible

    if mode not in ("coverage", "equity"):
        _fail("mode: choose coverage or equity")
    platform = _platform()
    request = planner.PlanRequest(
        cameras=cameras,
        radius_m=radius,
        mode="equity" if mode == "equity" else "coverage",
        target_ratio=target_ratio,
        per_year=per_year,
        cell_m=cell,
        candidates=candidates,
        weights=demand.Weights(population=1.0, crime=crime, schools=schools, incidents=incidents),
        districts=tuple(district or ()),
        time_limit_s=time_limit or platform.settings.placement_time_limit_s,
    )
    try:
        with platform.db.session() as session:
            prepared = service.prepare(session, request)
    except Infeasible as error:
        _fail(str(error))
    solved = service.compute(request, prepared)
    with platform.db.session() as session:
        body = service.plan_dict(service.save_plan(session, request, solved, _actor(), "cli"))
    typer.echo(json.dumps(body, ensure_ascii=False) if as_json else _summary(body))


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The most recent plans."""
    from smartseoul.safety.placement import service

    with _platform().db.session() as session:
        rows = [service.plan_dict(p, sites=False) for p in service.list_plans(session, limit)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        gap = f"{row['gap']:.3%}" if row["gap"] is not None else "-"
        typer.echo(f"{row['id']}\t{row['created_at']}\t{row['mode']}\t{row['status']}\tgap {gap}")


@app.command("show")
def show(
    plan_id: Annotated[int, typer.Argument(min=1)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One plan with its proposed cameras."""
    from smartseoul.safety.placement import service

    with _platform().db.session() as session:
        found = service.get_plan(session, plan_id)
        if found is None:
            _fail(f"no placement plan {plan_id}", 1)
        body = service.plan_dict(found)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False))
    elif body["status"] != "done":
        typer.echo(f"plan {plan_id}: {body['status']} {body['error'] or ''}".rstrip())
    else:
        typer.echo(_summary(body))
