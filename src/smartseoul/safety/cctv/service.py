"""The camera registry's service API: what other domains call (never the tables).

Contract (see the cross-domain contracts): :func:`get_camera`, :func:`camera_points`,
:func:`cameras_covering`, :func:`may_view`, :func:`record_view`. Every write goes through
:func:`add_cameras` or :func:`touch` so that ``updated_at`` moves and the in-memory indexes
(nearest cameras, coverage) know to rebuild.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from smartseoul.city.service import CityIndex
from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.db import utcnow
from smartseoul.safety.cctv import sharing
from smartseoul.safety.cctv.index import CoveringCamera, camera_index
from smartseoul.safety.cctv.models import OWNER_KINDS, PURPOSES, STATUSES, Camera

__all__ = [
    "CoveringCamera",
    "add_cameras",
    "camera_dict",
    "camera_points",
    "cameras_covering",
    "city_index",
    "get_camera",
    "list_cameras",
    "may_view",
    "record_view",
]

MAX_RANGE_M = 500.0
MAX_LIMIT = 1000


def get_camera(session: Session, camera_id: int) -> Camera | None:
    return session.get(Camera, camera_id)


def camera_points(session: Session) -> list[tuple[int, float, float]]:
    """(id, lat, lon) of every active camera, for the planner and the map."""
    rows = session.execute(
        select(Camera.id, Camera.lat, Camera.lon).where(Camera.status == "active").order_by(Camera.id)
    )
    return [(int(i), float(lat), float(lon)) for i, lat, lon in rows]


def cameras_covering(session: Session, lat: float, lon: float, limit: int = 10) -> list[CoveringCamera]:
    """Cameras whose field of view covers the point, then PTZ cameras that can be turned to it;
    best first (score: nearness, how centred the point is in the view, resolution)."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return []
    return camera_index(session).covering(lat, lon, max(1, min(limit, MAX_LIMIT)))


def may_view(session: Session, principal: Principal, camera_id: int) -> bool:
    """The sharing policy's answer for this viewer and camera now (unknown camera: False)."""
    camera = get_camera(session, camera_id)
    return camera is not None and sharing.may_view_camera(session, principal, camera)


def record_view(session: Session, principal: Principal, camera_id: int, reason: str, kind: str) -> None:
    """Write a live view, playback or snapshot of ``camera_id`` to the audit ledger."""
    camera = get_camera(session, camera_id)
    if camera is None:
        raise LookupError(f"camera {camera_id} does not exist")
    sharing.record_view(session, principal, camera, reason, kind)


# ---------------------------------------------------------------- the city's shapes

_city_lock = threading.Lock()
_city_indexes: dict[str, CityIndex] = {}


def city_index(session: Session) -> CityIndex:
    """District and neighbourhood polygons of this database (reference data: loaded once)."""
    key = str(session.get_bind().engine.url)
    with _city_lock:
        found = _city_indexes.get(key)
    if found is None or not found.district_shapes:
        found = CityIndex.from_session(session)
        with _city_lock:
            _city_indexes[key] = found
    return found


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class CameraFilter:
    district_code: str | None = None
    purpose: str | None = None
    status: str | None = None
    shared: bool | None = None
    ptz: bool | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions = {
            Camera.district_code: self.district_code,
            Camera.purpose: self.purpose,
            Camera.status: self.status,
            Camera.shared: self.shared,
            Camera.ptz: self.ptz,
        }
        for column, value in conditions.items():
            if value is not None:
                query = query.where(column == value)
        return query


def list_cameras(
    session: Session, where: CameraFilter, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[Camera]]:
    """One page of cameras (by id) and how many match in all."""
    total = session.scalar(where.apply(select(func.count(Camera.id)))) or 0
    rows = session.scalars(where.apply(select(Camera)).order_by(Camera.id).limit(limit).offset(offset))
    return int(total), list(rows)


def camera_dict(camera: Camera) -> dict[str, Any]:
    """The public view of a camera (never its ONVIF password)."""
    return {
        "id": camera.id,
        "code": camera.code,
        "site": camera.site,
        "name": camera.name,
        "owner": camera.owner,
        "owner_kind": camera.owner_kind,
        "owner_phone": camera.owner_phone,
        "purpose": camera.purpose,
        "address_road": camera.address_road,
        "address_lot": camera.address_lot,
        "lat": camera.lat,
        "lon": camera.lon,
        "district_code": camera.district_code,
        "neighbourhood_code": camera.neighbourhood_code,
        "mount_height_m": camera.mount_height_m,
        "direction_deg": camera.direction_deg,
        "fov_deg": camera.fov_deg,
        "range_m": camera.range_m,
        "view_note": camera.view_note,
        "megapixels": camera.megapixels,
        "retention_days": camera.retention_days,
        "installed_on": camera.installed_on.isoformat() if camera.installed_on else None,
        "streams": {
            "rtsp_main": camera.rtsp_main,
            "rtsp_sub": camera.rtsp_sub,
            "snapshot": camera.snapshot_url,
        },
        "ptz": camera.ptz,
        "onvif": bool(camera.onvif_url),
        "pan_deg": camera.pan_deg,
        "tilt_deg": camera.tilt_deg,
        "zoom": camera.zoom,
        "status": camera.status,
        "shared": camera.shared,
        "data_date": camera.data_date.isoformat() if camera.data_date else None,
        "updated_at": camera.updated_at.isoformat(),
    }


