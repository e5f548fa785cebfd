"""Public alerts in a real headless Chromium: an operator composes and issues, a phone on /alerts
sees the banner arrive live, the cancel takes it away, and a city-wide alert waits for a second
operator. Every check is what a person at the screen would see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PATIENCE_MS, PHONE, LiveServer, text
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]
GANGNAM = "11230"
HEADLINE = "강남역 침수, 지하도 통제"
# This machine is shared: under load a login (argon2) or a round trip can take seconds. The waits
# are generous so that only a page that never shows the right thing fails.


def operator_page(context: Any, live_server: LiveServer, name: str, lang: str = "ko") -> Any:
    account = live_server.account(name, ["operator"])
    page = context.new_page()
    page.set_default_timeout(PATIENCE_MS)
    log_in(page, account, otp=account.otp())
    page.goto("/console/alerts")
    expect(page.locator("h1")).to_have_text(text(lang, "alerts_console_title"))
    return page


def fill_alert(page: Any, headline_ko: str, headline_en: str) -> None:
    page.fill('input[name="event"]', "Flood")
    page.select_option('select[name="severity"]', "Severe")
    page.fill('input[name="headline_ko"]', headline_ko)
    page.fill('input[name="headline_en"]', headline_en)
    page.fill('textarea[name="instruction_ko"]', "지하 공간에서 대피하세요")


def test_an_alert_issued_on_the_console_reaches_a_phone_in_the_area_and_its_cancel_too(
    browser: Any, context: Any, live_server: LiveServer, artifacts: Path
) -> None:
    phone_context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="ko-KR")
    phone_context.set_default_timeout(PATIENCE_MS)
    phone = phone_context.new_page()
    elsewhere = phone_context.new_page()
    try:
        phone.goto(f"/alerts?district={GANGNAM}")
        elsewhere.goto("/alerts?district=11110")
        expect(phone.locator("#alerts-live")).to_have_text(text("ko", "alerts_live_on"))
        expect(elsewhere.locator("#alerts-live")).to_have_text(
            text("ko", "alerts_live_on"), timeout=PATIENCE_MS
        )

        console = operator_page(context, live_server, "op.browser")
        fill_alert(console, HEADLINE, "Gangnam station flooded, underpasses closed")
        console.check(f'input[name="districts"][value="{GANGNAM}"]')
        expect(console.locator("#alerts-map path.leaflet-interactive")).to_have_count(25)
        console.click("#alert-preview")
        preview = console.locator("#cap-preview")
        expect(preview).to_contain_text("urn:oasis:names:tc:emergency:cap:1.2")
        expect(preview).to_contain_text("<valueName>SIG_CD</valueName>")
        expect(preview).to_contain_text("<value>11230</value>")
        expect(preview).to_contain_text(f"<headline>{HEADLINE}</headline>")
        console.click("#alert-issue")
        expect(console.locator("#alert-form-state")).to_contain_text(
            text("ko", "alerts_issued"), timeout=PATIENCE_MS
        )
        row = console.locator("#recent-rows tr").filter(has_text=HEADLINE)
        expect(row).to_contain_text(text("ko", "alerts_state_active"))
        expect(row).to_contain_text("강남구")

        # the simulator's drills may show too: look for this alert
        banner = phone.locator("#alerts-list .alert-item").filter(has_text=HEADLINE)
        expect(banner).to_have_count(1)
        expect(banner.locator(".alert-sev")).to_have_text(
            text("ko", "alerts_sev_severe"), timeout=PATIENCE_MS
        )
        expect(phone.locator("#alerts-live")).to_have_text(text("ko", "alerts_live_on"))
        elsewhere.wait_for_timeout(500)
        expect(elsewhere.locator("#alerts-list")).not_to_contain_text(HEADLINE)  # not in its area
        phone.screenshot(path=str(artifacts / "alerts-phone.png"), full_page=True)
        console.screenshot(path=str(artifacts / "alerts-console.png"), full_page=True)

        console.on("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name=text("ko", "alerts_cancel")).click()
        expect(console.locator("#alert-form-state")).to_contain_text(
            text("ko", "alerts_cancelled"), timeout=PATIENCE_MS
        )
        expect(phone.locator("#alerts-list")).not_to_contain_text(HEADLINE)
        console.close()
    finally:
        phone_context.close()


def test_a_city_wide_alert_waits_for_another_operator(
    browser: Any, context: Any, live_server: LiveServer
) -> None:
    issuer = operator_page(context, live_server, "op.issuer")
    fill_alert(issuer, "서울 전역 호우 경보", "Heavy rain warning for all of Seoul")
    for box in issuer.locator('input[name="districts"]').all():
        box.check()
    issuer.click("#alert-issue")
    expect(issuer.locator("#alert-form-state")).to_have_text(
        text("ko", "alerts_pending_note"), timeout=PATIENCE_MS
    )
    waiting = issuer.locator("#pending-rows tr").filter(has_text="서울 전역 호우 경보")
    expect(waiting).to_have_count(1)
    waiting.get_by_role("button", name=text("ko", "alerts_approve")).click()
    expect(issuer.locator("#alert-form-state")).to_contain_text(
        "own alert"
    )  # refused: a second person is needed

    other_context = browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        approver = operator_page(other_context, live_server, "op.approver", "en")
        row = approver.locator("#pending-rows tr").filter(has_text="Heavy rain warning for all of Seoul")
        row.get_by_role("button", name=text("en", "alerts_approve")).click()
        expect(approver.locator("#alert-form-state")).to_contain_text(
            text("en", "alerts_approved"), timeout=PATIENCE_MS
        )
        approved = approver.locator("#recent-rows tr").filter(has_text="Heavy rain warning for all of Seoul")
        expect(approved).to_contain_text(text("en", "alerts_state_active"))
        expect(approved).to_contain_text(text("en", "alerts_all_districts"))
        public = other_context.new_page()
        public.set_default_timeout(PATIENCE_MS)
        public.goto("/alerts")
        expect(public.locator("h1")).to_have_text(text("en", "alerts_public_title"))
        expect(public.locator("#alerts-list")).to_contain_text("Heavy rain warning for all of Seoul")
    finally:
        other_context.close()


def _issue_circle(live_server: LiveServer, circle: str, headline: str) -> None:
    """An alert issued through the service and published on the server's own bus."""
    from smartseoul.safety.alerts import service

    draft = service.AlertDraft(
        event="Gas leak",
        severity="Extreme",
        urgency="Immediate",
        certainty="Observed",
        headline_ko=headline,
        headline_en=headline,
        area={"circle": circle},
    )
    with live_server.platform.db.session() as session:
        outcome = service.issue(session, draft, issuer="op.script", settings=live_server.platform.settings)
    for event in outcome.events:
        live_server.run(live_server.platform.bus.publish(event))


