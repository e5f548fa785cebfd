"""The video wall's service API: camera groups, tours, camera search, health state and alarms.

Cameras are the cctv registry's (``smartseoul.safety.cctv.service``); a group holds camera ids
checked against the registry when the group is saved. Every change is written to the audit
ledger with who made it; bad input raises :class:`InvalidInput` naming the field, before anything
is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.db import utcnow
from smartseoul.safety.cctv import service as cctv
from smartseoul.safety.videowall.feeds import CameraInfo
from smartseoul.safety.videowall.health import Transition
from smartseoul.safety.videowall.models import (
    LAYOUTS,
    CameraGroup,
    CameraHealth,
    GroupCamera,
    HealthAlarm,
    ReferenceFrame,
    Tour,
)

MAX_GROUP_CAMERAS = 64
MAX_TOUR_GROUPS = 50
MAX_SEARCH = 100


class NotFound(LookupError):
    """A group, tour or camera that does not exist."""


def camera_info(session: Session, camera_id: int) -> CameraInfo | None:
    """What the wall needs of a camera; a monitored camera's tile shows the stream its analysis
    reads (so that the analysis's boxes fit the picture)."""
    from smartseoul.safety.monitoring import service as monitoring  # it uses this module too

    camera = cctv.get_camera(session, camera_id)
    if camera is None:
        return None
    return CameraInfo(
        camera.id,
        camera.name,
        camera.lat,
        camera.lon,
        camera.district_code,
        camera.snapshot_url or "",
        monitoring.wall_stream(session, camera_id),
    )


# ---------------------------------------------------------------- groups


def _check_name(name: str, field: str = "name") -> str:
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise InvalidInput(f"{field}: 1 to 128 characters")
    return name


def _check_cameras(session: Session, camera_ids: list[int]) -> list[int]:
    if not 1 <= len(camera_ids) <= MAX_GROUP_CAMERAS:
        raise InvalidInput(f"camera_ids: 1 to {MAX_GROUP_CAMERAS} cameras")
    if len(set(camera_ids)) != len(camera_ids):
        raise InvalidInput("camera_ids: a camera is listed twice")
    for index, camera_id in enumerate(camera_ids):
        if cctv.get_camera(session, camera_id) is None:
            raise InvalidInput(f"camera_ids[{index}]: no camera {camera_id}")
    return camera_ids


def _name_taken(session: Session, model: type[CameraGroup] | type[Tour], name: str, own: int | None) -> bool:
    found = session.scalar(select(model.id).where(model.name == name))
    return found is not None and found != own


def save_group(
    session: Session,
    *,
    name: str,
    camera_ids: list[int],
    actor: str,
    description: str = "",
    group_id: int | None = None,
) -> CameraGroup:
    """Create a group, or with ``group_id`` replace its name, description and cameras."""
    name = _check_name(name)
    if len(description) > 512:
        raise InvalidInput("description: at most 512 characters")
    _check_cameras(session, camera_ids)
    if _name_taken(session, CameraGroup, name, group_id):
        raise InvalidInput(f"name: a group called {name!r} exists already")
    group = (
        CameraGroup(name=name, created_by=actor) if group_id is None else session.get(CameraGroup, group_id)
    )
    if group is None:
        raise NotFound(f"no camera group {group_id}")
    group.name, group.description = name, description
    session.add(group)
    session.flush()
    session.execute(delete(GroupCamera).where(GroupCamera.group_id == group.id))
    session.add_all(GroupCamera(group_id=group.id, camera_id=c, position=i) for i, c in enumerate(camera_ids))
    audit.record(
        session,
        actor=actor,
        action="videowall.group.saved",
        target=f"videowall_group:{group.id}",
        details={"name": name, "cameras": camera_ids},
    )
    session.flush()
    return group


def group_cameras(session: Session, group_id: int) -> list[int]:
    return list(
        session.scalars(
            select(GroupCamera.camera_id)
            .where(GroupCamera.group_id == group_id)
            .order_by(GroupCamera.position)
        )
    )


def group_dict(session: Session, group: CameraGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "camera_ids": group_cameras(session, group.id),
        "created_by": group.created_by,
        "created_at": group.created_at.isoformat(),
    }


def list_groups(session: Session) -> list[CameraGroup]:
    return list(session.scalars(select(CameraGroup).order_by(CameraGroup.name)))


def get_group(session: Session, group_id: int) -> CameraGroup:
    group = session.get(CameraGroup, group_id)
    if group is None:
        raise NotFound(f"no camera group {group_id}")
    return group


def delete_group(session: Session, group_id: int, actor: str) -> None:
    group = get_group(session, group_id)
    session.delete(group)
    audit.record(session, actor=actor, action="videowall.group.deleted", target=f"videowall_group:{group_id}")


def grouped_camera_ids(session: Session, limit: int) -> list[int]:
    """Cameras in any group (the health monitor watches them), in group order."""
    rows = session.scalars(
        select(GroupCamera.camera_id).order_by(GroupCamera.group_id, GroupCamera.position).limit(limit * 4)
    )
    return list(dict.fromkeys(rows))[:limit]


# ---------------------------------------------------------------- tours


def save_tour(
    session: Session, *, name: str, group_ids: list[int], layout: int, dwell_s: int, actor: str
) -> Tour:
    """A tour over existing groups: ``layout`` tiles a page, ``dwell_s`` seconds a page."""
    name = _check_name(name)
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout: one of {', '.join(map(str, LAYOUTS))} tiles")
    if not 3 <= dwell_s <= 3600:
        raise InvalidInput("dwell_s: 3 to 3600 seconds")
    if not 1 <= len(group_ids) <= MAX_TOUR_GROUPS:
        raise InvalidInput(f"group_ids: 1 to {MAX_TOUR_GROUPS} groups")
    for index, group_id in enumerate(group_ids):
        if session.get(CameraGroup, group_id) is None:
            raise InvalidInput(f"group_ids[{index}]: no camera group {group_id}")
    if _name_taken(session, Tour, name, None):
        raise InvalidInput(f"name: a tour called {name!r} exists already")
    tour = Tour(name=name, group_ids=list(group_ids), layout=layout, dwell_s=dwell_s, created_by=actor)
    session.add(tour)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="videowall.tour.saved",
        target=f"videowall_tour:{tour.id}",
        details={"name": name, "groups": group_ids, "layout": layout, "dwell_s": dwell_s},
    )
    return tour


