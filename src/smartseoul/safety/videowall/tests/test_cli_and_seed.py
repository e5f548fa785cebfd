"""`smartseoul wall ...` as an operator would use it, and the demo's camera groups and tour."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.core.settings import Settings
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.safety.cctv.tests.helpers import add_camera, offset
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.feeds import CameraInfo
from smartseoul.safety.videowall.health import Transition
from smartseoul.safety.videowall.models import CameraGroup, Tour
from smartseoul.safety.videowall.seed import LANDMARKS, seed_groups

SEOUL_STATION = LANDMARKS[0][1:]


def test_groups_tours_and_alarms_from_the_command_line(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    platform = bootstrap(Settings(data_dir=tmp_path))
    with platform.db.session() as session:
        city.load_reference_data(session)
        cameras = [
            add_camera(session, at=offset(*SEOUL_STATION, 30.0 * n, 0.0), shared=True).id for n in range(3)
        ]
        info = service.camera_info(session, cameras[0])
        assert isinstance(info, CameraInfo)
        service.record_transitions(
            session, info, "covered", [Transition("covered", False, "no contrast")], utcnow()
        )
    refused = run_cli("wall", "group-add", "역 광장", str(cameras[0]), "999999", env=env)
    assert refused.returncode == 2
    assert "camera_ids[1]: no camera 999999" in refused.stderr
    added = run_cli("wall", "group-add", "역 광장", *map(str, cameras), env=env)
    assert added.returncode == 0, added.stderr
    listed = json.loads(run_cli("wall", "groups", "--json", env=env).stdout)
    assert [(g["name"], g["camera_ids"]) for g in listed] == [("역 광장", cameras)]
    tour = run_cli(
        "wall", "tour-add", "순환", str(listed[0]["id"]), "--layout", "1", "--dwell", "20", env=env
    )
    assert tour.returncode == 0, tour.stderr
    bad_tour = run_cli("wall", "tour-add", "odd", str(listed[0]["id"]), "--layout", "5", env=env)
    assert bad_tour.returncode == 2
    assert "layout" in bad_tour.stderr
    alarms = json.loads(run_cli("wall", "alarms", "--json", env=env).stdout)
    assert [(a["camera_id"], a["problem"]) for a in alarms] == [(cameras[0], "covered")]
    with platform.db.session() as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.actor.startswith("cli:"))))
    assert actions == {"videowall.group.saved", "videowall.tour.saved"}
    platform.db.dispose()


def test_the_demo_groups_take_shared_cameras_near_each_landmark_once(db: Session) -> None:
    near = [add_camera(db, at=offset(*SEOUL_STATION, 25.0 * n, 10.0), shared=True).id for n in range(2)]
    add_camera(db, at=offset(*SEOUL_STATION, 5.0, 5.0), shared=False)  # not shared: never on a demo wall
    assert seed_groups(db, 20151) >= 1
    group = db.scalars(select(CameraGroup).where(CameraGroup.name == LANDMARKS[0][0])).one()
    assert service.group_cameras(db, group.id)[:2] == near
    tour = db.scalars(select(Tour)).one()
    assert group.id in tour.group_ids
    assert seed_groups(db, 20151) == 0  # a second demo start adds nothing
