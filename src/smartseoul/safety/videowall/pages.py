"""The video wall page ``/console/wall``: live tiles, groups and tours, health badges and alarms.

The page carries no picture: the browser opens the wall's stream with the reason the operator
gives, so every view is checked and recorded by the API like any other.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.models import LAYOUTS
from smartseoul.safety.videowall.plugin import WALL_ROLES
from smartseoul.web.deps import db_session
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)


@router.get("/console/wall")
def wall(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *WALL_ROLES)
    lang = choose_language(request, request.app.state.platform.settings.language)
    key = "name_ko" if lang == "ko" else "name_en"
    districts = sorted(city.list_districts(session), key=lambda d: str(d[key]))
    if not principal.has_any("admin", "operator"):
        districts = [d for d in districts if d["code"] == principal.district_code]
    groups = [service.group_dict(session, g) for g in service.list_groups(session)]
    tours = [service.tour_dict(session, t) for t in service.list_tours(session)]
    session.commit()  # release the database before the page is sent (see router._done)
    return render(
        request,
        "videowall/wall.html",
        principal=principal,
        districts=districts,
        district_key=key,
        groups=groups,
        tours=tours,
        layouts=LAYOUTS,
        fps=request.app.state.platform.settings.videowall_fps,  # the boxes are asked for as often
    )
