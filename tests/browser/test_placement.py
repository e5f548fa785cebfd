"""The placement planner page in a real headless Chromium: a plan drawn on the city map with its
objective, gap and year-by-year rollout; an impossible request explained; roles enforced."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import make_account
from tests.browser.conftest import LiveServer, text
from tests.browser.test_pages import current_code, log_in

pytestmark = pytest.mark.browser
PAGE = "/console/placement"


def fill_plan(page: Any, cameras: int, radius: int, per_year: int) -> None:
    page.fill("input[name=cameras]", str(cameras))
    page.fill("input[name=radius_m]", str(radius))
    page.fill("input[name=per_year]", str(per_year))


def test_operator_plans_cameras_and_sees_them_on_the_map(
    page: Any, live_server: LiveServer, artifacts: Path, page_errors: list[str]
) -> None:
    operator = live_server.account("op-placement", ["operator"])
    assert operator.totp_secret
    log_in(page, operator, otp=current_code(operator.totp_secret))
    page.get_by_role("link", name=text("ko", "placement_nav")).click()
    expect(page).to_have_url(f"{live_server.url}{PAGE}")
    expect(page.locator("h1")).to_have_text(text("ko", "placement_title"))
    expect(page.locator("#placement-map")).to_have_attribute("data-ready", "25")
    expect(page.locator("#no-plan")).to_be_visible()

    fill_plan(page, cameras=40, radius=300, per_year=15)
    page.get_by_role("button", name=text("ko", "placement_submit")).click()
    figures = page.locator("#plan-figures")
    expect(figures).to_be_visible(timeout=60_000)
    expect(page.locator("#placement-map")).to_have_attribute("data-sites", "40")
    expect(page.locator("#placement-map path.site")).to_have_count(40)  # one circle per camera
    expect(figures.locator("dd[data-field=placement_cameras_used]")).to_have_text("40")
    expect(figures.locator("dd[data-field=placement_status]")).to_have_text(text("ko", "placement_optimal"))
    expect(figures.locator("dd[data-field=placement_gap]")).to_have_text(re.compile(r"^0(\.0+)?%$"))
    expect(figures.locator("dd[data-field=placement_covered]")).to_contain_text("→")
    expect(page.locator("#year-table tbody tr")).to_have_count(3)  # 15 + 15 + 10
    expect(page.locator("#year-table tbody tr").last.locator("td").first).to_have_text("40")
    expect(page.locator("#recent-plans li")).to_have_count(1)
    page.screenshot(path=str(artifacts / "placement.png"), full_page=True)

    # the stored plan opens again from its link, in English
    plan_link = page.locator("#recent-plans a").first
    href = plan_link.get_attribute("href")
    page.goto(f"/lang/en?next={href}")
    expect(page.locator("h1")).to_have_text(text("en", "placement_title"))
    expect(page.locator("#placement-map path.site")).to_have_count(40)

    # an equity target the budget cannot reach: the page says which parameter and why
    page.check("input[name=mode][value=equity]")
    page.fill("input[name=target_ratio]", "2")
    page.fill("input[name=cameras]", "100")
    page.get_by_role("button", name=text("en", "placement_submit")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("cameras")
    expect(alert).to_contain_text("needs at least")
    expect(page.locator("#recent-plans li")).to_have_count(1)  # nothing stored
    # the refusal itself is the one resource the browser reports as failed
    refused = [e for e in page_errors if "422" in e and "/api/v1/placement/plans" in e]
    assert len(refused) == 1, page_errors
    page_errors.remove(refused[0])


def test_district_staff_plan_their_district_and_citizens_are_refused(
    page: Any, live_server: LiveServer
) -> None:
    staff = make_account(live_server.platform.db, "staff-dobong", ["district_staff"], district_code="11100")
    log_in(page, staff)
    page.goto(PAGE)
    expect(page.locator(".placement-form .hint")).to_contain_text(text("ko", "placement_own_district"))
    expect(page.locator("input[name=mode][value=equity]")).to_be_disabled()
    fill_plan(page, cameras=5, radius=200, per_year=5)
    page.get_by_role("button", name=text("ko", "placement_submit")).click()
    expect(page.locator("#plan-figures")).to_be_visible(timeout=60_000)
    expect(page.locator("#district-table tbody tr")).to_have_count(1)
    expect(page.locator("#district-table tbody th")).to_have_text("도봉구")

    page.context.clear_cookies()
    citizen = make_account(live_server.platform.db, "citizen-placement", ["citizen"])
    log_in(page, citizen)
    response = page.goto(PAGE)
    assert response is not None
    assert response.status == 403
