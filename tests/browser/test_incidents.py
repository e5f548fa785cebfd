"""The incident desk in a real headless Chromium against a real server with the simulator running.

A bell that posts is pressed while an operator watches the queue: the incident appears by itself
(Server-Sent Events), flagged as new, with its place on the map; the operator acknowledges it from
the keyboard, opens it with Enter and sees the bell's cameras as live tiles and the timeline. A
dispatcher acknowledges a hand-over on the agencies' page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from smartseoul.safety.incidents import bells, handovers, service
from tests.browser.conftest import LiveServer, text
from tests.browser.test_pages import current_code, log_in

pytestmark = pytest.mark.browser
GWANGHWAMUN = (37.5759, 126.9769)
CAMERAS = [901, 902]


@pytest.fixture
def desk_page(context: Any) -> Iterator[Any]:
    """A page whose script errors fail the test; the live tiles may not load here (no camera feeds
    in this server's registry), which is the video wall's business, not the desk's."""
    created = context.new_page()
    errors: list[str] = []
    created.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: Any) -> None:
        url = message.location.get("url", "")
        if (
            message.type == "error"
            and "/live.mjpeg" not in url
            and "Failed to load resource" not in message.text
        ):
            errors.append(f"{message.text} ({url})")

    created.on("console", on_console)
    yield created
    assert not errors, f"the page reported errors: {errors}"


def _bell_with_key(live_server: LiveServer, bell_id: str) -> str:
    with live_server.platform.db.session() as session:
        bell = bells.add_bell(
            session, bell_id, *GWANGHWAMUN, actor="test", camera_ids=CAMERAS, name="광화문 비상벨"
        )
        return bells.issue_http_key(session, bell, "test")


def test_a_bell_press_shows_up_on_the_console_with_its_cameras(
    desk_page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    page = desk_page
    operator = live_server.account("op-desk", ["operator"])
    assert operator.totp_secret
    log_in(page, operator, otp=current_code(operator.totp_secret))
    page.goto("/console/incidents")
    expect(page.locator("#stream-state")).to_have_text(text("ko", "stream_connected"))
    expect(page.locator(".desk")).to_have_attribute("data-loaded", "true")
    expect(page.locator("nav a[href='/console/incidents']")).to_have_text(text("ko", "incidents_nav"))

    # registered only now, while the console watches: the simulator presses the bells it finds, and
    # a press of its own before ours would make ours join that incident instead of opening one
    key = _bell_with_key(live_server, "B-BROWSER-1")
    pressed = httpx.post(f"{live_server.url}/api/v1/bells/B-BROWSER-1/press", headers={"X-Bell-Key": key})
    assert pressed.status_code == 202, pressed.text
    incident_id = pressed.json()["incident_id"]

    row = page.locator(f"#queue tr[data-id='{incident_id}']")
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bfresh\b"))
    expect(row).to_contain_text("광화문 비상벨")
    expect(row.locator("td.prio")).to_have_text("P1")
    expect(row.locator("td.status")).to_have_text(text("ko", "incidents_status_new"))
    expect(page.locator("#incidents-map path.leaflet-interactive").first).to_be_visible()
    page.screenshot(path=str(artifacts / "incidents-queue.png"))

    # the keyboard: help, select the row, acknowledge with "a", open with Enter
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    row.click()
    expect(row).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("a")
    expect(row.locator("td.status")).to_have_text(text("ko", "incidents_status_acknowledged"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/console/incidents/{incident_id}")

    for camera in CAMERAS:
        tile = page.locator(f"#tiles figure[data-camera='{camera}'] img")
        expect(tile).to_have_attribute(
            "src", f"/api/v1/cameras/{camera}/live.mjpeg?reason=incident%20{incident_id}"
        )
    timeline = page.locator("#timeline li")
    expect(timeline.first).to_have_attribute("data-kind", "opened")
    expect(page.locator("#timeline li[data-kind='status']")).to_have_count(1)
    expect(page.locator("#incident-status")).to_contain_text(text("ko", "incidents_status_acknowledged"))
    page.screenshot(path=str(artifacts / "incidents-incident.png"))


def test_a_dispatcher_acknowledges_a_hand_over_on_the_agencies_page(
    desk_page: Any, live_server: LiveServer
) -> None:
    page = desk_page
    platform = live_server.platform
    with platform.db.session() as session:
        agency = handovers.add_agency(
            session,
            code="police-browser",
            kind="police",
            name_ko="브라우저경찰서",
            name_en="Browser police",
            district_codes=["11010"],
            actor="test",
        )
        item = service.Intake(
            source="operator",
            kind="fight",
            priority=2,
            title_ko="싸움 신고",
            title_en="fight",
            ref="test",
            lat=GWANGHWAMUN[0],
            lon=GWANGHWAMUN[1],
        )
        incident = service.intake(session, platform.settings, item).incident
        handover, _ = handovers.create_handover(session, platform.settings, incident, agency, "op")
        handover_id = handover.id
    dispatcher = live_server.account("police-dispatch", ["dispatcher"])
    assert dispatcher.totp_secret
    log_in(page, dispatcher, otp=current_code(dispatcher.totp_secret))
    page.goto("/console/handovers")
    row = page.locator(f"#handover-rows tr[data-handover='{handover_id}']")
    expect(row).to_contain_text("브라우저경찰서")
    expect(row.locator("td.ho-status")).to_have_text(text("ko", "incidents_ho_delivered"))
    row.get_by_role("button", name=text("ko", "incidents_acknowledge")).click()
    expect(row.locator("td.ho-status")).to_have_text(text("ko", "incidents_ho_acknowledged"))
