"""The placement domain's service API: run a request, store it as a reviewable plan, read plans.

The existing cameras come from the CCTV registry (``cctv.service.camera_points``) and the schools
from the city service; other domains are reached only through their service functions.
A request is checked and its model built before anything is stored, so an infeasible request
leaves no row behind; a background solve stores its plan as ``queued`` first and fills it in.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.safety.placement import demand, planner, solver
from smartseoul.safety.placement.incidents import incident_points
from smartseoul.safety.placement.models import Plan, Site

log = logging.getLogger("smartseoul.placement")


def existing_cameras(session: Session) -> planner.Existing:
    """The active cameras of the registry (the 2016 counts per district while it is empty)."""
    from smartseoul.safety.cctv.service import camera_points

    return planner.Existing.from_points([(lat, lon) for _id, lat, lon in camera_points(session)])


def school_points(session: Session) -> list[tuple[float, float]]:
    from smartseoul.city.service import list_schools

    return [(school.lat, school.lon) for school in list_schools(session)]


def parameters_of(request: planner.PlanRequest) -> dict[str, Any]:
    """A request as stored with its plan (JSON)."""
    values = asdict(request)
    values["districts"] = list(request.districts)
    return values


def request_from(parameters: dict[str, Any]) -> planner.PlanRequest:
    values = dict(parameters)
    values["weights"] = demand.Weights(**values.get("weights", {}))
    values["districts"] = tuple(values.get("districts", ()))
    return planner.PlanRequest(**values)


Prepared = tuple[planner.Instance, Any, planner.Existing]


def prepare(session: Session, request: planner.PlanRequest) -> Prepared:
    """Check a request and build its model (raises solver.Infeasible naming the parameter)."""
    existing = existing_cameras(session)
    schools = school_points(session) if request.weights.schools else []
    incidents = incident_points(session) if request.weights.incidents else []
    instance, quotas = planner.build(request, existing, schools, incidents)
    return instance, quotas, existing


def new_plan(session: Session, request: planner.PlanRequest, actor: str, client: str = "") -> Plan:
    """Store a request as a queued plan; the ledger records who asked for what."""
    plan = Plan(created_by=actor[:128], mode=request.mode, parameters=parameters_of(request), status="queued")
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="placement.plan",
        target=f"placement_plan:{plan.id}",
        client=client,
        details={"cameras": request.cameras, "mode": request.mode, "radius_m": request.radius_m},
    )
    return plan


@dataclass(frozen=True)
class Solved:
    """A solved request, not yet stored."""

    result: solver.Result
    outcome: planner.Outcome


def compute(request: planner.PlanRequest, prepared: Prepared) -> Solved:
    """Solve a prepared request. Pure computation: call it outside any transaction, so that a
    long solve holds no database lock (SQLite has one writer)."""
    instance, quotas, existing = prepared
    result = solver.solve(instance.problem, time_limit_s=request.time_limit_s)
    units = planner.camera_units(instance, result, quotas)
    return Solved(result, planner.outcome(request, instance, units, existing))


def fill(plan: Plan, solved: Solved) -> Plan:
    """Write a solved answer and its proposed cameras into ``plan``."""
    result, made = solved.result, solved.outcome
    plan.status, plan.solver_status, plan.method = "done", result.status, result.method
    plan.objective, plan.bound, plan.gap = result.objective, result.bound, result.gap
    plan.solve_seconds = round(result.seconds, 4)
    plan.figures = {**made.figures, "steps": {k: round(v, 4) for k, v in result.steps.items()}}
    plan.years = made.years
    plan.finished_at = utcnow()
    plan.sites = [Site(**site) for site in made.sites]
    return plan


def save_plan(
    session: Session, request: planner.PlanRequest, solved: Solved, actor: str, client: str = ""
) -> Plan:
    """Store a solved request as a finished plan (one short transaction)."""
    plan = fill(new_plan(session, request, actor, client), solved)
    session.flush()
    return plan


def run_in_background(database: Any, plan_id: int, prepared: Prepared) -> None:
    """Solve a queued plan; any failure is written to the plan, never raised."""
    try:
        with database.session() as session:
            plan = session.get(Plan, plan_id)
            if plan is None:
                return
            plan.status = "running"
            request = request_from(plan.parameters)
        solved = compute(request, prepared)
        with database.session() as session:
            plan = session.get(Plan, plan_id)
            if plan is not None:
                fill(plan, solved)
    except Exception as error:  # a failed solve must leave a readable plan, not a dead worker
        log.exception("placement plan %s failed", plan_id)
        with database.session() as session:
            plan = session.get(Plan, plan_id)
            if plan is not None:
                plan.status, plan.error, plan.finished_at = "failed", str(error)[:2000], utcnow()


def get_plan(session: Session, plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


def list_plans(session: Session, limit: int = 50) -> list[Plan]:
    return list(session.scalars(select(Plan).order_by(Plan.id.desc()).limit(limit)))


def count_plans(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Plan)) or 0


def site_dict(site: Site) -> dict[str, Any]:
    return {
        "rank": site.rank,
        "year": site.year,
        "lat": site.lat,
        "lon": site.lon,
        "district_code": site.district_code,
        "gain": site.gain,
        "gain_share": site.gain_share,
        "shares_site": site.shares_site,
    }


def plan_dict(plan: Plan, *, sites: bool = True) -> dict[str, Any]:
    """The API's view of a plan (the same for the CLI's --json)."""
    body: dict[str, Any] = {
        "id": plan.id,
        "created_at": plan.created_at.isoformat(),
        "created_by": plan.created_by,
        "mode": plan.mode,
        "status": plan.status,
        "parameters": plan.parameters,
        "solver_status": plan.solver_status,
        "method": plan.method,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "solve_seconds": plan.solve_seconds,
        "figures": plan.figures,
        "years": plan.years,
        "error": plan.error,
        "finished_at": plan.finished_at.isoformat() if plan.finished_at else None,
    }
    if sites:
        body["sites"] = [site_dict(site) for site in plan.sites]
    return body
