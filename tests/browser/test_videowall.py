"""The video wall in a real headless Chromium against a real server: an operator shows a camera
group, the tiles move, and a camera made to go black or freeze gets a health alarm on the wall; a
camera under automated monitoring shows the analysed stream with the analysis's boxes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import Account
from smartseoul.safety.cctv import sharing
from smartseoul.safety.cctv.seed import DEMO_POLICIES
from smartseoul.safety.cctv.tests.helpers import CITY_HALL, add_camera, offset
from smartseoul.safety.monitoring import service as monitoring
from smartseoul.safety.monitoring.engine import engine_of
from smartseoul.safety.monitoring.streams import SUB_STREAM, VTEST_LIMIT, StreamServer, vtest_frames
from smartseoul.safety.videowall import service
from smartseoul.safety.videowall.plugin import hub_of
from tests.browser.conftest import LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = pytest.mark.browser
TILE_HAS_FRAMES = """([id, count]) => {
  const tile = document.querySelector('#wall .tile[data-camera-id="' + id + '"]');
  return tile !== null && Number(tile.dataset.frames || 0) >= count;
}"""

OVERLAY_INKED = """id => {
  const tile = document.querySelector('#wall .tile[data-camera-id="' + id + '"]');
  const overlay = tile && tile.querySelector('canvas.tile-boxes');
  if (!overlay || !overlay.width) return 0;
  const data = overlay.getContext('2d').getImageData(0, 0, overlay.width, overlay.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
  return inked;
}"""
# one check, so that boxes aging out between two checks on a loaded machine fail nothing
TILE_HAS_BOXES = (
    """id => {
  const tile = document.querySelector('#wall .tile[data-camera-id="' + id + '"]');
  return tile !== null && Number(tile.dataset.boxes || 0) >= 1 && Number(tile.dataset.people || 0) >= 1
    && ("""
    + OVERLAY_INKED
    + """)(id) > 0;
}"""
)
WHOLE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


@pytest.fixture(autouse=True)
def _no_demo_faults(live_server: LiveServer) -> None:
    """The simulator's own camera faults would land on these tests' cameras at random."""
    live_server.platform.settings.videowall_demo_faults = False


def _group(live_server: LiveServer) -> list[int]:
    """Four shared cameras around City Hall in one group, and the operators' sharing policy."""
    with live_server.platform.db.session() as session:
        for policy in DEMO_POLICIES:
            sharing.add_policy(session, actor="test", **policy)
        ids = [
            add_camera(session, at=offset(*CITY_HALL, 40.0 * n, 0.0), shared=True, name=f"Plaza {n}").id
            for n in range(4)
        ]
        service.save_group(session, name="시청광장 · City Hall Plaza", camera_ids=ids, actor="test")
    return ids


def _log_in_operator(page: Any, live_server: LiveServer, username: str) -> Account:
    account = live_server.account(username, ["operator"])
    log_in(page, account, otp=account.otp() if account.totp_secret else None)
    expect(page).to_have_url(f"{live_server.url}/console")
    return account


def _wait_for_frames(page: Any, camera_id: int, count: int = 2) -> None:
    page.wait_for_function(TILE_HAS_FRAMES, arg=[camera_id, count])


def test_the_wall_shows_moving_tiles_and_health_alarms(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    ids = _group(live_server)
    _log_in_operator(page, live_server, "op.wall")
    page.get_by_role("link", name=text("ko", "videowall_nav")).click()
    expect(page).to_have_url(f"{live_server.url}/console/wall")
    expect(page.locator("h1")).to_have_text(text("ko", "videowall_title"))

    page.click("#vw-show-group")
    tiles = page.locator("#wall .tile[data-camera-id]")
    expect(tiles).to_have_count(4)
    for camera_id in ids:
        _wait_for_frames(page, camera_id)
    wall = page.locator("#wall")
    first = wall.screenshot()
    page.wait_for_timeout(1200)
    second = wall.screenshot()
    assert first != second, "the live tiles did not move"
    page.screenshot(path=str(artifacts / "videowall.png"), full_page=True)

    # the operator blacks one camera out with the drill form; the other freezes on its own
    page.select_option("#vw-drill-camera", str(ids[0]))
    page.select_option("#vw-drill-fault", "black")
    page.get_by_role("button", name=text("ko", "videowall_drill_apply")).click()
    expect(page.locator("#vw-drill-state")).to_have_text(f"{text('ko', 'videowall_drill_done')}: #{ids[0]}")
    hub = hub_of(live_server.platform)
    hub.set_fault(ids[1], "freeze")
    alarms = page.locator("#vw-alarm-list li[data-problem]")
    black = page.locator(f'#vw-alarm-list li[data-problem="black"][data-camera-id="{ids[0]}"]')
    frozen = page.locator(f'#vw-alarm-list li[data-problem="frozen"][data-camera-id="{ids[1]}"]')
    expect(black).to_be_visible(timeout=30_000)
    expect(frozen).to_be_visible(timeout=30_000)
    expect(black.locator("strong")).to_have_text(text("ko", "videowall_health_black"))
    expect(black.locator("button")).to_have_text(f"#{ids[0]} Plaza 0")
    healthy = page.locator(f'#wall .tile[data-camera-id="{ids[2]}"] .health-badge')
    expect(healthy).to_have_text(text("ko", "videowall_health_ok"))
    badge = page.locator(f'#wall .tile[data-camera-id="{ids[0]}"] .health-badge')
    expect(badge).to_have_text(text("ko", "videowall_health_black"), timeout=10_000)
    assert alarms.count() == 2
    page.screenshot(path=str(artifacts / "videowall-alarms.png"), full_page=True)

    hub.set_fault(ids[0], None)
    hub.set_fault(ids[1], None)
    expect(alarms).to_have_count(0, timeout=30_000)
    expect(page.locator("#vw-alarm-list li.empty")).to_have_text(text("ko", "videowall_no_alarms"))


def test_the_wall_layout_and_camera_search(page: Any, live_server: LiveServer) -> None:
    with live_server.platform.db.session() as session:
        camera = add_camera(session, at=offset(*CITY_HALL, -60.0, 30.0), shared=True, name="Deoksugung gate")
        camera_id = camera.id
    _log_in_operator(page, live_server, "op.search")
    page.goto("/lang/en?next=/console/wall")
    expect(page.locator("h1")).to_have_text(text("en", "videowall_title"))
    page.check('input[name=layout][value="9"]')
    expect(page.locator("#wall .tile")).to_have_count(9)
    page.fill("#vw-q", "Deoksugung")
    page.get_by_role("button", name=text("en", "videowall_search_button")).click()
    page.locator(f'#vw-results button[data-camera-id="{camera_id}"]').click()
    tile = page.locator(f'#wall .tile[data-camera-id="{camera_id}"]')
    expect(tile).to_have_count(1)
    _wait_for_frames(page, camera_id)
    expect(tile.locator(".tile-name")).to_contain_text("Deoksugung gate")
    page.check('input[name=layout][value="1"]')
    expect(page.locator("#wall .tile")).to_have_count(1)


def test_a_tour_turns_the_wall_through_its_groups(page: Any, live_server: LiveServer) -> None:
    with live_server.platform.db.session() as session:
        first = [add_camera(session, at=offset(*CITY_HALL, 0.0, 50.0 * n), shared=True).id for n in range(2)]
        second = [
            add_camera(session, at=offset(*CITY_HALL, 0.0, -50.0 * n - 50), shared=True).id for n in range(2)
        ]
        groups = [
            service.save_group(session, name=name, camera_ids=ids, actor="test").id
            for name, ids in (("east", first), ("west", second))
        ]
        service.save_tour(session, name="quick round", group_ids=groups, layout=4, dwell_s=3, actor="test")
    _log_in_operator(page, live_server, "op.tour")
    page.goto("/console/wall")
    page.select_option("#vw-tour", label="quick round · 3s")
    page.click("#vw-tour-toggle")
    expect(page.locator("#vw-tour-state")).to_contain_text("1/2 · east")
    expect(page.locator("#wall .tile[data-camera-id]")).to_have_count(2)
    _wait_for_frames(page, first[0])
    expect(page.locator("#vw-tour-state")).to_contain_text("2/2 · west", timeout=8_000)
    expect(page.locator(f'#wall .tile[data-camera-id="{second[0]}"]')).to_have_count(1)
    page.click("#vw-tour-toggle")
    expect(page.locator("#vw-tour-toggle")).to_have_text(text("ko", "videowall_start_tour"))


def test_a_monitored_camera_shows_the_analysed_stream_with_boxes_on_its_tile(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    """An operator opens the wall on a group with a monitored vtest camera and one that is not:
    the first tile shows the analysed stream with boxes, an AI badge and the people counted in
    its caption; the other none of them. (Last in this module: the worker outlives the test.)"""
    vtest_frames(VTEST_LIMIT)  # a fresh machine downloads opencv-doc here, before any viewer waits
    streams = StreamServer().start()
    platform = live_server.platform
    with platform.db.session() as session:
        for policy in DEMO_POLICIES:
            sharing.add_policy(session, actor="test", **policy)
        watched = add_camera(session, at=offset(*CITY_HALL, 90.0, 90.0), shared=True, name="Plaza walk")
        plain = add_camera(session, at=offset(*CITY_HALL, 90.0, -90.0), shared=True, name="Plaza lawn")
        monitoring.watch_camera(session, watched.id, streams.url("vtest"), actor="test")
        crowd = {"kind": "crowding", "zone": WHOLE, "params": {"max_people": 1}}
        monitoring.add_rule(session, watched.id, crowd, "test")
        ids = [watched.id, plain.id]
        group = service.save_group(session, name="AI 시험 · AI test", camera_ids=ids, actor="test").id
    try:
        engine_of(platform).refresh(ids[0])  # the running engine starts a worker for it
        _log_in_operator(page, live_server, "op.ai")
        page.goto("/console/wall")
        page.select_option("#vw-group", label="AI 시험 · AI test (2)")
        page.click("#vw-show-group")
        tile = page.locator(f'#wall .tile[data-camera-id="{ids[0]}"]')
        other = page.locator(f'#wall .tile[data-camera-id="{ids[1]}"]')
        _wait_for_frames(page, ids[0])
        _wait_for_frames(page, ids[1])
        # the tile shows the stream the analysis reads (the sub-stream's size, not a wall scene)
        picture = tile.locator("canvas.tile-picture")
        assert picture.evaluate("c => [c.width, c.height]") == list(SUB_STREAM)

        page.wait_for_function(TILE_HAS_BOXES, arg=ids[0], timeout=120_000)  # drawn on the overlay
        expect(tile.locator(".ai-badge")).to_be_visible()
        expect(tile.locator(".ai-badge")).to_have_text(text("ko", "videowall_ai_badge"))
        people = re.escape(text("ko", "videowall_people").replace("{n}", ""))
        expect(tile.locator(".tile-people")).to_have_text(re.compile(r"^[1-9]\d*" + people))
        expect(picture).to_have_attribute("aria-label", re.compile(r"Plaza walk: .*[1-9]"))
        expect(other).to_have_attribute("data-monitored", "false")
        expect(other).to_have_attribute("data-boxes", "0")
        expect(other.locator(".ai-badge")).to_be_hidden()
        assert page.evaluate(OVERLAY_INKED, ids[1]) == 0
        drills = page.locator("#vw-drill-camera option")  # drills act on demo scenes only
        expect(drills).to_have_count(1)
        expect(drills).to_have_attribute("value", str(ids[1]))
        page.locator("#wall").screenshot(path=str(artifacts / "videowall-ai-boxes.png"))
        page.screenshot(path=str(artifacts / "videowall-ai.png"), full_page=True)
        assert axe_violations(page) == []
    finally:
        page.goto("about:blank")  # close the wall's stream before its server goes
        with platform.db.session() as session:
            row = session.get(monitoring.MonitoredCamera, ids[0])
            assert row is not None
            row.enabled = False  # the workers let go of the camera before its stream goes
            service.delete_group(session, group, "test")
        engine_of(platform).refresh(ids[0])
        streams.stop()
