"""The console page ``/console/monitoring``: monitored share, live tiles with boxes, detections
with snapshots and verdicts, and the zone and rule editor.

The page carries no picture and no personal data: the browser asks the API for each view with
the reason the operator gives, so every view is checked and recorded like any other.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.safety.cctv import service as cctv
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.plugin import CONSOLE_ROLES
from smartseoul.safety.monitoring.rules import KINDS, PARAMS
from smartseoul.web.deps import db_session
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)


@router.get("/console/monitoring")
def console(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *CONSOLE_ROLES)
    cameras = []
    for row in service.monitored(session):
        camera = cctv.get_camera(session, row.camera_id)
        if camera is not None and cctv.may_view(session, principal, row.camera_id):
            cameras.append({"id": camera.id, "name": camera.name, "threshold": row.threshold})
    session.commit()
    return render(
        request,
        "monitoring/console.html",
        principal=principal,
        cameras=cameras,
        kinds=list(KINDS),  # every pipeline sees stopped vehicle-sized objects (stationary.py)
        params={k: {p: v[0] for p, v in spec.items()} for k, spec in PARAMS.items()},
        editor=principal.has_any("admin", "operator"),
    )
