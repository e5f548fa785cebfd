"""HTTP API of the camera registry under ``/api/v1/cameras``: list, get, import, export, nearest
cameras, coverage and its reports, the map's clusters, sharing policies, views and PTZ.

District staff read only their own district's cameras; a request for another district is
refused (403) and the refusal is in the audit ledger. Opening a view of a camera (live, playback,
snapshot) needs the sharing policy's consent and a reason, and is recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import Principal, get_user
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.safety.cctv import aiming, coverage, importer, report, service, sharing
from smartseoul.safety.cctv.events import CamerasImported
from smartseoul.safety.cctv.index import camera_index, clusters
from smartseoul.safety.cctv.models import AGENCIES, PURPOSES, STATUSES, VIEW_KINDS, Camera
from smartseoul.web.deps import client_address, db_session, get_platform, record_denial, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/cameras", tags=["cctv"])
READERS = ("admin", "operator", "dispatcher", "district_staff", "auditor")
COVERAGE_READERS = ("admin", "operator", "district_staff", "auditor")
IMPORTERS = ("admin", "operator")
VIEWERS = ("admin", "operator", "dispatcher", "district_staff")
CameraId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Lat = Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude")]
Lon = Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude")]
District = Annotated[str | None, Query(pattern=r"^\d{5}$", description="District code (5 digits)")]
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _only_district(principal: Principal) -> bool:
    """District staff without a city-wide role see their own district only."""
    return principal.has_any("district_staff") and not principal.has_any(
        "admin", "operator", "dispatcher", "auditor"
    )


def _district_scope(
    session: Session, request: Request, principal: Principal, asked: str | None
) -> str | None:
    """The district a request may cover: district staff (without a wider role) only their own."""
    if not _only_district(principal):
        return asked
    own = principal.district_code
    if own is None or (asked is not None and asked != own):
        record_denial(session, request, principal, f"cameras of district {asked or 'all'}: staff of {own}")
        raise Problem(403, "Not your district", f"district staff see only district {own}", "other_district")
    return own


def _camera_or_404(session: Session, request: Request, principal: Principal, camera_id: int) -> Camera:
    camera = service.get_camera(session, camera_id)
    if camera is None:
        raise Problem(404, "Unknown camera", f"no camera {camera_id}", "unknown_camera")
    if _only_district(principal) and camera.district_code != principal.district_code:
        record_denial(session, request, principal, f"camera {camera_id} of another district")
        raise Problem(404, "Unknown camera", f"no camera {camera_id} in your district", "unknown_camera")
    return camera


@router.get("", summary="Cameras of the registry, filtered and paged")
def list_cameras(
    request: Request,
    district: District = None,
    purpose: Annotated[Literal[PURPOSES] | None, Query()] = None,  # type: ignore[valid-type]
    status: Annotated[Literal[STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    shared: bool | None = None,
    ptz: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    principal: Principal = Depends(require(*READERS)),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    where = service.CameraFilter(
        _district_scope(session, request, principal, district), purpose, status, shared, ptz
    )
    total, rows = service.list_cameras(session, where, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": [service.camera_dict(c) for c in rows]}


@router.get("/near", summary="Cameras whose view covers a point, then PTZ cameras that can turn to it")
def near(
    request: Request,
    lat: Lat,
    lon: Lon,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    principal: Principal = Depends(require(*VIEWERS, "auditor")),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    scope = _district_scope(session, request, principal, None)
    found = service.cameras_covering(session, lat, lon, limit=limit if scope is None else 100)
    if scope is not None:
        ids = [c.camera_id for c in found]
        theirs = set(
            session.scalars(select(Camera.id).where(Camera.id.in_(ids), Camera.district_code == scope))
        )
        found = [c for c in found if c.camera_id in theirs][:limit]
    return {"lat": lat, "lon": lon, "items": [asdict(c) for c in found]}


@router.post("/import", status_code=201, summary="Import a file in the national CCTV standard layout")
async def import_cameras(
    request: Request,
    encoding: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{2,16}$")] = None,
    principal: Principal = Depends(require(*IMPORTERS)),
    platform: Platform = Depends(get_platform),
) -> dict[str, int]:
    data = await _upload(request)

    def store() -> dict[str, int]:
        with platform.db.session() as session:
            return importer.import_file(
                session, data, actor=principal.name, encoding=encoding, client=client_address(request)
            )

    try:
        summary = await asyncio.to_thread(store)
    except importer.ImportRejected as rejected:
        raise Problem(
            422,
            "File refused",
            f"nothing was imported: {rejected}",
            "import_rejected",
            errors=[e.as_dict() for e in rejected.errors],
        ) from None
    await platform.bus.publish(
        CamerasImported(sites=summary["sites"], cameras=summary["cameras"], by=principal.name)
    )
    return summary


async def _upload(request: Request) -> bytes:
    """The file of a multipart form (field ``file``) or the raw body (text/csv)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "No file", "send the CSV in the form field 'file'", "no_file")
        data = await upload.read()
    else:
        data = await request.body()
    if not data:
        raise Problem(422, "No file", "the request carries no CSV", "no_file")
    if len(data) > MAX_IMPORT_BYTES:
        raise Problem(413, "Request too large", f"at most {MAX_IMPORT_BYTES} bytes", "too_large")
    return data