def tour_pages(session: Session, tour: Tour) -> list[dict[str, Any]]:
    """The pages a tour shows in turn: each group cut into pages of ``layout`` cameras."""
    pages: list[dict[str, Any]] = []
    for group_id in tour.group_ids:
        group = session.get(CameraGroup, group_id)
        if group is None:  # deleted since: the tour skips it
            continue
        cameras = group_cameras(session, group_id)
        for start in range(0, len(cameras), tour.layout):
            pages.append(
                {
                    "group_id": group_id,
                    "group": group.name,
                    "camera_ids": cameras[start : start + tour.layout],
                }
            )
    return pages


def tour_dict(session: Session, tour: Tour) -> dict[str, Any]:
    return {
        "id": tour.id,
        "name": tour.name,
        "group_ids": tour.group_ids,
        "layout": tour.layout,
        "dwell_s": tour.dwell_s,
        "pages": tour_pages(session, tour),
        "created_by": tour.created_by,
    }


def list_tours(session: Session) -> list[Tour]:
    return list(session.scalars(select(Tour).order_by(Tour.name)))


def get_tour(session: Session, tour_id: int) -> Tour:
    tour = session.get(Tour, tour_id)
    if tour is None:
        raise NotFound(f"no tour {tour_id}")
    return tour


def delete_tour(session: Session, tour_id: int, actor: str) -> None:
    session.delete(get_tour(session, tour_id))
    audit.record(session, actor=actor, action="videowall.tour.deleted", target=f"videowall_tour:{tour_id}")


# ---------------------------------------------------------------- cameras for the wall


