"""HTTP API of the video wall: live tiles (MJPEG), snapshots, groups, tours, health and alarms.

Every live view and snapshot is checked against the cctv sharing policy and written to the audit
ledger with the viewer and the reason (one entry per view, not per frame). An unknown camera
answers 404 and a camera not shared with the viewer 403; both refusals go to the ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.safety.cctv import service as cctv
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.feeds import CameraFeed, CameraInfo
from smartseoul.safety.videowall.plugin import hub_of, monitor_of
from smartseoul.safety.videowall.scenes import Fault, decode_jpeg
from smartseoul.web.deps import (
    WallCameraIds,
    client_address,
    db_session,
    get_platform,
    parse_ids,
    record_denial,
    require,
)
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["videowall"])
VIEWERS = ("admin", "operator", "dispatcher", "district_staff")
EDITORS = ("admin", "operator")
BOUNDARY = "frame"
CameraId = Annotated[int, Path(ge=1, le=2_147_483_647)]
ItemId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Reason = Annotated[
    str,
    Query(
        min_length=3, max_length=500, description="Why the camera is viewed (written to the audit ledger)."
    ),
]


def _allowed(
    session: Session, request: Request, principal: Principal, camera_id: int, reason: str, kind: str
) -> CameraInfo:
    """The camera if this person may view it now; else a refusal, written to the ledger."""
    info = service.camera_info(session, camera_id)
    if info is None:
        record_denial(session, request, principal, f"{kind} of unknown camera {camera_id}: {reason}")
        raise Problem(404, "Unknown camera", f"no camera {camera_id}", "unknown_camera")
    if not cctv.may_view(session, principal, camera_id):
        record_denial(session, request, principal, f"{kind} of camera {camera_id} not shared: {reason}")
        raise Problem(
            403,
            "Camera not shared with you",
            f"camera {camera_id} is not shared with your role",
            "camera_not_shared",
        )
    return info


def _viewable(
    session: Session, request: Request, principal: Principal, camera_id: int, reason: str, kind: str
) -> CameraInfo:
    """The camera if this person may view it now, with the view recorded; else a refusal."""
    info = _allowed(session, request, principal, camera_id, reason, kind)
    cctv.record_view(session, principal, camera_id, reason, kind)
    session.commit()  # the view is in the ledger before the first frame leaves
    return info


async def _mjpeg(feed: CameraFeed) -> AsyncIterator[bytes]:
    """multipart/x-mixed-replace: one JPEG part per frame, for as long as the viewer stays."""
    frames = feed.frames()
    try:
        async for frame in frames:
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame.jpeg)}\r\n\r\n"
            yield head.encode() + frame.jpeg + b"\r\n"
    finally:
        await frames.aclose()


@router.get(
    "/cameras/{camera_id}/live.mjpeg",
    summary="Live picture of a camera as an MJPEG stream (recorded view)",
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
    info = await asyncio.to_thread(_viewable, session, request, principal, camera_id, reason, "live")
    feed = await asyncio.to_thread(hub_of(platform).feed, info, current=True)
    return StreamingResponse(
        _mjpeg(feed),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/cameras/{camera_id}/snapshot.jpg",
    summary="One picture of a camera now (recorded view)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def snapshot(
    camera_id: CameraId,
    reason: Reason,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> Response:
    info = await asyncio.to_thread(_viewable, session, request, principal, camera_id, reason, "snapshot")
    feed = await asyncio.to_thread(hub_of(platform).feed, info, current=True)
    frame = await feed.grab()
    if frame is None:
        raise Problem(503, "No picture", f"camera {camera_id} sends no picture now", "camera_offline")
    return Response(frame.jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def _wall(feeds: list[CameraFeed]) -> AsyncIterator[bytes]:
    """Every tile of a wall in one multipart stream, each part naming its camera (``X-Camera-Id``).

    A browser opens at most six connections to a server, so a 3x3 or 4x4 wall of one stream per
    tile would starve; one stream per wall carries them all. A slow screen gets the newest frames
    (the oldest waiting one is dropped), never a growing backlog.
    """
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=2 * len(feeds))

    async def pump(feed: CameraFeed) -> None:
        async for frame in feed.frames():
            if queue.full():
                queue.get_nowait()
            queue.put_nowait((feed.info.camera_id, frame.jpeg))

    tasks = [asyncio.create_task(pump(feed)) for feed in feeds]
    try:
        while True:
            camera_id, jpeg = await queue.get()
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nX-Camera-Id: {camera_id}\r\n"
                f"Content-Length: {len(jpeg)}\r\n\r\n"
            )
            yield head.encode() + jpeg + b"\r\n"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@router.get(
    "/videowall/live",
    summary="The live pictures of several cameras in one multipart stream (one recorded view each)",
    response_class=StreamingResponse,
)
async def wall_live(
    ids: WallCameraIds,
    reason: Reason,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> StreamingResponse:
    wanted = parse_ids(ids)

    def check_all() -> list[CameraInfo]:
        """All or nothing: one refused camera refuses the wall before any view is recorded."""
        infos = [_allowed(session, request, principal, camera_id, reason, "live") for camera_id in wanted]
        for info in infos:
            cctv.record_view(session, principal, info.camera_id, reason, "live")
        session.commit()
        return infos

    infos = await asyncio.to_thread(check_all)
    hub = hub_of(platform)
    feeds = [await asyncio.to_thread(hub.feed, info, current=True) for info in infos]
    return StreamingResponse(
        _wall(feeds),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- groups and tours


class GroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    camera_ids: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=service.MAX_GROUP_CAMERAS)
    description: str = Field("", max_length=512)


class TourIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    group_ids: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=service.MAX_TOUR_GROUPS)
    layout: Literal[1, 4, 9, 16] = 4
    dwell_s: int = Field(15, ge=3, le=3600)


def _not_found(error: service.NotFound) -> Problem:
    return Problem(404, "Not found", str(error), "not_found")


T = TypeVar("T")


def _done(session: Session, answer: T) -> T:
    """Commit in the worker thread, before the answer is sent.

    FastAPI closes a request's session only after the response went out, on the event loop; on
    SQLite every transaction holds the write lock (``BEGIN IMMEDIATE``), so a transaction left open
    there makes any request that meanwhile touches the database on the loop wait for the lock it
    is itself keeping from being released. The wall polls every two seconds: it must not do that.
    """
    session.commit()
    return answer


@router.get("/videowall/groups", summary="Camera groups")
def groups(
    session: Session = Depends(db_session), principal: Principal = Depends(require(*VIEWERS))
) -> list[dict[str, Any]]:
    return _done(session, [service.group_dict(session, group) for group in service.list_groups(session)])


@router.post("/videowall/groups", status_code=201, summary="Create a camera group")
def add_group(
    body: GroupIn, session: Session = Depends(db_session), principal: Principal = Depends(require(*EDITORS))
) -> dict[str, Any]:
    group = service.save_group(
        session,
        name=body.name,
        camera_ids=body.camera_ids,
        description=body.description,
        actor=principal.name,
    )
    return _done(session, service.group_dict(session, group))


@router.put("/videowall/groups/{group_id}", summary="Rename a group or change its cameras")
def change_group(
    group_id: ItemId,
    body: GroupIn,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> dict[str, Any]:
    try:
        group = service.save_group(
            session,
            name=body.name,
            camera_ids=body.camera_ids,
            description=body.description,
            actor=principal.name,
            group_id=group_id,
        )
    except service.NotFound as error:
        raise _not_found(error) from None
    return _done(session, service.group_dict(session, group))


@router.delete("/videowall/groups/{group_id}", status_code=204, summary="Delete a camera group")
def remove_group(
    group_id: ItemId,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> Response:
    try:
        service.delete_group(session, group_id, principal.name)
    except service.NotFound as error:
        raise _not_found(error) from None
    return _done(session, Response(status_code=204))


@router.get("/videowall/tours", summary="Tours: groups shown in turn")
def tours(
    session: Session = Depends(db_session), principal: Principal = Depends(require(*VIEWERS))
) -> list[dict[str, Any]]:
    return _done(session, [service.tour_dict(session, tour) for tour in service.list_tours(session)])


@router.get("/videowall/tours/{tour_id}", summary="One tour with its pages of cameras")
def tour(
    tour_id: ItemId, session: Session = Depends(db_session), principal: Principal = Depends(require(*VIEWERS))
) -> dict[str, Any]:
    try:
        return _done(session, service.tour_dict(session, service.get_tour(session, tour_id)))
    except service.NotFound as error:
        raise _not_found(error) from None


@router.post("/videowall/tours", status_code=201, summary="Create a tour")
def add_tour(
    body: TourIn, session: Session = Depends(db_session), principal: Principal = Depends(require(*EDITORS))
) -> dict[str, Any]:
    created = service.save_tour(
        session,
        name=body.name,
        group_ids=body.group_ids,
        layout=body.layout,
        dwell_s=body.dwell_s,
        actor=principal.name,
    )
    return _done(session, service.tour_dict(session, created))


@router.delete("/videowall/tours/{tour_id}", status_code=204, summary="Delete a tour")
def remove_tour(
    tour_id: ItemId, session: Session = Depends(db_session), principal: Principal = Depends(require(*EDITORS))
) -> Response:
    try:
        service.delete_tour(session, tour_id, principal.name)
    except service.NotFound as error:
        raise _not_found(error) from None
    return _done(session, Response(status_code=204))


# ---------------------------------------------------------------- cameras, health, alarms


@router.get("/videowall/cameras", summary="Cameras you may put on the wall, by name or district")
def find_cameras(
    q: Annotated[str, Query(max_length=64, description="Part of the camera's name or code.")] = "",
    district: Annotated[str | None, Query(pattern=r"^\d{5}$", description="District code.")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_SEARCH)] = 30,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> list[dict[str, Any]]:
    return _done(
        session, service.search_cameras(session, principal, text=q, district_code=district, limit=limit)
    )


@router.get("/videowall/health", summary="The raised problem of each camera asked about")
def health(
    request: Request,
    ids: Annotated[
        str, Query(pattern=r"^\d{1,10}(,\d{1,10}){0,63}$", description="Camera ids, comma separated.")
    ],
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> dict[str, Any]:
    wanted = parse_ids(ids)
    states = service.health_states(session, wanted)
    watches = monitor_of(request.app.state.platform).watches
    answer: dict[str, Any] = {}
    for camera_id in wanted:
        info = service.camera_info(session, camera_id)
        if info is None:
            continue
        watch = watches.get(camera_id)
        # never raised a problem: "ok" once the monitor has looked at it, else not checked yet
        fallback = {"problem": watch.state.active if watch is not None else "unknown"}
        answer[str(camera_id)] = {"name": info.name, **states.get(camera_id, fallback)}
    return _done(session, answer)


@router.get("/videowall/alarms", summary="Camera health alarms, newest first")
def health_alarms(
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*VIEWERS)),
) -> list[dict[str, Any]]:
    # district staff see their own district's cameras only, as on the wall itself
    district_only = not principal.has_any("admin", "operator", "dispatcher")
    if district_only and not principal.district_code:
        return _done(session, [])
    district = principal.district_code if district_only else None
    found = service.alarms(session, open_only=open_only, district_code=district, limit=limit)
    return _done(session, [service.alarm_dict(alarm) for alarm in found])


class FaultIn(BaseModel):
    fault: Fault | None = Field(description="How the demo scene should fail; null makes it well again.")


@router.post("/videowall/cameras/{camera_id}/fault", summary="Make a demo camera's scene fail (demo, drills)")
def set_fault(
    camera_id: CameraId,
    body: FaultIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> dict[str, Any]:
    info = service.camera_info(session, camera_id)
    if info is None:
        raise Problem(404, "Unknown camera", f"no camera {camera_id}", "unknown_camera")
    if info.snapshot_url or info.stream_url:  # a real device, or the stream the analysis reads
        raise Problem(
            409,
            "A real camera",
            f"camera {camera_id} streams from a real device, not a demo scene",
            "real_camera",
        )
    hub_of(platform).set_fault(camera_id, body.fault)
    audit.record(
        session,
        actor=principal.name,
        action="videowall.fault.set",
        target=f"camera:{camera_id}",
        client=client_address(request),
        details={"fault": body.fault},
    )
    return _done(session, {"camera_id": camera_id, "fault": body.fault})


@router.post(
    "/videowall/cameras/{camera_id}/reference", summary="Take the camera's picture now as its reference frame"
)
async def take_reference(
    camera_id: CameraId,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> dict[str, Any]:
    info = await asyncio.to_thread(
        _viewable,
        session,
        request,
        principal,
        camera_id,
        "reference frame for the health monitor",
        "snapshot",
    )
    frame = await hub_of(platform).feed(info, current=True).grab()
    if frame is None or decode_jpeg(frame.jpeg) is None:
        raise Problem(409, "No picture", f"camera {camera_id} sends no picture to take", "camera_offline")
    await asyncio.to_thread(service.store_reference, session, camera_id, frame.jpeg, principal.name)
    monitor_of(platform).use_reference(camera_id, frame.jpeg)
    await asyncio.to_thread(session.commit)
    return {"camera_id": camera_id, "taken_at": frame.at.isoformat()}
