"""Reservations in a real headless Chromium: a citizen on a phone finds a facility, books a slot,
pays on the provider's page, comes back to a confirmed booking and cancels it (refunded); staff see
their admin, attendance and reconciliation pages. Every page passes axe-core (WCAG 2.2 AA)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


def paid_court(live_server: LiveServer) -> int:
    from smartseoul.services.reservations import service

    with live_server.platform.db.session() as session:
        facility = service.add_facility(
            session,
            service.FacilityDraft(
                code="BROWSER-1",
                name_ko="역삼 테니스장 브라우저코트",
                name_en="Yeoksam tennis browser court",
                kind="sports",
                district_code="11230",
                fee_krw=8_000,
            ),
        )
        day = (datetime.now(service.SEOUL) + timedelta(days=2)).date()
        service.add_slots(session, facility, day, [9, 10])
        return facility.id


def test_a_citizen_books_a_facility_pays_and_cancels_on_a_phone(
    browser: Any, live_server: LiveServer
) -> None:
    facility_id = paid_court(live_server)
    account = live_server.account("kim.browser", ["citizen"], mfa=False)
    phone_context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="ko-KR")
    phone_context.set_default_timeout(PATIENCE_MS)
    page = phone_context.new_page()
    try:
        log_in(page, account)
        page.goto("/reservations?q=브라우저")
        expect(page.locator("h1")).to_have_text(text("ko", "reservations_title"))
        assert axe_violations(page) == []
        page.get_by_role("link", name="역삼 테니스장 브라우저코트").click()
        expect(page).to_have_url(f"{live_server.url}/reservations/facilities/{facility_id}")
        assert axe_violations(page) == []
        page.locator("button[data-slot]").first.click()
        page.wait_for_url("**/pay/sim/**")
        expect(page.locator(".amount")).to_contain_text("8,000")
        assert axe_violations(page) == []
        page.locator("#sim-pay").click()
        expect(page.locator("#rsv-bookings li[data-state]").first).to_have_attribute(
            "data-state", "confirmed"
        )
        expect(page.locator("#rsv-bookings")).to_contain_text(text("ko", "reservations_state_confirmed"))
        assert axe_violations(page) == []
        page.get_by_role("button", name=text("ko", "reservations_cancel"), exact=False).first.click()
        expect(page.locator("#rsv-done")).to_have_text(text("ko", "reservations_done_cancelled"))
        expect(page.locator("#rsv-bookings li[data-state]").first).to_have_attribute(
            "data-state", "cancelled"
        )
    finally:
        phone_context.close()
    from smartseoul.services.payments.models import Payment

    with live_server.platform.db.session() as session:
        payment = session.query(Payment).filter(Payment.reference.like("reservation:%")).one()
        assert (payment.state, payment.captured_krw, payment.refunded_krw) == ("refunded", 8_000, 8_000)


def test_staff_pages_pass_axe(browser: Any, live_server: LiveServer) -> None:
    account = live_server.account("staff.browser", ["district_staff"], mfa=False)
    context = browser.new_context(base_url=live_server.url, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(PATIENCE_MS)
    log_in(page, account)
    for url, key in (
        ("/console/reservations", "reservations_admin_title"),
        ("/console/reservations/attendance", "reservations_attendance_title"),
        ("/console/payments/reconciliation", "payments_reconciliation_title"),
    ):
        page.goto(url)
        expect(page.locator("h1")).to_have_text(text("ko", key))
        assert axe_violations(page) == [], url
    context.close()