def search_cameras(
    session: Session,
    principal: Principal,
    *,
    text: str = "",
    district_code: str | None = None,
    limit: int = 30,
) -> list[dict[str, Any]]:
    """Cameras this person may view whose name or code holds ``text``, in a district if given."""
    from smartseoul.safety.cctv.models import Camera

    query = select(Camera).where(Camera.status != "removed")
    if text.strip():
        pattern = f"%{text.strip()}%"
        query = query.where(or_(Camera.name.ilike(pattern), Camera.code.ilike(pattern)))
    if district_code:
        query = query.where(Camera.district_code == district_code)
    found: list[dict[str, Any]] = []
    # shared cameras first: most viewers may see only those, so the page fills with viewable ones
    ordered = query.order_by(Camera.shared.desc(), Camera.id).limit(min(limit, MAX_SEARCH) * 5)
    for camera in session.scalars(ordered):
        if cctv.may_view(session, principal, camera.id):
            found.append(
                {
                    "id": camera.id,
                    "name": camera.name,
                    "district_code": camera.district_code,
                    "purpose": camera.purpose,
                    "ptz": camera.ptz,
                }
            )
        if len(found) >= min(limit, MAX_SEARCH):
            break
    return found


# ---------------------------------------------------------------- health


def health_states(session: Session, camera_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The raised problem of each camera (cameras never checked are absent)."""
    if not camera_ids:
        return {}
    rows = session.scalars(select(CameraHealth).where(CameraHealth.camera_id.in_(camera_ids)))
    return {
        row.camera_id: {"problem": row.problem, "since": row.since.isoformat(), "detail": row.detail}
        for row in rows
    }


def raised_problems(session: Session) -> dict[int, str]:
    """Cameras with a raised problem (what the monitor resumes with after a restart)."""
    rows = session.execute(
        select(CameraHealth.camera_id, CameraHealth.problem).where(CameraHealth.problem != "ok")
    )
    return {int(camera_id): str(problem) for camera_id, problem in rows}


def record_transitions(
    session: Session, info: CameraInfo, active: str, transitions: list[Transition], now: datetime
) -> None:
    """Store the camera's new state, open an alarm for each raise and close it on its clear."""
    row = session.get(CameraHealth, info.camera_id)
    if row is None:
        row = CameraHealth(camera_id=info.camera_id)
        session.add(row)
    row.problem, row.since, row.checked_at = active, now, now
    row.detail = next((t.detail for t in transitions if not t.ok), "")[:256]
    for change in transitions:
        if change.ok:
            for alarm in session.scalars(
                select(HealthAlarm).where(
                    HealthAlarm.camera_id == info.camera_id,
                    HealthAlarm.problem == change.problem,
                    HealthAlarm.cleared_at.is_(None),
                )
            ):
                alarm.cleared_at = now
        else:
            session.add(
                HealthAlarm(
                    camera_id=info.camera_id,
                    problem=change.problem,
                    detail=change.detail[:256],
                    camera_name=info.name[:128],
                    district_code=info.district_code,
                    lat=info.lat,
                    lon=info.lon,
                    raised_at=now,
                )
            )
    session.flush()


def alarm_dict(alarm: HealthAlarm) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "camera_id": alarm.camera_id,
        "camera_name": alarm.camera_name,
        "problem": alarm.problem,
        "detail": alarm.detail,
        "district_code": alarm.district_code,
        "raised_at": alarm.raised_at.isoformat(),
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
    }


def alarms(
    session: Session, *, open_only: bool = True, district_code: str | None = None, limit: int = 100
) -> list[HealthAlarm]:
    """Health alarms, newest first; ``district_code`` limits them to one district's cameras."""
    query = select(HealthAlarm)
    if open_only:
        query = query.where(HealthAlarm.cleared_at.is_(None))
    if district_code:
        query = query.where(HealthAlarm.district_code == district_code)
    return list(
        session.scalars(query.order_by(HealthAlarm.raised_at.desc(), HealthAlarm.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class StoredReference:
    jpeg: bytes
    taken_at: datetime


def reference_jpeg(session: Session, camera_id: int) -> StoredReference | None:
    row = session.get(ReferenceFrame, camera_id)
    return None if row is None else StoredReference(row.jpeg, row.taken_at)


def store_reference(session: Session, camera_id: int, jpeg: bytes, actor: str) -> None:
    """Keep ``jpeg`` as the camera's picture of itself when fine (what "moved" compares with)."""
    row = session.get(ReferenceFrame, camera_id)
    if row is None:
        row = ReferenceFrame(camera_id=camera_id)
        session.add(row)
    row.jpeg, row.taken_at, row.taken_by = jpeg, utcnow(), actor
    audit.record(session, actor=actor, action="videowall.reference.taken", target=f"camera:{camera_id}")
    session.flush()
