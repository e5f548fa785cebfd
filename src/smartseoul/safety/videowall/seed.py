"""Demo camera groups around busy places, and a tour over them, from the demo cameras.

Each group takes the cameras shared with the control room nearest to a landmark, so an operator
of the demo may view every one of them.
"""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.safety.cctv import service as cctv
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.models import CameraGroup

GROUP_SIZE = 9
LANDMARKS: tuple[tuple[str, float, float], ...] = (
    ("서울역 일대 · Seoul Station area", 37.5547, 126.9707),
    ("강남역 일대 · Gangnam Station area", 37.4979, 127.0276),
    ("홍대입구 일대 · Hongik University area", 37.5572, 126.9245),
    ("잠실 일대 · Jamsil area", 37.5133, 127.1001),
    ("도봉구청 일대 · Dobong-gu Office area", 37.6688, 127.0471),
)
TOUR_NAME = "주요 거점 순환 · Main hubs"
ACTOR = "demo"


def _nearest_shared(session: Session, lat: float, lon: float) -> list[int]:
    district = cctv.city_index(session).district_at(lat, lon)
    if district is None:
        return []
    _total, cameras = cctv.list_cameras(
        session, cctv.CameraFilter(district_code=district, shared=True, status="active"), limit=5000
    )
    scale = math.cos(math.radians(lat))
    cameras.sort(key=lambda c: (c.lat - lat) ** 2 + ((c.lon - lon) * scale) ** 2)
    return [camera.id for camera in cameras[:GROUP_SIZE]]


def seed_groups(session: Session, seed: int) -> int:
    """Store the demo groups and tour once (``seed`` is unused: the landmarks are fixed places);
    returns how many groups were added."""
    if session.scalar(select(CameraGroup.id).limit(1)) is not None:
        return 0
    groups = []
    for name, lat, lon in LANDMARKS:
        camera_ids = _nearest_shared(session, lat, lon)
        if camera_ids:
            groups.append(service.save_group(session, name=name, camera_ids=camera_ids, actor=ACTOR))
    if groups:
        service.save_tour(
            session, name=TOUR_NAME, group_ids=[g.id for g in groups], layout=4, dwell_s=15, actor=ACTOR
        )
    return len(groups)
