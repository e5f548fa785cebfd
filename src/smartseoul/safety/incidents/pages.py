"""The desk's console pages: the queue with the map, one incident, and the agencies' hand-overs.

The pages carry no incident data: the browser reads it from the API (so each read of an incident
is recorded like any other) and redraws on the live events of the Server-Sent-Events hub.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.safety.incidents.service import DESK_ROLES, READ_ROLES
from smartseoul.web.deps import db_session
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
DISPATCH_ROLES = ("admin", "operator", "dispatcher")


@router.get("/console/incidents")
def queue_page(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *READ_ROLES)
    return render(
        request, "incidents/queue.html", principal=principal, can_act=principal.has_any(*DESK_ROLES)
    )


@router.get("/console/incidents/{incident_id}")
def incident_page(
    request: Request, incident_id: int = Path(ge=1, le=2**31 - 1), session: Session = Depends(db_session)
) -> Response:
    principal = page_principal(request, session, *READ_ROLES)
    return render(
        request,
        "incidents/incident.html",
        principal=principal,
        incident_id=incident_id,
        can_act=principal.has_any(*DESK_ROLES),
    )


@router.get("/console/handovers")
def handovers_page(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *DISPATCH_ROLES)
    return render(request, "incidents/handovers.html", principal=principal)