@router.get("/export.csv", summary="The registry in the national CCTV standard layout")
def export_cameras(
    request: Request,
    district: District = None,
    encoding: Annotated[Literal["utf-8", "cp949"], Query()] = "utf-8",
    principal: Principal = Depends(require(*COVERAGE_READERS)),
    session: Session = Depends(db_session),
) -> Response:
    scope = _district_scope(session, request, principal, district)
    query = select(Camera).where(Camera.status != "removed").order_by(Camera.id)
    if scope:
        query = query.where(Camera.district_code == scope)
    body = importer.export_csv(session.scalars(query), encoding)
    audit.record(
        session,
        actor=principal.name,
        action="cctv.export",
        target=f"district:{scope or 'all'}",
        client=client_address(request),
    )
    charset = "cp949" if encoding == "cp949" else "utf-8"
    return Response(
        body,
        media_type=f"text/csv; charset={charset}",
        headers={"Content-Disposition": f'attachment; filename="cctv-{scope or "seoul"}.csv"'},
    )


@router.get("/coverage", summary="Coverage by district and neighbourhood, and the disparity figures")
async def coverage_figures(
    level: Annotated[Literal["district", "neighbourhood", "all"], Query()] = "all",
    _principal: Principal = Depends(require(*COVERAGE_READERS)),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    result = (await _coverage(platform)).as_dict()
    if level == "district":
        result.pop("neighbourhoods")
    elif level == "neighbourhood":
        result.pop("districts")
    return result


async def _coverage(platform: Platform) -> coverage.Coverage:
    def compute() -> coverage.Coverage:
        with platform.db.reading() as session:
            return coverage.coverage_for(session)

    return await asyncio.to_thread(compute)


@router.get("/coverage.geojson", summary="District or neighbourhood polygons with their coverage figures")
async def coverage_geojson(
    level: Annotated[Literal["district", "neighbourhood"], Query()] = "district",
    _principal: Principal = Depends(require(*COVERAGE_READERS)),
    platform: Platform = Depends(get_platform),
) -> JSONResponse:
    result = await _coverage(platform)

    def shapes() -> dict[str, Any]:
        from smartseoul.city.models import District as DistrictRow
        from smartseoul.city.models import Neighbourhood

        with platform.db.session() as session:
            if level == "district":
                return {d.code: d.geometry for d in session.scalars(select(DistrictRow))}
            return {n.code: n.geometry for n in session.scalars(select(Neighbourhood))}

    geometries = await asyncio.to_thread(shapes)
    rows = result.districts if level == "district" else result.neighbourhoods
    features = [
        {"type": "Feature", "id": row["code"], "properties": row, "geometry": geometries[row["code"]]}
        for row in rows
        if row["code"] in geometries
    ]
    return JSONResponse({"type": "FeatureCollection", "features": features, "disparity": result.disparity})


@router.get("/coverage/report.csv", summary="The coverage report as CSV")
async def coverage_csv(
    _principal: Principal = Depends(require(*COVERAGE_READERS)), platform: Platform = Depends(get_platform)
) -> Response:
    result = await _coverage(platform)
    name = report.generated_name("cctv-coverage", result.computed_at)
    return Response(
        report.report_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/coverage/report.pdf", summary="The coverage report as PDF, with the map")
async def coverage_pdf(
    metric: Annotated[Literal[coverage.METRICS], Query()] = "coverage_area_pct",  # type: ignore[valid-type]
    _principal: Principal = Depends(require(*COVERAGE_READERS)),
    platform: Platform = Depends(get_platform),
) -> Response:
    result = await _coverage(platform)

    def draw() -> bytes:
        from smartseoul.city.models import District as DistrictRow

        with platform.db.session() as session:
            geometries = {d.code: d.geometry for d in session.scalars(select(DistrictRow))}
        return report.report_pdf(result, geometries, metric)

    name = report.generated_name("cctv-coverage", result.computed_at)
    return Response(
        await asyncio.to_thread(draw),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@router.get("/clusters", summary="Cameras on the map: clusters per screen cell, or single cameras")
def camera_clusters(
    zoom: Annotated[int, Query(ge=0, le=22)],
    south: Lat,
    west: Lon,
    north: Lat,
    east: Lon,
    _principal: Principal = Depends(require(*COVERAGE_READERS)),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    if south > north or west > east:
        raise Problem(422, "Invalid box", "south must be below north and west left of east", "invalid_bbox")
    index = camera_index(session)
    return {"zoom": zoom, "total": len(index), **clusters(index, zoom, (south, west, north, east))}


class PolicyIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    role: str = Field(max_length=32)
    agency: Literal["control_room", "police", "fire"] | None = None
    purposes: list[str] = Field(default_factory=list, max_length=len(PURPOSES))
    district_codes: list[Annotated[str, Field(pattern=r"^\d{5}$")]] = Field(
        default_factory=list, max_length=50
    )
    start: str | None = Field(None, max_length=5)
    end: str | None = Field(None, max_length=5)
    shared_only: bool = True


@router.get("/sharing/policies", summary="The sharing policies")
def policies(
    _principal: Principal = Depends(require("admin", "auditor", "operator")),
    session: Session = Depends(db_session),
) -> list[dict[str, Any]]:
    return [sharing.policy_dict(p) for p in sharing.list_policies(session)]


@router.post("/sharing/policies", status_code=201, summary="Add a sharing policy")
def add_policy(
    body: PolicyIn, principal: Principal = Depends(require("admin")), session: Session = Depends(db_session)
) -> dict[str, Any]:
    return sharing.policy_dict(sharing.add_policy(session, actor=principal.name, **body.model_dump()))


class AgencyIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    agency: Literal["control_room", "police", "fire"] | None


@router.put("/sharing/agencies", summary="Set the agency (police, fire, control room) of an account")
def set_agency(
    body: AgencyIn, principal: Principal = Depends(require("admin")), session: Session = Depends(db_session)
) -> dict[str, Any]:
    user = get_user(session, body.username)
    if user is None:
        raise Problem(404, "Unknown user", f"no account {body.username!r}", "unknown_user")
    sharing.set_agency(session, user.id, body.agency, actor=principal.name)
    return {"username": user.username, "agency": body.agency, "agencies": list(AGENCIES)}


@router.get("/{camera_id}", summary="One camera")
def get_camera(
    request: Request,
    camera_id: CameraId,
    principal: Principal = Depends(require(*READERS)),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    camera = _camera_or_404(session, request, principal, camera_id)
    return {**service.camera_dict(camera), "may_view": sharing.may_view_camera(session, principal, camera)}


class ViewIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500)
    kind: Literal["live", "playback", "snapshot"] = "live"


@router.post(
    "/{camera_id}/views", status_code=201, summary="Open a view of a camera (policy-checked, audited)"
)
def open_view(
    request: Request,
    camera_id: CameraId,
    body: ViewIn,
    principal: Principal = Depends(require(*VIEWERS)),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    camera = _camera_or_404(session, request, principal, camera_id)
    if not sharing.may_view_camera(session, principal, camera):
        record_denial(
            session, request, principal, f"{body.kind} view of camera {camera_id}: no sharing policy"
        )
        raise Problem(
            403,
            "Not shared with you",
            f"no sharing policy lets you view camera {camera_id} now",
            "not_shared",
        )
    sharing.record_view(session, principal, camera, body.reason, body.kind, client_address(request))
    return {
        "camera_id": camera.id,
        "kind": body.kind,
        "granted_at": utcnow().isoformat(),
        "streams": {
            "rtsp_main": camera.rtsp_main,
            "rtsp_sub": camera.rtsp_sub,
            "snapshot": camera.snapshot_url,
        },
        "live_url": f"/api/v1/cameras/{camera.id}/live.mjpeg",
        "kinds": list(VIEW_KINDS),
    }


class AimIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


@router.post(
    "/{camera_id}/ptz", summary="Turn a PTZ camera to a point (ONVIF AbsoluteMove when it has an endpoint)"
)
def turn_camera(
    request: Request,
    camera_id: CameraId,
    body: AimIn,
    principal: Principal = Depends(require("admin", "operator")),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    camera = _camera_or_404(session, request, principal, camera_id)
    if not camera.ptz:
        raise Problem(409, "Not a PTZ camera", f"camera {camera_id} cannot be turned", "not_ptz")
    import numpy as np

    from smartseoul.safety.cctv.geometry import bearing_deg, project

    cx, cy = project(camera.lat, camera.lon)
    px, py = project(body.lat, body.lon)
    distance = float(np.hypot(px - cx, py - cy))
    if distance > camera.range_m:
        raise Problem(
            422,
            "Out of reach",
            f"the point is {distance:.0f} m away; camera {camera_id} reaches {camera.range_m:g} m",
            "out_of_reach",
        )
    platform: Platform = request.app.state.platform
    timeout = platform.settings.cctv_onvif_timeout_s
    moved = aiming.turn(
        camera, distance, float(bearing_deg(px - cx, py - cy)), principal.name, session, timeout
    )
    if moved is False:
        session.commit()  # the failed attempt stays in the audit ledger
        raise Problem(
            502,
            "Camera did not move",
            f"the ONVIF device of camera {camera_id} refused or did not answer",
            "ptz_failed",
        )
    return {
        "camera_id": camera.id,
        "pan_deg": camera.pan_deg,
        "tilt_deg": camera.tilt_deg,
        "zoom": camera.zoom,
        "onvif": bool(moved),
    }
