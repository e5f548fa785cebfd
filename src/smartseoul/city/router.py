"""Public API of the city: districts with their figures and shapes, point lookup, schools.

District figures change only when the reference data is reloaded, so the JSON is rendered once per
process and served from memory with an ETag; this keeps the most-hit endpoint close to a bare
FastAPI route (see ``smartseoul bench api``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.city import service
from smartseoul.city.plugin import RESPONSES_KEY, city_index
from smartseoul.core.bootstrap import Platform
from smartseoul.web.deps import db_session, get_platform
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["city"])
DistrictCode = Annotated[str, Path(pattern=r"^\d{5}$", description="KOSTAT 5-digit district code")]


RENDERERS = {"districts": service.list_districts, "districts.geojson": service.districts_geojson}


def warm(platform: Platform) -> None:
    """Render the cached responses now, so the first requests do not block the event loop."""
    for key, render in RENDERERS.items():
        _cached(platform, key, render)


def _cached(platform: Platform, key: str, render: Any) -> tuple[bytes, str]:
    responses: dict[str, tuple[bytes, str]] = platform.cache.setdefault(RESPONSES_KEY, {})
    if key not in responses:
        with platform.db.reading() as session:
            body = json.dumps(render(session), ensure_ascii=False, separators=(",", ":")).encode()
        responses[key] = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return responses[key]


def _respond(request: Request, body: bytes, etag: str, media_type: str = "application/json") -> Response:
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


# These two are async and take the platform straight from the app: a sync route or dependency
# costs a thread hop per request, which halved the throughput (see `smartseoul bench api`).
# The responses are rendered at start-up (city plugin), so no database call blocks the loop here.
@router.get("/districts", summary="The 25 districts with population, cameras and area")
async def districts(request: Request) -> Response:
    body, etag = _cached(request.app.state.platform, "districts", service.list_districts)
    return _respond(request, body, etag)


@router.get("/districts.geojson", summary="All districts as a GeoJSON FeatureCollection (for maps)")
async def districts_geojson(request: Request) -> Response:
    body, etag = _cached(request.app.state.platform, "districts.geojson", service.districts_geojson)
    return _respond(request, body, etag, "application/geo+json")


@router.get("/districts/{code}", summary="One district as a GeoJSON Feature with its figures")
def district(code: DistrictCode, session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        found = service.get_district(session, code)
    except service.UnknownDistrict:
        raise Problem(404, "Unknown district", f"no district with code {code}", "unknown_district") from None
    return service.district_feature(found, service.crime_totals(session).get(code))


@router.get("/locate", summary="The district and neighbourhood that contain a point")
def locate(
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    found = city_index(platform).locate(lat, lon)
    if found.district_code is None:
        raise Problem(404, "Outside the city", f"({lat}, {lon}) is in no district", "outside_city")
    return {"district_code": found.district_code, "neighbourhood_code": found.neighbourhood_code}


@router.get("/schools", summary="Elementary schools, optionally of one district")
def schools(
    district: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    session: Session = Depends(db_session),
) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name_ko": s.name_ko,
            "name_en": s.name_en,
            "district_code": s.district_code,
            "neighbourhood_code": s.neighbourhood_code,
            "lat": s.lat,
            "lon": s.lon,
        }
        for s in service.list_schools(session, district)
    ]
