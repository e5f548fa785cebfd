"""The citizen's whole journey on a phone (390 px), in one headless Chromium profile: log in, book a
sports hall that has a fee, pay on the provider's page and come back confirmed, ask from that
booking for a facility use confirmation (500 KRW), pay its fee too, download the sealed PDF, have
it checked (``POST /api/v1/certificates/check``) and open ``/verify/{number}``: valid. Every page
of the walk passes axe-core (WCAG 2.2 AA).

And large text: turned on once at /services, it follows the citizen to the reservation and the
complaint pages (same switch, type of at least 20 px), which still pass axe; turned off there, it
is off everywhere."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
LARGE_TEXT_CSS = 'link[href="/static/identity/large-text.css"]'


@dataclass(frozen=True)
class Hall:
    id: int
    name_ko: str
    name_en: str
    day: date


@pytest.fixture(scope="module", autouse=True)
def _catalogue(live_server: LiveServer) -> None:
    """The demo catalogue: it sets the fee (500 KRW) and assurance of a facility use confirmation."""
    from smartseoul.services.catalog.service import load_demo

    with live_server.platform.db.session() as session:
        load_demo(session)


@pytest.fixture(scope="module")
def hall(live_server: LiveServer) -> Hall:
    """A sports hall with a 12,000 KRW fee and two slots the day after tomorrow (Seoul time)."""
    from smartseoul.services.reservations import service

    day = (datetime.now(service.SEOUL) + timedelta(days=2)).date()
    with live_server.platform.db.session() as session:
        facility = service.add_facility(
            session,
            service.FacilityDraft(
                code="JOURNEY-1",
                name_ko="마포 여정체육관",
                name_en="Mapo journey gym",
                kind="sports",
                district_code="11440",
                fee_krw=12_000,
            ),
        )
        service.add_slots(session, facility, day, [9, 10])
        return Hall(facility.id, facility.name_ko, facility.name_en, day)


def phone(browser: Any, live_server: LiveServer, page_errors: list[str]) -> tuple[Any, Any]:
    """A phone-sized Korean profile that keeps downloads, and its page (script errors recorded)."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ko-KR", accept_downloads=True
    )
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    return context, page


def accessible(page: Any) -> None:
    assert axe_violations(page) == [], page.url


def pay_on_the_provider_page(page: Any, amount: str) -> None:
    """The simulated provider's hosted page: the amount shown, then Pay (it sends us back)."""
    page.wait_for_url("**/pay/sim/**")
    expect(page.locator(".amount")).to_contain_text(amount)
    accessible(page)
    page.click("#sim-pay")


def test_a_citizen_books_a_facility_pays_and_downloads_a_use_confirmation_that_verifies(
    browser: Any, live_server: LiveServer, hall: Hall, page_errors: list[str]
) -> None:
    account = live_server.account(f"park.journey.{secrets.token_hex(3)}", ["citizen"], mfa=False)
    context, page = phone(browser, live_server, page_errors)
    try:
        log_in(page, account)
        page.goto("/reservations?q=여정")
        expect(page.locator("h1")).to_have_text(text("ko", "reservations_title"))
        accessible(page)
        page.get_by_role("link", name=hall.name_ko).click()
        expect(page).to_have_url(f"{live_server.url}/reservations/facilities/{hall.id}")
        accessible(page)
        page.locator("button[data-slot]").first.click()
        pay_on_the_provider_page(page, "12,000")

        booking = page.locator("#rsv-bookings li[data-state]").first
        expect(booking).to_have_attribute("data-state", "confirmed")
        booking_id = str(booking.get_attribute("data-booking"))
        accessible(page)

        booking.locator(".rsv-use-link").click()  # a use confirmation of this very booking
        expect(page).to_have_url(re.compile(rf"/services/documents\?booking={booking_id}"))
        expect(page.locator("#fac-facility_use")).to_have_value(f"{hall.name_ko} ({hall.name_en})")
        expect(page.locator("#used-facility_use")).to_have_value(hall.day.isoformat())
        expect(page.locator("#book-facility_use")).to_have_value(booking_id)
        accessible(page)
        page.fill("#purpose-facility_use", "체육 활동 증빙")
        page.click("#request-facility_use")
        pay_on_the_provider_page(page, "500")

        # back from the provider: sealed at once, ready to download
        expect(page.locator("#issued-notice")).to_be_visible()
        accessible(page)
        number = page.locator("#issued-notice .mono").inner_text().strip()
        with page.expect_download() as downloaded:
            page.click("#issued-download")
        assert downloaded.value.suggested_filename == f"{number}.pdf"
        pdf = Path(downloaded.value.path()).read_bytes()

        checked = page.request.post(
            "/api/v1/certificates/check",
            multipart={"file": {"name": f"{number}.pdf", "mimeType": "application/pdf", "buffer": pdf}},
        )
        assert checked.ok, checked.text()
        verdict = checked.json()
        assert (verdict["status"], verdict["number"]) == ("valid", number)
        assert verdict["signature"]["valid"]
        assert verdict["signature"]["whole_file"]

        page.goto(f"/verify/{number}")
        expect(page.locator("#verdict")).to_have_text(text("ko", "certificates_status_valid"))
        accessible(page)
    finally:
        context.close()
    assert page_errors == []
    assert_paid_once_and_recorded(live_server, number, int(booking_id), hall)


