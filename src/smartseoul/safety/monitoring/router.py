"""HTTP API of automated monitoring: status and monitored share, live boxes, rules, detections.

Roles: operators and admins edit rules and cameras; dispatchers and district staff also read;
everyone but admins and operators sees only cameras shared with them (the cctv sharing policy).
A detection's snapshot is a picture of people: reading it is a recorded view with a reason, like
a live view (``cctv.record_view``); a refusal is written to the ledger too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.safety.cctv import service as cctv
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.engine import engine_of
from smartseoul.safety.monitoring.pipeline import labels_seen
from smartseoul.safety.monitoring.rules import RuleError
from smartseoul.web.deps import WallCameraIds, db_session, get_platform, parse_ids, record_denial, require
from smartseoul.web.problems import Problem

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])
VIEWERS = ("admin", "operator", "dispatcher", "district_staff")
EDITORS = ("admin", "operator")
CameraId = Annotated[int, Path(ge=1, le=2_147_483_647)]
ItemId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Reason = Annotated[
    str,
    Query(
        min_length=3, max_length=500, description="Why the picture is viewed (written to the audit ledger)."
    ),
]
LIVE_TIMEOUT_S = 5.0


def _invalid(error: RuleError) -> Problem:
    return Problem(422, "Invalid input", f"{error.field}: {error}", "invalid_rule", field=error.field)


def _missing(error: LookupError) -> Problem:
    return Problem(404, "Not found", str(error), "not_found")


def _may_view(session: Session, request: Request, principal: Principal, camera_id: int, what: str) -> None:
    """Refuse (and record) a camera this person may not view now."""
    if cctv.get_camera(session, camera_id) is None:
        record_denial(session, request, principal, f"{what} of unknown camera {camera_id}")
        raise Problem(404, "Unknown camera", f"no camera {camera_id}", "unknown_camera")
    if not cctv.may_view(session, principal, camera_id):
        record_denial(session, request, principal, f"{what} of camera {camera_id} not shared")
        raise Problem(
            403,
            "Camera not shared with you",
            f"camera {camera_id} is not shared with your role",
            "camera_not_shared",
        )


@router.get("/status", summary="Monitored share, per-camera analysis state, worker crashes")
def status(
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> dict[str, Any]:
    engine = engine_of(platform)
    listed = len(service.monitored(session))
    shared = service.shared_camera_count(session)
    cameras = engine.cameras()
    analysed = sum(1 for c in cameras if c["monitored"])
    if not principal.has_any(*EDITORS):
        cameras = [c for c in cameras if cctv.may_view(session, principal, c["camera_id"])]
    return {
        "monitored_share": round(engine.share(), 4),
        "cameras_listed": listed,
        "cameras_monitored": sum(1 for c in cameras if c["monitored"]),
        # the plan's measure: shared cameras analysed within their interval, over all shared ones
        "cameras_shared": shared,
        "shared_monitored_share": round(analysed / shared, 4) if shared else 0.0,
        "max_interval_s": platform.settings.monitoring_max_interval_s,
        "detector": platform.settings.monitoring_detector,
        "detector_refused": engine.refused or None,
        "cameras": cameras,
        "crashes": engine.crashes if principal.has_any(*EDITORS) else [],
    }


@router.get("/cameras/{camera_id}/tracks", summary="The boxes of what the camera's analysis follows now")
def tracks(
    camera_id: CameraId,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> dict[str, Any]:
    _may_view(session, request, principal, camera_id, "tracks")
    return engine_of(platform).tracks(camera_id)


def _unwatched(camera_id: int) -> dict[str, Any]:
    return {"camera_id": camera_id, "monitored": False, "analysed_at": None, "tracks": [], "alerts": []}


@router.get("/tracks", summary="The boxes of several cameras at once (the video wall's tiles)")
def wall_tracks(
    ids: WallCameraIds,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> dict[str, Any]:
    """One answer per tile and poll, however many tiles: ``monitored`` says whether the analysis
    holds the camera (a tile without it draws no boxes and no AI badge).

    A camera the viewer may not see is left out without a ledger entry: the wall polls this a few
    times a second, and the wall's own stream already refused that camera and recorded it.
    """
    engine = engine_of(platform)
    answer: dict[str, Any] = {}
    for camera_id in parse_ids(ids):
        if not cctv.may_view(session, principal, camera_id):
            continue
        watched = engine.watching(camera_id)
        answer[str(camera_id)] = (
            {**engine.tracks(camera_id), "monitored": True} if watched else _unwatched(camera_id)
        )
    session.commit()  # release the database before the answer goes (SQLite: see videowall.router._done)
    return answer


async def _relay(client: httpx.AsyncClient, response: httpx.Response) -> AsyncIterator[bytes]:
    """The monitored MJPEG stream as it comes (no re-encoding: a viewer costs a socket).

    A camera that stops sending mid-stream ends the viewer's stream (the tile shows it stopped)
    instead of raising inside the server: the health monitor reports the camera, not this relay.
    """
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as error:
        log.info("live relay of %s ended: %s", response.url, type(error).__name__)
    finally:
        await response.aclose()
        await client.aclose()


@router.get(
    "/cameras/{camera_id}/live.mjpeg",
    summary="The stream the analysis reads, as MJPEG (a recorded live view)",
    response_class=StreamingResponse,
)
async def live(
    camera_id: CameraId,
    reason: Reason,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> StreamingResponse:
    def check() -> str:
        _may_view(session, request, principal, camera_id, "live")
        row = session.get(service.MonitoredCamera, camera_id)
        url = service.stream_of(session, row) if row is not None else ""
        if not url.startswith(("http://", "https://")):
            raise Problem(
                409, "No MJPEG stream", f"camera {camera_id} has no monitored MJPEG stream", "no_stream"
            )
        cctv.record_view(session, principal, camera_id, reason, "live")
        session.commit()
        return url

    url = await asyncio.to_thread(check)
    client = httpx.AsyncClient(timeout=LIVE_TIMEOUT_S)
    try:
        response = await client.send(client.build_request("GET", url), stream=True)
    except httpx.HTTPError as error:
        await client.aclose()
        raise Problem(503, "No picture", f"camera {camera_id} does not answer", "camera_offline") from error
    kind = response.headers.get("content-type", "")
    if response.status_code != 200 or not kind.startswith("multipart/"):
        await response.aclose()
        await client.aclose()
        raise Problem(503, "No picture", f"camera {camera_id} sends no MJPEG stream", "camera_offline")
    return StreamingResponse(
        _relay(client, response),
        media_type=kind,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class CameraIn(BaseModel):
    stream_url: str = Field("", max_length=512, description="Empty: the registry's sub-stream.")


@router.put("/cameras/{camera_id}", summary="Put a camera under monitoring (or change its stream)")
def watch(
    camera_id: CameraId,
    body: CameraIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> dict[str, Any]:
    try:
        row = service.watch_camera(session, camera_id, body.stream_url.strip(), actor=principal.name)
    except RuleError as error:
        raise _invalid(error) from error
    except service.NotFound as error:
        raise _missing(error) from error
    session.commit()
    engine_of(platform).refresh(camera_id)
    return {"camera_id": row.camera_id, "stream_url": row.stream_url, "threshold": row.threshold}


class RuleIn(BaseModel):
    kind: str = Field(max_length=24, examples=["loitering"])
    zone: list[Any] = Field(max_length=64, examples=[[[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"dwell_s": 30}])
    start: str | None = Field(None, max_length=5, examples=["22:00"])
    end: str | None = Field(None, max_length=5, examples=["06:00"])
    name: str = Field("", max_length=64)


@router.get("/cameras/{camera_id}/rules", summary="A camera's zones and rules")
def list_rules(
    camera_id: CameraId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> list[dict[str, Any]]:
    _may_view(session, request, principal, camera_id, "rules")
    return [service.rule_dict(r) for r in service.rules_of(session, camera_id)]


@router.post(
    "/cameras/{camera_id}/rules", status_code=201, summary="Add a rule on a zone (refused naming the field)"
)
def add_rule(
    camera_id: CameraId,
    body: RuleIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> dict[str, Any]:
    labels = labels_seen(engine_of(platform).config.detector)
    try:
        row = service.add_rule(session, camera_id, body.model_dump(), principal.name, labels)
    except RuleError as error:
        raise _invalid(error) from error
    except service.NotFound as error:
        raise _missing(error) from error
    session.commit()
    engine_of(platform).refresh(camera_id)
    return service.rule_dict(row)


@router.delete("/cameras/{camera_id}/rules/{rule_id}", status_code=204, summary="Remove a rule")
def delete_rule(
    camera_id: CameraId,
    rule_id: ItemId,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> Response:
    try:
        service.delete_rule(session, camera_id, rule_id, principal.name)
    except service.NotFound as error:
        raise _missing(error) from error
    session.commit()
    engine_of(platform).refresh(camera_id)
    return Response(status_code=204)


@router.get("/detections", summary="Recent detections, newest first")
def detections(
    request: Request,
    camera_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> list[dict[str, Any]]:
    if camera_id is not None:
        _may_view(session, request, principal, camera_id, "detections")
    rows = service.list_detections(session, camera_id, limit)
    if not principal.has_any(*EDITORS):
        allowed: dict[int, bool] = {}
        rows = [
            r for r in rows if allowed.setdefault(r.camera_id, cctv.may_view(session, principal, r.camera_id))
        ]
    return [service.detection_dict(r) for r in rows]


@router.get(
    "/detections/{detection_id}/snapshot.jpg",
    summary="A detection's snapshot (a recorded view with its reason)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def snapshot(
    detection_id: ItemId,
    reason: Reason,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> Response:
    try:
        row = service.get_detection(session, detection_id)
    except service.NotFound as error:
        raise _missing(error) from error
    _may_view(session, request, principal, row.camera_id, "detection snapshot")
    body = service.snapshot_bytes(row, platform.settings.data_dir)
    if body is None:
        raise Problem(404, "No snapshot", f"detection {detection_id} has no snapshot", "no_snapshot")
    cctv.record_view(session, principal, row.camera_id, reason, "snapshot")
    session.commit()
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


class VerdictIn(BaseModel):
    verdict: str = Field(max_length=16, examples=["false_positive"], description="correct or false_positive")


@router.post(
    "/detections/{detection_id}/verdict", summary="Mark a detection correct or false (tunes the camera)"
)
def verdict(
    detection_id: ItemId,
    body: VerdictIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> dict[str, Any]:
    try:
        row = service.get_detection(session, detection_id)
    except service.NotFound as error:
        raise _missing(error) from error
    _may_view(session, request, principal, row.camera_id, "detection verdict")
    try:
        threshold = service.set_verdict(
            session, row, body.verdict, principal.name, platform.settings.monitoring_score_threshold
        )
    except RuleError as error:
        raise _invalid(error) from error
    session.commit()
    engine_of(platform).refresh(row.camera_id)
    return {**service.detection_dict(row), "camera_threshold": threshold}
