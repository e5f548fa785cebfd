"""The demo's monitored cameras: eight shared cameras on the local stream server, with rules.

The demo city shares about 10,000 cameras with the control room; one demo machine cannot analyse
them all (see the benchmark for cameras per core), so the demo puts the first eight shared
cameras under monitoring: three show vtest.avi (pedestrians; started at different frames), one the
synthetic street, four an empty street (what must stay quiet). Each pedestrian camera gets rules
that fire within a minute of watching: loitering on the pavement, a crowd, running, and a night
intrusion zone.

The monitored cameras also form a video wall group, named to come first in the wall's list: the
demo's wall opens on them, and their tiles show the analysed streams with the analysis's boxes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.safety.cctv.models import Camera
from smartseoul.safety.monitoring import service
from smartseoul.safety.videowall import service as wall

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

DEMO_CAMERAS = 8
WALL_GROUP = "AI 영상 자동감시 · AI video monitoring"  # "AI" sorts before the Hangul group names
STREAMS = ("vtest.mjpeg?offset=0", "vtest.mjpeg?offset=260", "vtest.mjpeg?offset=530", "scene-{id}.mjpeg")
LOWER_HALF = [[0.0, 0.45], [1.0, 0.45], [1.0, 1.0], [0.0, 1.0]]
WHOLE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
DEMO_RULES = (
    {
        "name": "보도 배회 / pavement loitering",
        "kind": "loitering",
        "zone": LOWER_HALF,
        "params": {"dwell_s": 12},
    },
    {"name": "밀집 / crowd", "kind": "crowding", "zone": WHOLE, "params": {"max_people": 5}},
    {"name": "뛰는 사람 / running", "kind": "running", "zone": WHOLE, "params": {"speed": 1.6}},
    {
        "name": "야간 침입 / night intrusion",
        "kind": "intrusion",
        "zone": LOWER_HALF,
        "start": "22:00",
        "end": "06:00",
    },
)


def demo_camera_ids(session: Session, count: int = DEMO_CAMERAS) -> list[int]:
    """The first ``count`` shared, active cameras of the registry."""
    query = (
        select(Camera.id)
        .where(Camera.shared.is_(True), Camera.status == "active")
        .order_by(Camera.id)
        .limit(count)
    )
    return [int(i) for i in session.scalars(query)]


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    port = platform.settings.monitoring_stream_port
    if not port:
        return []
    base = f"http://127.0.0.1:{port}/streams/"
    camera_ids = demo_camera_ids(session)
    for index, camera_id in enumerate(camera_ids):
        stream = STREAMS[index] if index < len(STREAMS) else "idle-{id}.mjpeg"
        service.watch_camera(session, camera_id, base + stream.format(id=camera_id), actor="demo")
        if stream.startswith("vtest"):
            for rule in DEMO_RULES:
                service.add_rule(session, camera_id, dict(rule), "demo")
    session.flush()
    seed_wall_group(session, camera_ids)
    return []


def seed_wall_group(session: Session, camera_ids: list[int]) -> None:
    """The monitored cameras as the wall's first group (once: a second seed leaves it as it is)."""
    if camera_ids and all(group.name != WALL_GROUP for group in wall.list_groups(session)):
        wall.save_group(session, name=WALL_GROUP, camera_ids=camera_ids, actor="demo")
