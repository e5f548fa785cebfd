"""The console page ``/console/cameras``: the cameras on the map (clustered), the coverage
choropleth, the disparity figures, the district table, reports and the import form.

The page carries no figures itself: the browser fetches them from the API, which checks the
roles, so the page and the API cannot disagree on who sees what.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.safety.cctv.coverage import METRICS
from smartseoul.web.deps import db_session
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
PAGE_ROLES = ("admin", "operator", "district_staff", "auditor")
IMPORT_ROLES = ("admin", "operator")


@router.get("/console/cameras")
def cameras_page(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *PAGE_ROLES)
    return render(
        request,
        "cctv/cameras.html",
        principal=principal,
        metrics=METRICS,
        can_import=principal.has_any(*IMPORT_ROLES),
    )
