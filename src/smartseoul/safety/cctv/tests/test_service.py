"""The registry's service API (the contract other domains call), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_account
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.models import AuditEntry, User
from smartseoul.safety.cctv import service, sharing
from smartseoul.safety.cctv.models import Camera
from smartseoul.safety.cctv.seed import DEMO_POLICIES, demo_camera_points, demo_districts
from smartseoul.safety.cctv.tests.helpers import CITY_HALL, GANGNAM_STATION, add_camera, offset


def principal(
    roles: tuple[str, ...], district: str | None = None, user_id: int = 0, name: str = "viewer"
) -> Principal:
    return Principal("user", user_id, name, frozenset(roles), district)


def test_a_camera_covers_a_point_inside_its_view_sector_only(db: Session) -> None:
    north = add_camera(db, direction_deg=0.0, fov_deg=90.0, range_m=50.0)
    ahead = offset(*CITY_HALL, north_m=30, east_m=5)
    behind = offset(*CITY_HALL, north_m=-30, east_m=0)
    found = service.cameras_covering(db, *ahead)
    assert [(c.camera_id, c.covers) for c in found] == [(north.id, True)]
    assert found[0].distance_m == pytest.approx(30.4, abs=0.5)
    assert service.cameras_covering(db, *behind) == []
    too_far = offset(*CITY_HALL, north_m=70, east_m=0)
    assert service.cameras_covering(db, *too_far) == []


def test_ptz_cameras_that_can_turn_come_after_those_that_already_see(db: Session) -> None:
    ptz = add_camera(db, direction_deg=180.0, fov_deg=60.0, range_m=100.0, ptz=True)
    spot = offset(*CITY_HALL, north_m=20, east_m=0)
    fixed = add_camera(db, at=offset(*CITY_HALL, north_m=-10, east_m=0), direction_deg=0.0, range_m=60.0)
    found = service.cameras_covering(db, *spot)
    assert [(c.camera_id, c.covers, c.ptz) for c in found] == [(fixed.id, True, False), (ptz.id, False, True)]
    assert found[0].score > found[1].score


def test_nearer_and_more_centred_cameras_rank_first(db: Session) -> None:
    spot = offset(*CITY_HALL, north_m=40, east_m=0)
    far = add_camera(db, at=offset(*spot, north_m=-45, east_m=0), direction_deg=0.0)
    near = add_camera(db, at=offset(*spot, north_m=-10, east_m=0), direction_deg=0.0)
    assert [c.camera_id for c in service.cameras_covering(db, *spot)] == [near.id, far.id]


def test_cameras_removed_or_offline_are_not_offered(db: Session) -> None:
    camera = add_camera(db)
    spot = offset(*CITY_HALL, north_m=20, east_m=0)
    assert len(service.cameras_covering(db, *spot)) == 1
    service.set_status(db, camera, "removed", actor="test")
    db.flush()
    assert service.cameras_covering(db, *spot) == []
    assert camera.id not in {i for i, _lat, _lon in service.camera_points(db)}


def test_camera_points_and_get_camera(db: Session) -> None:
    camera = add_camera(db, at=GANGNAM_STATION)
    assert (camera.id, camera.lat, camera.lon) in service.camera_points(db)
    found = service.get_camera(db, camera.id)
    assert found is not None
    assert found.district_code == "11230"
    assert service.get_camera(db, 10**9) is None


def test_a_camera_outside_the_city_or_with_a_nonsense_view_is_refused(db: Session) -> None:
    with pytest.raises(service.CameraProblem, match="outside the city") as outside:
        add_camera(db, at=(35.1796, 129.0756))  # Busan
    assert outside.value.field == "lat"
    for field, value in (("fov_deg", 0.0), ("fov_deg", 400.0), ("range_m", 5000.0), ("range_m", -1.0)):
        with pytest.raises(service.CameraProblem) as bad:
            add_camera(db, **{field: value})
        assert bad.value.field == field


def test_district_staff_view_only_their_district(db: Session) -> None:
    mine = add_camera(db, at=CITY_HALL)
    theirs = add_camera(db, at=GANGNAM_STATION)
    staff = principal(("district_staff",), district="11020")
    assert sharing.may_view_camera(db, staff, mine)
    assert not sharing.may_view_camera(db, staff, theirs)


def test_sharing_policies_decide_for_operators_police_and_fire(db: Session) -> None:
    for policy in DEMO_POLICIES:
        sharing.add_policy(db, actor="test", **policy)
    shared = add_camera(db, shared=True, purpose="crime")
    private = add_camera(db, shared=False, purpose="crime")
    school = add_camera(db, shared=False, purpose="school_zone")
    disaster = add_camera(db, purpose="disaster")
    police = make_account(db, "police.one", ["dispatcher"], mfa=False)
    fire = make_account(db, "fire.one", ["dispatcher"], mfa=False)
    ids = {u.username: u.id for u in db.scalars(select(User))}
    sharing.set_agency(db, ids[police.username], "police", actor="test")
    sharing.set_agency(db, ids[fire.username], "fire", actor="test")
    operator = principal(("operator",))
    cop = principal(("dispatcher",), user_id=ids[police.username])
    firefighter = principal(("dispatcher",), user_id=ids[fire.username])
    noon = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
    night = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 22:00 in Seoul
    view = sharing.may_view_camera
    assert view(db, operator, shared, noon)
    assert not view(db, operator, private, noon)
    assert view(db, cop, shared, noon)
    assert not view(db, cop, disaster, noon)
    assert not view(db, cop, school, noon)
    assert view(db, cop, school, night)
    assert view(db, firefighter, disaster, noon)
    assert not view(db, firefighter, shared, noon)
    assert not view(db, principal(("auditor",)), shared, noon)
    assert view(db, principal(("admin",)), private, noon)


def test_every_view_goes_to_the_audit_ledger_with_its_reason(db: Session) -> None:
    camera = add_camera(db)
    viewer = principal(("operator",), name="op.kim")
    service.record_view(db, viewer, camera.id, "incident 42: person down", "live")
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        "op.kim",
        "cctv.view.live",
        f"camera:{camera.id}",
        "incident 42: person down",
    )
    with pytest.raises(InvalidInput, match="reason"):
        service.record_view(db, viewer, camera.id, "  ", "playback")
    with pytest.raises(InvalidInput, match="kind"):
        service.record_view(db, viewer, camera.id, "looking", "download")


def test_may_view_of_an_unknown_camera_is_false(db: Session) -> None:
    assert not service.may_view(db, principal(("admin",)), 10**9)


def test_policy_with_a_broken_time_window_is_refused(db: Session) -> None:
    with pytest.raises(InvalidInput, match="start"):
        sharing.add_policy(db, actor="test", name="bad", role="operator", start="25:00", end="08:00")
    with pytest.raises(InvalidInput, match="role"):
        sharing.add_policy(db, actor="test", name="bad", role="janitor")


def test_demo_camera_points_are_deterministic_and_follow_the_real_counts() -> None:
    points = demo_camera_points(20151)
    assert points == demo_camera_points(20151)
    districts = demo_districts()
    assert len(points) == sum(d.cameras for d in districts) == 29_477
    gangnam = next(d for d in districts if d.code == "11230")
    import shapely

    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    inside = shapely.contains_xy(gangnam.shape, lons, lats)
    assert int(inside.sum()) == 2_780


def test_seeded_registry_holds_the_demo_cameras_per_district(db: Session) -> None:
    from sqlalchemy import func

    from smartseoul.safety.cctv.seed import seed_cameras

    seed_cameras(db, 20151)
    counts = service.counts_by_district(db)
    assert counts["11230"] == 2_780
    assert counts["11100"] == 485
    shared = db.scalar(select(func.count(Camera.id)).where(Camera.shared.is_(True)))
    assert shared == 10_000
    assert seed_cameras(db, 20151) == 29_477  # a second run adds nothing
    assert db.scalar(select(func.count(Camera.id))) == 29_477
