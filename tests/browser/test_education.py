"""Smart-device classes in a real headless Chromium: an older person signs up on a phone in three
steps (a mistake is named next to its field), staff enrol someone who called, mark attendance and
see the plan's targets; every page passes axe-core's WCAG 2.2 AA rules."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
GANGNAM = "11230"


@pytest.fixture(scope="module", autouse=True)
def _demo_education(live_server: LiveServer) -> None:
    from smartseoul.portal.education.seed import seed_demo

    with live_server.platform.db.session() as session:
        seed_demo(session, 20151)


def test_an_older_person_signs_up_on_a_phone(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="ko-KR")
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    try:
        page.goto("/learn")
        expect(page.locator("h1")).to_have_text(text("ko", "education_learn_title"))
        expect(page.locator("#edu-year strong")).not_to_have_text("0")
        assert axe_violations(page) == []
        page.select_option("#pick-district", GANGNAM)
        page.get_by_role("button", name=text("ko", "education_show_classes")).click()
        page.locator('input[name="session_id"]').first.check()
        page.fill("#f-name", "한옥순")
        page.fill("#f-phone", "010-12")
        page.get_by_label(text("ko", "education_group_elderly")).check()
        page.get_by_role("button", name=text("ko", "education_sign_up")).click()
        expect(page.locator("#edu-errors")).to_be_visible()
        expect(page.locator("#e-phone")).to_have_text(text("ko", "education_error_phone"))
        expect(page.locator("#e-consent")).to_have_text(text("ko", "education_error_consent"))
        assert page.locator("#f-name").input_value() == "한옥순"  # nothing typed is lost
        assert axe_violations(page) == []

        page.locator('input[name="session_id"]').first.check()
        page.fill("#f-phone", "010-1234-5678")
        page.get_by_label(text("ko", "education_consent")).check()
        page.get_by_role("button", name=text("ko", "education_sign_up")).click()
        expect(page.locator("#edu-done")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        context.close()


def test_staff_enrol_by_phone_and_mark_attendance(staff_page: Any, live_server: LiveServer) -> None:
    page = staff_page
    staff = live_server.account("edu.desk", ["district_staff"])
    log_in(page, staff)
    page.goto("/console/education")
    expect(page.locator("h1")).to_have_text(text("ko", "education_console_title"))
    expect(page.locator("#edu-districts tbody tr")).to_have_count(25)
    assert axe_violations(page) == []

    page.fill("#p-name", "오말순")
    page.fill("#p-phone", "010-7777-8888")
    page.select_option("#p-district", GANGNAM)
    page.get_by_label(text("ko", "education_consent_phone")).check()
    page.get_by_role("button", name=text("ko", "education_enrol")).click()
    expect(page.locator("#edu-phone-result")).to_be_visible()

    page.locator("#edu-sessions tbody a").first.click()
    expect(page.locator("h1")).to_have_text(text("ko", "education_roster_title"))
    row = page.locator('#edu-roster tr[data-state="enrolled"]').first
    expect(row).to_be_visible()
    assert "****" in row.inner_text()  # phone numbers are masked in lists
    enrolment = row.get_attribute("data-enrolment")
    row.get_by_role("button", name=text("ko", "education_mark_present")).click()
    expect(page.locator(f'tr[data-enrolment="{enrolment}"] td').nth(4)).to_have_text("1")
    assert axe_violations(page) == []