class CameraProblem(ValueError):
    """A camera field that makes no sense; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _bounded(values: dict[str, Any], field: str, low: float, high: float, what: str) -> None:
    value = values.get(field)
    if not isinstance(value, int | float) or not math.isfinite(value) or not low <= value <= high:
        raise CameraProblem(field, f"{what} must be between {low:g} and {high:g} (got {value!r})")


def check_camera(values: dict[str, Any], city: CityIndex) -> dict[str, Any]:
    """Check one camera's fields and fill in its district and neighbourhood; raises CameraProblem.

    Refused: a position outside the city, a field of view that makes no sense (an angle of 0 or
    above 360 degrees, a range of 0 or beyond what any CCTV resolves), unknown codes.
    """
    _bounded(values, "lat", -90, 90, "latitude")
    _bounded(values, "lon", -180, 180, "longitude")
    district = city.district_at(values["lat"], values["lon"])
    if district is None:
        raise CameraProblem("lat", f"({values['lat']}, {values['lon']}) lies outside the city's districts")
    _bounded(values, "fov_deg", 1, 360, "the field-of-view angle (degrees)")
    _bounded(values, "range_m", 1, MAX_RANGE_M, "the view range (metres)")
    _bounded(values, "direction_deg", 0, 360, "the view direction (compass degrees)")
    _bounded(values, "mount_height_m", 0.5, 50, "the mount height (metres)")
    _bounded(values, "megapixels", 0.1, 100, "the resolution (megapixels)")
    _bounded(values, "retention_days", 1, 3650, "the retention (days)")
    for field, allowed in (("purpose", PURPOSES), ("owner_kind", OWNER_KINDS), ("status", STATUSES)):
        if values.get(field, allowed[0]) not in allowed:
            raise CameraProblem(field, f"choose from {', '.join(allowed)} (got {values.get(field)!r})")
    checked = dict(values)
    checked["direction_deg"] = float(values["direction_deg"]) % 360.0
    checked["retention_days"] = round(values["retention_days"])
    checked["district_code"] = district
    checked["neighbourhood_code"] = city.neighbourhood_at(values["lat"], values["lon"])
    return checked


def add_cameras(session: Session, rows: list[dict[str, Any]], *, replace_sites: bool = True) -> int:
    """Bulk insert checked camera rows; with ``replace_sites`` the cameras of the same sites are
    replaced (a re-import updates instead of duplicating)."""
    if not rows:
        return 0
    now = utcnow()
    if replace_sites:
        sites = sorted({row["site"] for row in rows})
        for start in range(0, len(sites), 500):
            session.execute(delete(Camera).where(Camera.site.in_(sites[start : start + 500])))
    for row in rows:
        row.setdefault("created_at", now)
        row["updated_at"] = now
    # a Core executemany (four times as fast as the ORM bulk insert on PostgreSQL) wants the same
    # keys in every row of a batch: rows are grouped by the fields they give
    table = cast(Table, Camera.__table__)
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    for group in groups.values():
        for start in range(0, len(group), 5000):
            session.execute(insert(table), group[start : start + 5000])
    session.flush()
    return len(rows)


def touch(camera: Camera) -> None:
    """Mark a camera changed so that the indexes rebuild."""
    camera.updated_at = utcnow()


def set_status(session: Session, camera: Camera, status: str, actor: str) -> None:
    if status not in STATUSES:
        raise CameraProblem("status", f"choose from {', '.join(STATUSES)} (got {status!r})")
    before = camera.status
    camera.status = status
    touch(camera)
    audit.record(
        session,
        actor=actor,
        action="cctv.camera.status",
        target=f"camera:{camera.id}",
        details={"from": before, "to": status},
    )


def counts_by_district(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Camera.district_code, func.count(Camera.id))
        .where(Camera.status != "removed")
        .group_by(Camera.district_code)
    )
    return {str(code): int(n) for code, n in rows}


def parse_month(value: str) -> date:
    """``YYYY-MM`` (or ``YYYY-MM-DD``, ``YYYYMM``) as the first day of that month."""
    text = value.strip().replace(".", "-").replace("/", "-")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:4]}-{text[4:]}"
    year, month = int(text[:4]), int(text[5:7])
    return date(year, month, 1)
