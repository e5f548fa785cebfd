"""The console's placement page: the request form, the plan's proposed cameras on the city map,
the year-by-year rollout, the objective and its proven gap. The page carries no plan data: the
browser reads plans from the API (so the page and the API can never disagree)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.safety.placement.router import PLANNERS
from smartseoul.web.deps import db_session
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)


@router.get("/console/placement")
def placement_page(
    request: Request,
    session: Session = Depends(db_session),
    plan: int | None = Query(None, ge=1),
) -> Response:
    principal = page_principal(request, session, *PLANNERS)
    district_only = not principal.has_any("admin", "operator")
    return render(
        request,
        "placement/planner.html",
        principal=principal,
        plan_id=plan,
        own_district=principal.district_code if district_only else None,
    )
