"""The guardian's app on a phone, in a real headless Chromium against a real server.

A guardian logs in from /app, sees their own people, opens one and sees where the last GPS fix
was and how old it is, today's path, the alarms, and their own read in the access ledger; a report
without a GPS fix is said plainly and never drawn as a GPS point; a stranger sees nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, Account
from smartseoul.core import auth
from smartseoul.core.db import utcnow
from smartseoul.tracking import consent, service
from smartseoul.tracking.models import Alarm, Position
from tests.browser.conftest import PHONE, LiveServer, text

pytestmark = pytest.mark.browser
REASON = "guardian app"
# a GPS fix three minutes ago near Seoul City Hall, and a cell-tower guess far from it
FIX = (37.56650, 126.97800)
CELL = (37.60000, 127.05000)


@dataclass
class Family:
    guardian: Account
    with_fix: int
    without_fix: int


def _position(session: Any, device_id: int, when: datetime, lat: float, lon: float, *, gps: bool) -> None:
    session.add(
        Position(
            device_id=device_id,
            device_time=when,
            received_at=when,
            lat=lat,
            lon=lon,
            valid=gps,
            source="gps" if gps else "cell",
            accuracy_m=35.0 if gps else 1500.0,
            battery_pct=80,
            protocol="watch",
        )
    )


def _family(live_server: LiveServer, guardian: str) -> Family:
    """A guardian with two children: one whose watch has a fresh GPS fix, one whose latest report
    is a cell-tower guess (its last GPS fix is 12 minutes old)."""
    account = live_server.account(guardian, ["guardian"])
    now = utcnow()
    with live_server.platform.db.session() as session:
        user = auth.get_user(session, guardian)
        assert user is not None
        ids = []
        for name, device in (("김하늘", f"{guardian}-1"), ("김바다", f"{guardian}-2")):
            child = service.add_person(
                session, display_name=name, category="child", actor="test", birth_date=date(2017, 5, 5)
            )
            service.add_guardian(
                session, child, user.id, relation="mother", actor="test", legal_representative=True
            )
            consent.give(session, child, given_by="guardian", guardian_user_id=user.id, recorded_by="test")
            watch = service.register_device(session, device, "watch", actor="test", person_id=child.id)
            watch.battery_pct, watch.last_seen_at = 80, now - timedelta(minutes=1)
            ids.append((child.id, watch.id))
        (first, first_device), (second, second_device) = ids
        for minutes, north in ((9, -0.004), (6, -0.002), (3, 0.0)):
            _position(
                session, first_device, now - timedelta(minutes=minutes), FIX[0] + north, FIX[1], gps=True
            )
        session.add(
            Alarm(
                device_id=first_device,
                kind="sos",
                raised_at=now - timedelta(minutes=3),
                lat=FIX[0],
                lon=FIX[1],
            )
        )
        _position(session, second_device, now - timedelta(minutes=12), *FIX, gps=True)
        _position(session, second_device, now - timedelta(minutes=1), *CELL, gps=False)
    return Family(account, first, second)


def _log_in_from_app(page: Any, live_server: LiveServer, account: Account) -> None:
    page.goto("/app")
    expect(page).to_have_url(re.compile(r"/login\?next=/app$"))
    page.fill("#username", account.username)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(f"{live_server.url}/app")


def _fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_guardian_sees_their_child_on_the_phone(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    family = _family(live_server, "guardian-app")
    page.set_viewport_size(PHONE)
    _log_in_from_app(page, live_server, family.guardian)

    # the list: both children, with the watch's battery and when it was last heard from
    item = page.locator(f"li[data-person='{family.with_fix}']")
    expect(page.locator("#persons li")).to_have_count(2)
    expect(item.locator(".app-person-name")).to_have_text("김하늘")
    expect(item).to_contain_text(text("ko", "category_child"))
    expect(item.locator("dd[data-field=battery]")).to_have_text("80%")
    expect(item.locator("dd[data-field=last-seen]")).to_have_text("1분 전")
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "app-list.png"), full_page=True)

    # the person: the city map, the fix as a marker with its age, the alarm, the ledger of reads
    item.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/app/persons/{family.with_fix}")
    expect(page.locator("h1")).to_contain_text("김하늘")
    expect(page.locator("#map")).to_have_attribute("data-ready", "25")
    expect(page.locator("#fix")).to_have_attribute("data-state", "gps")
    expect(page.locator("#fix-age")).to_contain_text("3분 전")
    expect(page.locator("#no-fix")).to_have_count(0)
    expect(page.locator("#map path.app-marker")).to_have_count(1)
    expect(page.locator("#map path.app-accuracy")).to_have_count(1)
    expect(page.locator("#map path.app-path")).to_have_count(1)
    expect(page.locator("#map .app-fix-label")).to_contain_text("3분 전")
    expect(page.locator("#map")).to_have_attribute("data-marker", f"{FIX[0]:.5f},{FIX[1]:.5f}")
    expect(page.locator("#alarms li[data-type=sos]")).to_contain_text(text("ko", "alarm_sos"))
    mine = page.locator("#ledger tbody tr.mine")
    expect(mine.filter(has_text=text("ko", "what_latest"))).to_have_count(1)
    expect(mine.first).to_contain_text(REASON)
    expect(mine.first).to_contain_text("guardian-app")
    expect(mine.first.locator("time")).to_have_text(re.compile(r"\d\d:\d\d KST$"))
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "app-person.png"), full_page=True)

    # no fix in the latest report: said plainly, and the marker stays on the last GPS fix
    page.goto(f"/app/persons/{family.without_fix}")
    expect(page.locator("#fix")).to_have_attribute("data-state", "no-fix")
    expect(page.locator("#no-fix")).to_contain_text(text("ko", "app_no_fix"))
    expect(page.locator("#fix-age")).to_contain_text("12분 전")
    expect(page.locator("#map")).to_have_attribute("data-marker", f"{FIX[0]:.5f},{FIX[1]:.5f}")
    expect(page.locator("#map path.app-marker")).to_have_count(1)
    expect(page.locator("#alarms li.empty")).to_have_text(text("ko", "app_no_alarms"))
    _fits_the_phone(page)
    page.screenshot(path=str(artifacts / "app-person-nofix.png"), full_page=True)

    # in English
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#no-fix")).to_contain_text(text("en", "app_no_fix"))
    expect(page.locator("#fix-age")).to_contain_text("12 min ago")
    page.screenshot(path=str(artifacts / "app-person-en.png"), full_page=True)


def test_a_stranger_guardian_sees_nobody(page: Any, live_server: LiveServer, artifacts: Path) -> None:
    family = _family(live_server, "guardian-family")
    stranger = live_server.account("guardian-stranger", ["guardian"])
    page.set_viewport_size(PHONE)
    _log_in_from_app(page, live_server, stranger)
    expect(page.locator("#persons-state")).to_have_text(text("ko", "app_no_persons"))
    expect(page.locator("#persons li")).to_have_count(0)
    page.screenshot(path=str(artifacts / "app-stranger.png"), full_page=True)

    response = page.goto(f"/app/persons/{family.with_fix}")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main h1")).to_have_text(text("ko", "app_person_unknown"))
    expect(page.locator("#map")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("김하늘")
