"""Automated monitoring in a real headless Chromium against a real server: a shared camera whose
stream (vtest.avi from the project's stream server) is analysed by a worker process; the operator
sees boxes on the live tile, the monitored share at 100%, a detection with its snapshot, marks it
a false alarm, and edits a zone rule on the camera's picture (a bad zone refused naming the field)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from smartseoul.safety.cctv import sharing
from smartseoul.safety.cctv.seed import DEMO_POLICIES
from smartseoul.safety.cctv.tests.helpers import add_camera
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.engine import engine_of
from smartseoul.safety.monitoring.streams import VTEST_LIMIT, StreamServer, vtest_frames
from tests.browser.conftest import DESKTOP, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = pytest.mark.browser
WHOLE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
TILE_HAS_BOXES = """id => {
  const tile = document.querySelector('.mon-tile[data-camera="' + id + '"]');
  return tile !== null && Number(tile.dataset.boxes || 0) >= 1;
}"""


@pytest.fixture
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A Korean desktop profile."""
    created = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="ko-KR")
    created.set_default_timeout(10_000)
    try:
        yield created
    finally:
        created.close()


def test_the_console_shows_boxes_the_share_detections_and_edits_rules(
    page: Any, live_server: LiveServer, artifacts: Path, page_errors: list[str]
) -> None:
    vtest_frames(VTEST_LIMIT)  # a fresh machine downloads opencv-doc here, before any viewer waits
    streams = StreamServer().start()
    platform = live_server.platform
    try:
        with platform.db.session() as session:
            for policy in DEMO_POLICIES:
                sharing.add_policy(session, actor="test", **policy)
            camera = add_camera(session, shared=True, name="Plaza walk").id
            service.watch_camera(session, camera, streams.url("vtest"), actor="test")
            service.add_rule(
                session, camera, {"kind": "crowding", "zone": WHOLE, "params": {"max_people": 1}}, "t"
            )
        engine_of(platform).refresh(camera)  # the running engine starts a worker for it
        account = live_server.account("op.monitor", ["operator"])
        log_in(page, account, otp=account.otp() if account.totp_secret else None)
        page.goto("/console/monitoring")
        expect(page.get_by_role("heading", level=1)).to_have_text(text("ko", "monitoring_title"))
        assert axe_violations(page) == []

        page.get_by_role("button", name=text("ko", "monitoring_show")).click()
        page.wait_for_function(TILE_HAS_BOXES, arg=camera, timeout=90_000)
        expect(page.locator("#mon-share")).to_have_text("100.0%", timeout=30_000)
        page.screenshot(path=str(artifacts / "monitoring-console.png"), full_page=True)

        row = page.locator("#mon-event-list tr[data-detection]").first
        expect(row).to_contain_text(text("ko", "monitoring_kind_crowding"), timeout=30_000)
        row.get_by_role("button", name=text("ko", "monitoring_view_snapshot")).click()
        snapshot = page.locator("#mon-snapshot img")
        expect(snapshot).to_be_visible()
        page.wait_for_function("() => document.querySelector('#mon-snapshot img').naturalWidth > 0")
        row.get_by_role("button", name=text("ko", "monitoring_mark_false")).click()
        expect(row.locator(".mon-verdict")).to_contain_text(text("ko", "monitoring_verdict_false_positive"))

        zone = page.locator("#mon-zone")
        zone.scroll_into_view_if_needed()
        box = zone.bounding_box()
        assert box is not None
        for x, y in ((0.1, 0.5), (0.9, 0.5)):
            zone.click(position={"x": box["width"] * x, "y": box["height"] * y})
        page.locator("#mon-rule-kind").select_option("loitering")
        page.get_by_role("button", name=text("ko", "monitoring_rule_save")).click()
        expect(page.locator("#mon-rule-error")).to_contain_text("[zone]")
        refused = [e for e in page_errors if "422" in e and "/rules" in e]
        assert len(refused) == 1  # the browser logs the refusal the test asked for: nothing else
        page_errors.remove(refused[0])
        zone.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.95})
        page.get_by_role("button", name=text("ko", "monitoring_rule_save")).click()
        expect(page.locator("#mon-rule-list li")).to_have_count(2)
        assert axe_violations(page) == []
    finally:
        page.goto("about:blank")  # close the live streams before their server goes
        streams.stop()
    with platform.db.session() as session:
        kinds = sorted(r.kind for r in service.rules_of(session, camera))
        assert kinds == ["crowding", "loitering"]
        judged = [d.verdict for d in service.list_detections(session, camera) if d.verdict]
        assert judged == ["false_positive"]
