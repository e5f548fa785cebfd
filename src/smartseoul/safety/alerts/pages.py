"""Pages of public alerts: ``/alerts`` (anyone: current alerts, live banner, push subscription)
and ``/console/alerts`` (control room: compose, preview the CAP, approve, update, cancel)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.safety.alerts import cap, service
from smartseoul.safety.alerts.service import ISSUER_ROLES
from smartseoul.web.deps import db_session, session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
CONSOLE_ROLES = ("operator", "admin", "dispatcher", "auditor")


def _districts(request: Request, session: Session) -> list[dict[str, str]]:
    lang = choose_language(request, request.app.state.platform.settings.language)
    names = service.district_names(session).values()
    rows = [{"code": d.code, "name": d.name_ko if lang == "ko" else d.name_en} for d in names]
    return sorted(rows, key=lambda row: row["name"])


@router.get("/alerts")
def public_alerts(
    request: Request,
    session: Session = Depends(db_session),
    district: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    alert: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Mobile-first: the current alerts, live updates, and a subscribe button (no account).
    ``alert`` (where a notification leads) shows that alert in full, instructions included."""
    principal = session_principal(request.app.state.platform, session, request)
    alerts = service.alerts_at(session, district=district) if district else service.current_alerts(session)
    focus = None
    if alert is not None:
        try:
            found = service.get_alert(session, alert)
            focus = found if found.sent_at is not None else None
        except service.AlertNotFound:
            focus = None
    return render(
        request,
        "alerts/public.html",
        principal=principal,
        alerts=alerts,
        focus=focus,
        now=utcnow(),
        districts=_districts(request, session),
        district=district or "",
    )


@router.get("/alerts/banner")
def banner(
    request: Request,
    session: Session = Depends(db_session),
    district: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> Response:
    """The banner as an HTML fragment, for portal, mobile and TV pages that include it (HTMX)."""
    alerts = service.alerts_at(session, district=district) if district else service.current_alerts(session)
    return render(request, "alerts/_banner.html", alerts=alerts)


@router.get("/console/alerts")
def console_alerts(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *CONSOLE_ROLES)
    return render(
        request,
        "alerts/console.html",
        principal=principal,
        may_issue=principal.has_any(*ISSUER_ROLES),
        districts=_districts(request, session),
        categories=cap.CATEGORIES,
        severities=cap.SEVERITIES,
        urgencies=cap.URGENCIES,
        certainties=cap.CERTAINTIES,
        response_types=cap.RESPONSE_TYPES,
    )
