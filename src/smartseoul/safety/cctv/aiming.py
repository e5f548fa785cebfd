"""Turning cameras to an incident: the covering cameras, and PTZ cameras driven over ONVIF.

On ``safety.incident.opened.v1`` with a location, the best covering cameras are listed and up to
:data:`MAX_PTZ` PTZ cameras in reach are turned to the spot (pan from the bearing, tilt from the
mount height and distance, zoom from the distance). A camera with an ONVIF endpoint is moved by
``AbsoluteMove``; one without (every demo camera) is turned in the registry state only, and the
event says which is which. PTZ state does not change a camera's registered view sector, so it
does not invalidate the coverage figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event
from smartseoul.core.idempotency import apply_once
from smartseoul.safety.cctv import service
from smartseoul.safety.cctv.events import CamerasAimed
from smartseoul.safety.cctv.geometry import pan_tilt_to
from smartseoul.safety.cctv.models import Camera
from smartseoul.safety.cctv.onvif import OnvifError, OnvifPtzClient, position_from_degrees

log = logging.getLogger("smartseoul.cctv")
INCIDENT_OPENED = "safety.incident.opened.v1"
CONSUMER = "cctv_aim_incidents"
MAX_PTZ = 3
MAX_CAMERAS = 10


@dataclass
class AimResult:
    camera_ids: list[int] = field(default_factory=list)
    ptz_camera_ids: list[int] = field(default_factory=list)
    moved_by_onvif: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def zoom_for(distance_m: float, reach_m: float) -> float:
    """Farther spots need more zoom: 0 at the camera, 1 at the edge of its reach."""
    return round(max(0.0, min(1.0, distance_m / max(reach_m, 1.0))), 3)


def turn(
    camera: Camera, distance_m: float, bearing: float, actor: str, session: Session, timeout_s: float = 3.0
) -> bool | None:
    """Point one PTZ camera at a spot; True: the ONVIF device moved, None: registry only, False: failed."""
    pan, tilt = pan_tilt_to(distance_m, bearing, camera.direction_deg, camera.mount_height_m)
    zoom = zoom_for(distance_m, camera.range_m)
    moved: bool | None = None
    if camera.onvif_url:
        client = OnvifPtzClient(
            camera.onvif_url, camera.onvif_username, camera.onvif_password, camera.onvif_profile, timeout_s
        )
        try:
            client.absolute_move(position_from_degrees(pan, tilt, zoom))
            moved = True
        except OnvifError as error:
            log.warning("PTZ camera %s not moved: %s", camera.id, error)
            moved = False
    if moved is not False:
        camera.pan_deg, camera.tilt_deg, camera.zoom = pan, tilt, zoom
    audit.record(
        session,
        actor=actor,
        action="cctv.ptz.move",
        target=f"camera:{camera.id}",
        outcome="ok" if moved is not False else "failed",
        details={"pan_deg": pan, "tilt_deg": tilt, "zoom": zoom, "onvif": bool(camera.onvif_url)},
    )
    return moved


def aim_at(
    session: Session, lat: float, lon: float, actor: str, max_ptz: int = MAX_PTZ, timeout_s: float = 3.0
) -> AimResult:
    """List the cameras covering (lat, lon) and turn the best ``max_ptz`` PTZ cameras in reach to it."""
    result = AimResult()
    found = service.cameras_covering(session, lat, lon, limit=MAX_CAMERAS)
    result.camera_ids = [c.camera_id for c in found if c.covers]
    for candidate in [c for c in found if c.ptz][:max_ptz]:
        camera = service.get_camera(session, candidate.camera_id)
        if camera is None:
            continue
        moved = turn(camera, candidate.distance_m, candidate.bearing_deg, actor, session, timeout_s)
        if moved is False:
            result.failed.append(camera.id)
            continue
        result.ptz_camera_ids.append(camera.id)
        if moved:
            result.moved_by_onvif.append(camera.id)
        if camera.id not in result.camera_ids:
            result.camera_ids.append(camera.id)
    return result


def _location(data: dict[str, Any]) -> tuple[int, float, float] | None:
    try:
        incident, lat, lon = int(data["incident_id"]), data.get("lat"), data.get("lon")
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    return incident, float(lat), float(lon)


async def on_incident_opened(platform: Platform, event: Event) -> None:
    """Aim cameras at a new incident once (idempotent), then announce which."""
    where = _location(event.data())
    if where is None:
        return
    incident_id, lat, lon = where
    outcome: dict[str, AimResult] = {}

    def work(session: Session, _event: Event) -> None:
        settings = platform.settings
        outcome["result"] = aim_at(
            session,
            lat,
            lon,
            actor=f"cctv:incident:{incident_id}",
            max_ptz=settings.cctv_aim_max_ptz,
            timeout_s=settings.cctv_onvif_timeout_s,
        )

    if not await apply_once(platform.db, CONSUMER, event, work):
        return
    result = outcome["result"]
    if result.moved_by_onvif != result.ptz_camera_ids:
        log.info(
            "incident %s: PTZ cameras %s turned in the registry only (no ONVIF endpoint)",
            incident_id,
            sorted(set(result.ptz_camera_ids) - set(result.moved_by_onvif)),
        )
    await platform.bus.publish(
        CamerasAimed(
            incident_id=incident_id,
            lat=lat,
            lon=lon,
            camera_ids=result.camera_ids,
            ptz_camera_ids=result.ptz_camera_ids,
            moved_by_onvif=result.moved_by_onvif,
            failed_ptz_camera_ids=result.failed,
        )
    )


async def subscribe(platform: Platform) -> Any:
    async def handler(event: Event) -> None:
        await on_incident_opened(platform, event)

    return await platform.bus.subscribe(INCIDENT_OPENED, handler, durable=CONSUMER)
