"""Pages of public WiFi: ``/wifi`` (anyone: where is free WiFi, a map and a list) and
``/console/wifi`` (staff: health, outages, coverage by district, usage)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city.models import District
from smartseoul.portal.wifi import service
from smartseoul.portal.wifi.models import WifiAccessPoint, WifiFacility
from smartseoul.web.deps import db_session, session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)


def district_names(request: Request, session: Session) -> dict[str, str]:
    """District code -> name in the page's language, sorted by name."""
    lang = choose_language(request, request.app.state.platform.settings.language)
    rows = session.execute(select(District.code, District.name_ko, District.name_en)).all()
    names = {code: (ko if lang == "ko" else en) for code, ko, en in rows}
    return dict(sorted(names.items(), key=lambda item: item[1]))


def _hotspot(ap: WifiAccessPoint, facility: WifiFacility) -> dict[str, Any]:
    """What the map and the list need of a hotspot (the page carries every one of them)."""
    return {
        "code": ap.code,
        "lat": ap.lat,
        "lon": ap.lon,
        "ssids": list(ap.ssids),
        "district_code": ap.district_code,
        "facility_kind": facility.kind,
        "facility_ko": facility.name_ko,
        "facility_en": facility.name_en,
    }


@router.get("/wifi")
def public_wifi(
    request: Request,
    session: Session = Depends(db_session),
    district: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
) -> Response:
    """Mobile-first: the map of working hotspots and the same list as text, by district."""
    principal = session_principal(request.app.state.platform, session, request)
    names = district_names(request, session)
    found = service.list_access_points(session, district=district, working_only=True)
    city, districts = service.coverage(session)
    return render(
        request,
        "wifi/public.html",
        principal=principal,
        districts=names,
        district=district or "",
        hotspots=[_hotspot(ap, facility) for ap, facility in found],
        coverage=(districts.get(district) if district else city) or service.Coverage(0, 0),
    )


@router.get("/console/wifi")
def console_wifi(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *service.READ_ROLES)
    names = district_names(request, session)
    city, districts = service.coverage(session)
    today = service.today_seoul()
    usage = service.usage(session, today - timedelta(days=6), today, by="city")
    by_district = service.usage(session, today - timedelta(days=6), today, by="district")
    totals: dict[str, dict[str, Any]] = {}
    for row in by_district:
        entry = totals.setdefault(row.key, {"sessions": 0, "bytes": 0})
        entry["sessions"] += row.sessions
        entry["bytes"] += row.bytes
    return render(
        request,
        "wifi/console.html",
        principal=principal,
        districts=names,
        city=city,
        coverage=districts,
        health=service.health_counts(session),
        outages=service.outages(session, open_only=True, limit=50),
        recent=service.outages(session, limit=20),
        usage=usage,
        usage_by_district=totals,
    )
