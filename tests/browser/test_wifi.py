"""Where is free WiFi, in a real headless Chromium on a phone: the map drawn from the city's own
district polygons with the working hotspots, the district search, the text list, Korean and
English, and the staff page; every page passes axe-core's WCAG 2.2 AA rules."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
GANGNAM = "11230"


@pytest.fixture(scope="module", autouse=True)
def _demo_wifi(live_server: LiveServer) -> None:
    from smartseoul.portal.wifi.seed import seed_demo

    with live_server.platform.db.session() as session:
        seed_demo(session, 20151, live_server.platform.secret_key)


def working_in(live_server: LiveServer, district: str) -> int:
    from smartseoul.portal.wifi.models import WifiAccessPoint

    with live_server.platform.db.session() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    WifiAccessPoint.district_code == district, WifiAccessPoint.health == "up"
                )
            )
            or 0
        )


def test_a_phone_finds_free_wifi_on_the_map_and_in_the_list(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="ko-KR")
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    try:
        page.goto("/wifi")
        expect(page.locator("h1")).to_have_text(text("ko", "wifi_public_title"))
        # 25 district polygons, then the hotspots on top of them
        expect(page.locator("#wifi-map path.leaflet-interactive")).to_have_count(
            25 + int(page.locator("#wifi-count").inner_text())
        )
        assert page.locator("#wifi-map img.leaflet-tile").count() == 0  # no tiles: the city's own GeoJSON
        assert axe_violations(page) == []

        page.select_option("#wifi-district", GANGNAM)
        page.get_by_role("button", name=text("ko", "wifi_search")).click()
        expect(page).to_have_url(f"{live_server.url}/wifi?district={GANGNAM}")
        items = page.locator("#wifi-list li")
        expect(items.first).to_contain_text("강남구")
        assert items.count() >= 1
        assert axe_violations(page) == []

        page.goto(f"/lang/en?next=/wifi%3Fdistrict%3D{GANGNAM}")
        expect(page.locator("h1")).to_have_text(text("en", "wifi_public_title"))
        expect(page.locator("#wifi-list li").first).to_contain_text("Gangnam-gu")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_staff_see_health_outages_coverage_and_usage(staff_page: Any, live_server: LiveServer) -> None:
    page = staff_page
    staff = live_server.account("wifi.staff", ["district_staff"])
    log_in(page, staff)
    page.goto("/console/wifi")
    expect(page.locator("h1")).to_have_text(text("ko", "wifi_console_title"))
    expect(page.locator("#wifi-districts tbody tr")).to_have_count(25)
    expect(page.locator("#wifi-city-coverage strong")).to_contain_text("%")
    assert page.locator("#wifi-usage tbody tr").count() >= 7
    assert axe_violations(page) == []
