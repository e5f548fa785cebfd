"""HTTP API of the placement planner: ask for a plan, read plans back.

Small requests are solved while the caller waits (201 with the plan); large ones (a fine grid or
many candidate sites, see the ``placement_sync_*`` settings) answer 202 with the queued plan and
are solved in the background. An infeasible request is a 422 problem naming the parameter, and
nothing is stored. District staff plan only inside their own district.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.safety.placement import demand, planner, service
from smartseoul.safety.placement.solver import Infeasible
from smartseoul.web.deps import client_address, db_session, get_platform, record_denial, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/placement", tags=["placement"])
PLANNERS = ("admin", "operator", "district_staff")


class WeightsIn(BaseModel):
    """Relative weight of each source of demand."""

    model_config = ConfigDict(extra="forbid")

    population: float = Field(1.0, ge=0, le=100)
    crime: float = Field(0.0, ge=0, le=100)
    schools: float = Field(0.0, ge=0, le=100)
    incidents: float = Field(0.0, ge=0, le=100, description="Incidents opened in the last year.")


class PlanIn(BaseModel):
    """A placement request. Coverage mode: where ``cameras`` new cameras cover the most demand.
    Equity mode: the fewest new cameras (at most ``cameras``) that bring the districts' ratio of
    highest to lowest cameras per 1,000 residents to ``target_ratio``, placed for coverage."""

    model_config = ConfigDict(extra="forbid")

    cameras: int = Field(ge=1, le=20000, description="New cameras (the budget in equity mode).")
    radius_m: float = Field(200.0, gt=0, le=2000, description="Coverage radius of a new camera, metres.")
    mode: Literal["coverage", "equity"] = "coverage"
    target_ratio: float | None = Field(None, ge=1, le=100, description="Equity mode: highest/lowest target.")
    per_year: int | None = Field(None, ge=1, le=20000, description="Cameras installed per year.")
    cell_m: float = Field(200.0, ge=50, le=2000, description="Demand grid cell size, metres.")
    candidates: int = Field(5000, ge=1, le=100000, description="Candidate sites (coverage mode).")
    existing_range_m: float = Field(
        50.0, ge=0, le=1000, description="Reach of an existing camera: cells within it count as covered."
    )
    weights: WeightsIn = Field(default_factory=WeightsIn)
    districts: list[str] = Field(
        default_factory=list, max_length=25, description="District codes; empty: city."
    )
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Seed of the candidate sites.")
    time_limit_s: float | None = Field(None, ge=1, le=600, description="Solve time limit (default: setting).")

    def to_request(self, default_time_limit: float) -> planner.PlanRequest:
        return planner.PlanRequest(
            cameras=self.cameras,
            radius_m=self.radius_m,
            mode=self.mode,
            target_ratio=self.target_ratio,
            per_year=self.per_year,
            cell_m=self.cell_m,
            candidates=self.candidates,
            existing_range_m=self.existing_range_m,
            weights=demand.Weights(**self.weights.model_dump()),
            districts=tuple(self.districts),
            seed=self.seed,
            time_limit_s=self.time_limit_s or default_time_limit,
        )


def _scoped(request: Request, session: Session, principal: Principal, body: PlanIn) -> PlanIn:
    """District staff plan inside their own district only (an empty list means theirs)."""
    if principal.has_any("admin", "operator"):
        return body
    own = principal.district_code
    if own is None or any(code != own for code in body.districts):
        record_denial(session, request, principal, f"placement plan outside own district: {body.districts}")
        raise Problem(
            403, "Forbidden", "district staff plan only inside their own district", "district_forbidden"
        )
    return body.model_copy(update={"districts": [own]})


def _infeasible(error: Infeasible) -> Problem:
    return Problem(422, "Infeasible request", str(error), "infeasible", parameter=error.parameter)


def _runs_in_background(platform: Platform, request: planner.PlanRequest, instance: planner.Instance) -> bool:
    settings = platform.settings
    return (
        instance.grid.size > settings.placement_sync_max_cells
        or instance.problem.candidates > settings.placement_sync_max_sites
    )


@router.post("/plans", status_code=201, summary="Plan where to add cameras (coverage or equity mode)")
def create_plan(
    body: PlanIn,
    request: Request,
    background: BackgroundTasks,
    session: Session = Depends(db_session),
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*PLANNERS)),
) -> Any:
    body = _scoped(request, session, principal, body)
    plan_request = body.to_request(platform.settings.placement_time_limit_s)
    try:
        prepared = service.prepare(session, plan_request)
    except Infeasible as error:
        raise _infeasible(error) from None
    session.commit()  # no transaction (and no SQLite write lock) is held while solving
    if _runs_in_background(platform, plan_request, prepared[0]):
        plan = service.new_plan(session, plan_request, principal.name, client_address(request))
        session.commit()
        background.add_task(service.run_in_background, platform.db, plan.id, prepared)
        return JSONResponse(
            service.plan_dict(plan, sites=False),
            status_code=202,
            headers={"Location": f"/api/v1/placement/plans/{plan.id}"},
        )
    solved = service.compute(plan_request, prepared)
    plan = service.save_plan(session, plan_request, solved, principal.name, client_address(request))
    return service.plan_dict(plan)


@router.get("/plans", summary="Recent plans (without their sites)")
def list_plans(
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*PLANNERS)),
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    return [service.plan_dict(plan, sites=False) for plan in service.list_plans(session, limit)]


@router.get("/plans/{plan_id}", summary="One plan with its proposed cameras")
def get_plan(
    plan_id: Annotated[int, Path(ge=1)],
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*PLANNERS)),
) -> dict[str, Any]:
    plan = service.get_plan(session, plan_id)
    if plan is None:
        raise Problem(404, "Unknown plan", f"no placement plan {plan_id}", "unknown_plan")
    return service.plan_dict(plan)
