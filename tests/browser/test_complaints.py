"""Complaints in a real headless Chromium: a citizen on a phone files a noise complaint with a photo
and a place tapped on the city map, sees its status; an officer resolves it on the desk, and the
citizen's page shows the note. Every page passes axe-core (WCAG 2.2 AA) in Korean and English."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PATIENCE_MS, PHONE, LiveServer, axe_violations, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


def png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_file_on_a_phone_then_an_officer_resolves_it(
    browser: Any, live_server: LiveServer, tmp_path: Path, page_errors: list[str]
) -> None:
    phone_context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="ko-KR")
    desk_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="ko-KR")
    phone_context.set_default_timeout(PATIENCE_MS)
    phone = phone_context.new_page()
    phone.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        phone.goto("/complaints/new")
        expect(phone.locator("h1")).to_have_text(text("ko", "complaints_new_title"))
        expect(phone.locator("#complaints-map")).to_have_attribute("data-ready", "25")
        assert axe_violations(phone) == []

        phone.select_option("#service_code", "noise")
        detail = phone.locator('fieldset[data-service="noise"] select')
        expect(detail).to_be_visible()
        detail.select_option("construction")
        phone.fill("#description", "새벽 공사 소음이 계속됩니다")
        phone.set_input_files("#photo", str(png(tmp_path / "noise.png")))
        phone.locator("#complaints-map").click()  # the middle of the city
        expect(phone.locator("#lat")).to_have_value(re.compile(r"^37\.\d+$"))
        expect(phone.locator("#long")).to_have_value(re.compile(r"^12[67]\.\d+$"))
        phone.click("#complaints-submit")

        expect(phone.locator("#complaint-state")).to_have_text(text("ko", "complaints_state_received"))
        expect(phone.locator(".complaints-photo")).to_be_visible()
        expect(phone.locator("#complaint-token")).not_to_be_empty()
        complaint_url = phone.url.split("?")[0]
        request_id = complaint_url.rsplit("/", 1)[1]
        assert axe_violations(phone) == []
        # the worker delivers to the demo department's inbox in the background: a reload shows it
        for _ in range(60):
            if phone.locator("#complaint-delivery").inner_text().strip() == text(
                "ko", "complaints_delivery_sent"
            ):
                break
            phone.wait_for_timeout(500)
            phone.reload()
        expect(phone.locator("#complaint-delivery")).to_have_text(text("ko", "complaints_delivery_sent"))

        officer = live_server.account("desk.admin", ["admin"])
        desk = desk_context.new_page()
        desk.set_default_timeout(PATIENCE_MS)
        log_in(desk, officer, otp=officer.otp())
        desk.goto("/complaints/staff")
        expect(desk.locator("h1")).to_contain_text(text("ko", "complaints_staff_title"))
        expect(desk.locator(f'#complaints-queue tr[data-id="{request_id}"]')).to_be_visible()
        assert axe_violations(desk) == []
        desk.goto(f"/complaints/{request_id}")
        desk.select_option("#work_state", "resolved")
        desk.fill("#note", "공사장에 야간 작업 중지를 명령했습니다")
        desk.click("#complaint-update button[type=submit]")
        expect(desk.locator("#complaint-state")).to_have_text(text("ko", "complaints_state_resolved"))
        assert axe_violations(desk) == []

        phone.goto(complaint_url)
        expect(phone.locator("#complaint-history")).to_contain_text("야간 작업 중지")
        phone.goto(f"/lang/en?next=/complaints/{request_id}")
        expect(phone.locator("#complaint-state")).to_have_text(text("en", "complaints_state_resolved"))
        assert axe_violations(phone) == []
        phone.goto("/complaints/new")
        expect(phone.locator("h1")).to_have_text(text("en", "complaints_new_title"))
        assert axe_violations(phone) == []
    finally:
        phone_context.close()
        desk_context.close()
    assert page_errors == []
