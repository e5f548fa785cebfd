"""Mobile civil services in a real headless Chromium on a phone-sized screen: a citizen signs up,
gets a certificate from the city CA saved to the device, signs in with it (WebCrypto), requests a
tax certificate, downloads the sealed PDF (which validates against the city root) and the verify
page says valid. Every page passes axe-core (WCAG 2.2 AA), in normal and in large text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from conftest import run_async
from tests.browser.conftest import DESKTOP, PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


@pytest.fixture(scope="module", autouse=True)
def _catalogue(live_server: LiveServer) -> None:
    from smartseoul.services.catalog.service import load_demo

    with live_server.platform.db.session() as session:
        load_demo(session)


def phone_context(browser: Any, live_server: LiveServer, locale: str) -> Any:
    """A phone-sized profile that keeps downloads (the certificate PDF)."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale=locale, accept_downloads=True
    )
    context.set_default_timeout(PATIENCE_MS)
    return context


def _accessible(page: Any) -> None:
    assert axe_violations(page) == [], page.url


def test_a_citizen_signs_up_gets_a_certificate_and_downloads_a_document_that_verifies(
    browser: Any, live_server: LiveServer, tmp_path: Path, page_errors: list[str]
) -> None:
    context = phone_context(browser, live_server, "ko-KR")
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto("/services/signup")
        _accessible(page)
        page.fill("#su-name", "김서울")
        page.fill("#su-user", "kim.seoul")
        page.fill("#su-pass", "a-long-passphrase-2015")
        page.fill("#su-pass2", "a-long-passphrase-2015")
        page.check("#su-consent")
        page.click("#signup-form button[type=submit]")
        expect(page).to_have_url(f"{live_server.url}/services/my")
        expect(page.locator("#assurance-level")).to_have_text(text("ko", "identity_level_login"))
        _accessible(page)

        page.goto("/services/pki")
        _accessible(page)
        with page.expect_download() as issued:
            page.click("#pki-issue")
        certificate_file = tmp_path / "citizen.pem"
        issued.value.save_as(certificate_file)
        assert b"BEGIN CERTIFICATE" in certificate_file.read_bytes()
        page.set_input_files("#pki-file", str(certificate_file))
        page.click("#pki-login")
        expect(page.locator("#pki-status")).to_have_text(text("ko", "identity_js_done"))
        expect(page.locator("#assurance-level")).to_have_text(text("ko", "identity_level_certificate"))

        page.goto("/services/documents")
        _accessible(page)
        page.fill("#purpose-local_tax", "은행 제출용")
        page.click("#request-local_tax")
        expect(page.locator("#issued-notice")).to_be_visible()
        _accessible(page)
        with page.expect_download() as downloaded:
            page.click("#issued-download")
        pdf = Path(downloaded.value.path()).read_bytes()
        root = live_server.platform.settings.data_dir / "pki" / "root.pem"
        anchor = asn1_x509.Certificate.load(_der(root.read_bytes()))
        signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
        # Playwright holds an event loop on this thread: validate in a thread of its own
        status = run_async(async_validate_pdf_signature(signature, ValidationContext(trust_roots=[anchor])))
        assert status.bottom_line
        assert status.coverage.name == "ENTIRE_FILE"

        number = page.locator("#issued-notice .mono").inner_text().strip()
        page.goto(f"/verify/{number}")
        expect(page.locator("#verdict")).to_have_text(text("ko", "certificates_status_valid"))
        _accessible(page)
        page.set_input_files(
            "#v-file", {"name": f"{number}.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        page.click("form[enctype] button[type=submit]")
        expect(page.locator("#check-verdict")).to_have_text(text("ko", "certificates_status_valid"))
        _accessible(page)

        page.click(".civil-size")  # large text for older eyes, remembered on this device
        expect(page.locator('link[href="/static/identity/large-text.css"]')).to_have_count(1)
        page.goto("/services")
        expect(page.locator('link[href="/static/identity/large-text.css"]')).to_have_count(1)
        _accessible(page)
        page.goto("/services/coverage")
        expect(page.locator("#coverage-overall")).to_contain_text("62.0%")
        _accessible(page)
    finally:
        context.close()


def _der(pem: bytes) -> bytes:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def test_english_pages_and_an_unknown_number_are_accessible(browser: Any, live_server: LiveServer) -> None:
    context = phone_context(browser, live_server, "en-GB")
    page = context.new_page()
    page.goto("/lang/en?next=/verify/SS-2026-0000-0000-0000")
    expect(page.locator("#verdict")).to_have_text(text("en", "certificates_status_unknown"))
    _accessible(page)
    page.goto("/services?channel=tv")
    expect(page.locator("h1")).to_have_text(text("en", "catalog_title"))
    _accessible(page)
    page.goto("/services/signup")
    page.fill("#su-name", "Jane")
    page.fill("#su-user", "jane.doe")
    page.fill("#su-pass", "a-long-passphrase")
    page.fill("#su-pass2", "another-passphrase")
    page.check("#su-consent")
    page.click("#signup-form button[type=submit]")
    expect(page.locator("#signup-error")).to_be_visible()
    _accessible(page)
    context.close()


def test_staff_pages_are_accessible_and_revoke_a_document(browser: Any, live_server: LiveServer) -> None:
    """District staff: the channel editor and the issued-documents console (revoke with a reason)."""
    from smartseoul.core import auth
    from smartseoul.services.certificates import service

    staff = live_server.account("staff.civil", ["district_staff"])
    holder = live_server.account("holder.civil", ["citizen"])
    with live_server.platform.db.session() as session:
        user = auth.get_user(session, holder.username)
        assert user is not None
        settings = live_server.platform.settings
        number = service.issue(
            session, settings, user_id=user.id, kind_key="resident", purpose="", form={}
        ).number
    context = phone_context(browser, live_server, "ko-KR")
    page = context.new_page()
    page.set_viewport_size(DESKTOP)  # staff work at a desk: the console's top bar holds every domain's link
    try:
        log_in(page, staff)
        page.goto("/services/catalog/D11010-GYM")
        expect(page.locator("h1")).to_contain_text("체육센터")
        _accessible(page)
        page.goto("/console/certificates")
        _accessible(page)
        page.fill(f"#why-{number}", "오발급")
        page.click(f'form[action="/console/certificates/{number}/revoke"] button')
        page.goto(f"/verify/{number}")
        expect(page.locator("#verdict")).to_have_text(text("ko", "certificates_status_revoked"))
        _accessible(page)
    finally:
        context.close()