def test_a_phone_that_shares_its_location_gets_the_alerts_around_it(
    browser: Any, live_server: LiveServer
) -> None:
    phone_context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale="ko-KR",
        geolocation={"latitude": 37.5665, "longitude": 126.9780},  # Seoul City Hall
        permissions=["geolocation"],
    )
    phone_context.set_default_timeout(PATIENCE_MS)
    errors: list[str] = []
    try:
        phone = phone_context.new_page()
        phone.on("pageerror", lambda error: errors.append(str(error)))
        phone.goto("/alerts")
        phone.click("#alerts-subscribe")  # no place chosen yet
        expect(phone.locator("#alerts-subscribe-state")).to_have_text(text("ko", "alerts_pick_place"))
        phone.click("#alerts-locate")
        # no push service is reachable from here: the page says so, or that it subscribed
        expect(phone.locator("#alerts-subscribe-state")).to_have_text(
            re.compile(
                "|".join(
                    re.escape(text("ko", k))
                    for k in ("alerts_subscribed", "alerts_push_unsupported", "alerts_push_denied")
                )
            )
        )
        expect(phone.locator("#alerts-live")).to_have_text(text("ko", "alerts_live_on"))
        _issue_circle(live_server, "37.56650,126.97800 0.5", "시청 앞 가스 누출")
        _issue_circle(live_server, "37.65000,127.06000 0.5", "노원 가스 누출")
        expect(phone.locator("#alerts-list")).to_contain_text("시청 앞 가스 누출")
        phone.wait_for_timeout(500)
        expect(phone.locator("#alerts-list")).not_to_contain_text("노원 가스 누출")
        assert errors == []
    finally:
        phone_context.close()