def assert_paid_once_and_recorded(live_server: LiveServer, number: str, booking_id: int, hall: Hall) -> None:
    """One captured payment per thing bought (no double charge), and the document states the
    booking as the reservations domain recorded it."""
    from smartseoul.services.certificates.models import IssuedDocument
    from smartseoul.services.payments.models import Payment

    with live_server.platform.db.session() as session:
        payments = session.scalars(
            select(Payment).where(
                Payment.reference.in_((f"reservation:{booking_id}", f"certificate:{number}"))
            )
        ).all()
        assert sorted((p.reference.split(":")[0], p.state, p.captured_krw) for p in payments) == [
            ("certificate", "captured", 500),
            ("reservation", "captured", 12_000),
        ]
        document = session.scalar(select(IssuedDocument).where(IssuedDocument.number == number))
        assert document is not None
        lines = dict(tuple(line) for line in document.details["lines"])
        assert lines["예약번호 Booking"] == str(booking_id)
        assert lines["이용일 Date of use"] == hall.day.isoformat()
        assert lines["시설 Facility"].startswith(hall.name_ko)


def a_complaint_of(live_server: LiveServer, username: str) -> int:
    """A complaint the citizen filed (an abandoned bicycle by City Hall)."""
    from smartseoul.core import auth
    from smartseoul.services.complaints import service
    from smartseoul.services.complaints.open311 import city_index

    index = city_index(live_server.platform)  # before our session: loading it opens its own
    with live_server.platform.db.session() as session:
        user = auth.get_user(session, username)
        assert user is not None
        filed = service.file_request(
            session,
            service.Draft(
                service_code="abandoned_bicycle",
                lat=37.5663,
                lon=126.9779,
                description="자전거가 한 달째 방치되어 있습니다",
                user_id=user.id,
            ),
            index=index,
        )
        session.commit()
        return int(filed.id)


def body_text_px(page: Any) -> float:
    """The computed size of the page's running text (the first paragraph in <main>)."""
    return float(
        page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('main p') || document.body).fontSize)"
        )
    )


def test_large_text_follows_the_citizen_to_reservations_and_complaints(
    browser: Any, live_server: LiveServer, hall: Hall, page_errors: list[str]
) -> None:
    account = live_server.account(f"lee.large.{secrets.token_hex(3)}", ["citizen"], mfa=False)  # rerun-safe
    complaint_id = a_complaint_of(live_server, account.username)
    context, page = phone(browser, live_server, page_errors)
    pages = (
        "/reservations",
        f"/reservations/facilities/{hall.id}",
        "/reservations/mine",
        "/complaints/new",
        f"/complaints/{complaint_id}",
        "/complaints/track",
    )
    try:
        log_in(page, account)
        page.goto("/services")
        expect(page.locator(LARGE_TEXT_CSS)).to_have_count(0)
        page.click(".civil-size")  # once, where the civil services offer it
        expect(page.locator(LARGE_TEXT_CSS)).to_have_count(1)
        for url in pages:
            page.goto(url)
            expect(page.locator(LARGE_TEXT_CSS)).to_have_count(1)
            expect(page.locator(".civil-size")).to_have_text(text("ko", "identity_large_text_off"))
            if url == "/complaints/new":
                expect(page.locator("#complaints-map")).to_have_attribute("data-ready", "25")
            assert body_text_px(page) >= 20, url
            accessible(page)

        page.goto("/reservations?q=여정")
        page.click(".civil-size")  # off again, from search results: back to the same results
        expect(page).to_have_url(re.compile(r"/reservations\?q=%EC%97%AC%EC%A0%95$"))
        expect(page.get_by_role("link", name=hall.name_ko)).to_be_visible()
        expect(page.locator(LARGE_TEXT_CSS)).to_have_count(0)
        assert body_text_px(page) < 20
        page.goto(f"/complaints/{complaint_id}")
        expect(page.locator(".civil-size")).to_have_text(text("ko", "identity_large_text_on"))
        assert body_text_px(page) < 20
        accessible(page)
    finally:
        context.close()
    assert page_errors == []
