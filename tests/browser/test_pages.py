"""The operator console and the pages, driven in a real headless Chromium against a real server.

Every assertion is something a person at the screen would notice: where they land, what the map
draws, what the info box and the ticker say, which message a form shows.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, Account
from tests.browser.conftest import PHONE, LiveServer, text

pytestmark = pytest.mark.browser
SESSION_COOKIE = "ss_session"


def submit(page: Any) -> None:
    page.locator("main form button[type=submit]").last.click()


def log_in(page: Any, account: Account, *, password: str = PASSWORD, otp: str | None = None) -> None:
    page.goto("/login")
    page.fill("#username", account.username)
    page.fill("#password", password)
    if otp is not None:
        page.fill("#otp", otp)
    submit(page)


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def wrong_code(secret: str) -> str:
    """A well-formed code that is not valid now (nor in the steps next to now)."""
    totp = pyotp.TOTP(secret)
    near = {totp.at(time.time() + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(code for code in (f"{n:06d}" for n in range(1, 100)) if code not in near)


def has_session(page: Any) -> bool:
    return any(cookie["name"] == SESSION_COOKIE for cookie in page.context.cookies())


def digits(value: str) -> int:
    return int(re.sub(r"\D", "", value))


# every district shape lies inside the map box (the city is neither cut off nor off-screen)
WHOLE_CITY_IN_VIEW = """() => {
  const box = document.getElementById("map").getBoundingClientRect();
  const shapes = [...document.querySelectorAll("#map path.leaflet-interactive")];
  return shapes.length === 25 && shapes.every((shape) => {
    const r = shape.getBoundingClientRect();
    return r.width > 0 && r.left >= box.left && r.right <= box.right
      && r.top >= box.top && r.bottom <= box.bottom;
  });
}"""


def check_district_info(page: Any, districts: dict[str, dict[str, Any]], lang: str = "ko") -> str:
    """The info box names a district and shows its population and cameras as the API gives them."""
    info = page.locator("#district-info")
    expect(info).to_have_attribute("data-code", re.compile(r"^\d{5}$"))
    code = str(info.get_attribute("data-code"))
    district = districts[code]
    expect(info.locator("h3")).to_have_text(district["name_ko" if lang == "ko" else "name_en"])
    assert digits(info.locator("dd[data-field=population]").inner_text()) == district["population"]
    assert digits(info.locator("dd[data-field=cameras]").inner_text()) == district["cctv_total"]
    return code


def test_operator_logs_in_and_watches_the_console(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    operator = live_server.account("op-console", ["operator"])
    assert operator.totp_secret
    log_in(page, operator, otp=current_code(operator.totp_secret))
    expect(page).to_have_url(f"{live_server.url}/console")
    expect(page.locator("html")).to_have_attribute("lang", "ko")

    districts = {d["code"]: d for d in httpx.get(f"{live_server.url}/api/v1/districts").json()}
    assert len(districts) == 25
    shapes = page.locator("#map path.leaflet-interactive")
    expect(page.locator("#map")).to_have_attribute("data-ready", "25")
    expect(shapes).to_have_count(25)

    # the pointer: hovering a district names it with its figures
    expect(page.locator("#district-info")).not_to_have_attribute("data-code", re.compile("."))
    page.locator("#map").hover()
    hovered = check_district_info(page, districts)

    # the keyboard: focusing a row of the table shows that row's district
    other = next(code for code in sorted(districts) if code != hovered)
    row = page.locator(f"tr[data-code='{other}']")
    row.focus()
    expect(page.locator("#district-info")).to_have_attribute("data-code", other)
    assert check_district_info(page, districts) == other
    expect(row.locator("th")).to_have_text(districts[other]["name_ko"])

    # the live ticker: simulated events arrive over Server-Sent Events
    expect(page.locator("#stream-state")).to_have_text(text("ko", "stream_connected"), timeout=15_000)
    events = page.locator("#ticker li:not(.empty)")
    expect(events.first).to_be_visible(timeout=15_000)
    expect(events.first.locator("time")).to_have_text(re.compile(r"\d\d:\d\d:\d\d"))
    expect(events.first).to_contain_text("모의")
    expect(page.locator("#ticker li.empty")).to_have_count(0)

    page.wait_for_function(WHOLE_CITY_IN_VIEW)
    page.screenshot(path=str(artifacts / "console.png"), full_page=True)

    # a phone held upright: the whole city still fits the map, and nothing scrolls sideways
    page.set_viewport_size(PHONE)
    page.wait_for_function(WHOLE_CITY_IN_VIEW)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "console-phone.png"), full_page=True)


def test_wrong_password_or_missing_code_is_refused(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    operator = live_server.account("op-refused", ["operator"])
    assert operator.totp_secret

    log_in(page, operator, password="not-the-password", otp=current_code(operator.totp_secret))
    expect(page.locator("#login-error")).to_have_text(text("ko", "login_failed"))
    expect(page.locator("#username")).to_have_value(operator.username)
    expect(page.locator("#password")).to_be_focused()
    assert not has_session(page)
    page.screenshot(path=str(artifacts / "login-error.png"), full_page=True)

    log_in(page, operator)
    expect(page.locator("#login-error")).to_have_text(text("ko", "otp_required"))
    assert not has_session(page)
    page.set_viewport_size(PHONE)
    expect(page.locator("#login-error")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "login-phone.png"), full_page=True)

    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/login\?next=/console$"))
    # the console is unreachable without a session, and nothing of it was drawn
    expect(page.locator("#map")).to_have_count(0)


def test_operator_without_totp_enrols_then_lands_on_console(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    operator = live_server.account("op-enrol", ["operator"], mfa=False)
    log_in(page, operator)
    expect(page).to_have_url(f"{live_server.url}/mfa/enrol")
    assert not has_session(page)

    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    page.screenshot(path=str(artifacts / "enrol.png"), full_page=True)

    page.fill("#otp", wrong_code(secret))
    submit(page)
    expect(page.locator("p.error")).to_have_text(text("ko", "enrol_failed"))
    expect(page.locator("#totp-secret")).to_have_text(secret)
    assert not has_session(page)

    page.fill("#otp", current_code(secret))
    submit(page)
    expect(page).to_have_url(f"{live_server.url}/console")
    assert has_session(page)
    expect(page.locator("#map")).to_have_attribute("data-ready", "25")


def test_language_switcher_flips_korean_and_english(
    browser: Any, live_server: LiveServer, artifacts: Path
) -> None:
    # a browser that states no language we have gets the default: Korean
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="fr-FR"
    )
    try:
        page = context.new_page()
        operator = live_server.account("op-lang", ["operator"])
        assert operator.totp_secret
        log_in(page, operator, otp=current_code(operator.totp_secret))
        expect(page).to_have_url(f"{live_server.url}/console")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", "ko")
        expect(page.locator("nav[aria-label=main]")).to_contain_text("통합관제")
        expect(page).to_have_title(re.compile("통합관제"))
        expect(page.locator("#district-info .hint")).to_have_text(text("ko", "district_hint"))

        page.get_by_role("link", name="English").click()
        expect(page).to_have_url(f"{live_server.url}/console")
        expect(html).to_have_attribute("lang", "en")
        expect(page.locator("nav[aria-label=main]")).to_contain_text("Control room")
        expect(page.locator("nav[aria-label=main]")).not_to_contain_text("통합관제")
        expect(page).to_have_title(re.compile("Integrated control room"))
        expect(page.locator("#table-title")).to_have_text(text("en", "districts_table"))
        expect(page.locator("#map")).to_have_attribute("data-ready", "25")
        districts = httpx.get(f"{live_server.url}/api/v1/districts").json()
        jongno = next(d["code"] for d in districts if d["name_ko"] == "종로구")
        page.locator(f"tr[data-code='{jongno}']").focus()
        expect(page.locator("#district-info h3")).to_have_text("Jongno-gu")
        expect(page.locator("#stream-state")).to_have_text("Live", timeout=15_000)
        page.screenshot(path=str(artifacts / "console-en.png"), full_page=True)

        page.get_by_role("link", name="한국어").click()
        expect(html).to_have_attribute("lang", "ko")
        expect(page.locator("nav[aria-label=main]")).to_contain_text("통합관제")
        expect(page.locator("#table-title")).to_have_text(text("ko", "districts_table"))
    finally:
        context.close()


def test_admin_adds_a_user_and_an_operator_is_refused(
    page: Any, context: Any, live_server: LiveServer, artifacts: Path
) -> None:
    admin = live_server.account("admin-pages", ["admin"])
    assert admin.totp_secret
    log_in(page, admin, otp=current_code(admin.totp_secret))
    expect(page).to_have_url(f"{live_server.url}/console")
    page.get_by_role("link", name=text("ko", "nav_admin")).click()
    expect(page).to_have_url(f"{live_server.url}/admin/users")
    expect(page.locator("h1")).to_have_text(text("ko", "admin_title"))
    expect(page.locator("#user-new-dispatcher")).to_have_count(0)

    form = page.locator("#add-user")
    form.locator("#new-username").fill("new-dispatcher")
    form.locator("#new-display").fill("김출동")
    form.locator("#new-password").fill("a-long-enough-password")
    form.get_by_label(text("ko", "role_dispatcher")).check()
    form.get_by_label(text("ko", "role_district_staff")).check()
    form.locator("#new-district").select_option(label="종로구")
    form.locator("button[type=submit]").click()

    expect(page.locator("p.notice")).to_have_text(text("ko", "user_added"))
    row = page.locator("#user-new-dispatcher")
    expect(row).to_be_visible()
    expect(row).to_contain_text("김출동")
    expect(row.locator("input[value=dispatcher]")).to_be_checked()
    expect(row.locator("input[value=district_staff]")).to_be_checked()
    expect(row.locator("input[value=admin]")).not_to_be_checked()
    page.screenshot(path=str(artifacts / "admin-users.png"), full_page=True)

    # a form whose CSRF cookie is gone (say, the browser was restarted) is refused readably
    context.clear_cookies(name="ss_csrf")
    form.locator("#new-username").fill("too-late")
    form.locator("#new-password").fill("a-long-enough-password")
    form.locator("button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text(text("ko", "csrf_failed"))
    expect(page.locator("nav[aria-label=main]")).to_contain_text(text("ko", "nav_admin"))
    page.goto("/admin/users")
    expect(page.locator("#user-new-dispatcher")).to_be_visible()
    expect(page.locator("#user-too-late")).to_have_count(0)

    operator = live_server.account("op-not-admin", ["operator"])
    assert operator.totp_secret
    context.clear_cookies()
    log_in(page, operator, otp=current_code(operator.totp_secret))
    expect(page).to_have_url(f"{live_server.url}/console")
    expect(page.locator("nav[aria-label=main]")).not_to_contain_text(text("ko", "nav_admin"))
    response = page.goto("/admin/users")
    assert response is not None
    assert response.status == 403
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("main h1")).to_have_text(text("ko", "forbidden"))
    expect(page.locator("#add-user")).to_have_count(0)
    page.screenshot(path=str(artifacts / "forbidden.png"), full_page=True)


def test_auditor_verifies_the_audit_chain(page: Any, live_server: LiveServer, artifacts: Path) -> None:
    auditor = live_server.account("auditor-pages", ["auditor"])
    assert auditor.totp_secret
    log_in(page, auditor, otp=current_code(auditor.totp_secret))
    expect(page).to_have_url(f"{live_server.url}/console")
    page.get_by_role("link", name=text("ko", "nav_audit")).click()
    expect(page).to_have_url(f"{live_server.url}/audit")
    expect(page.locator("#verify-result")).to_have_count(0)
    # the auditor's own login is in the ledger
    expect(page.locator("table.audit tbody")).to_contain_text("auditor-pages")

    page.get_by_role("button", name=text("ko", "audit_verify")).click()
    expect(page.locator("#verify-result")).to_contain_text(text("ko", "audit_ok"))
    page.screenshot(path=str(artifacts / "audit.png"), full_page=True)

    # filtering by action shows only that action, and switching language keeps the filter
    page.fill("#action", "auth.login")
    page.get_by_role("button", name=text("ko", "filter"), exact=True).click()
    expect(page.locator("#verify-result")).to_have_count(0)
    actions = page.locator("table.audit tbody td:nth-child(4)")
    expect(actions.first).to_have_text("auth.login")
    assert set(actions.all_inner_texts()) == {"auth.login"}
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text(text("en", "audit_title"))
    expect(page.locator("#action")).to_have_value("auth.login")
