"""The alert pages as served: public without an account, the console only for the control room."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conftest import PASSWORD, make_account
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.safety.alerts import service
from smartseoul.safety.alerts.service import AlertDraft


def issue(platform: Platform, district: str, headline_ko: str, headline_en: str) -> int:
    draft = AlertDraft(
        event="Heat",
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        headline_ko=headline_ko,
        headline_en=headline_en,
        instruction_ko="한낮 외출을 삼가세요",
        instruction_en="Stay indoors at midday",
        area={"districts": [district]},
    )
    with platform.db.session() as session:
        return service.issue(session, draft, issuer="op", settings=platform.settings).alert.id


def test_the_public_page_and_banner_show_current_alerts_in_both_languages(
    client: Any, platform: Platform
) -> None:
    issue(platform, "11230", "폭염 주의보", "Heat advisory")
    issue(platform, "11110", "노원 단수 안내", "Water cut in Nowon")
    korean = client.get("/alerts", headers={"accept-language": "ko"})
    assert korean.status_code == 200
    assert "안전 경보" in korean.text
    assert "폭염 주의보" in korean.text
    assert "노원 단수 안내" in korean.text
    english = client.get("/alerts", params={"district": "11230"}, headers={"accept-language": "en"})
    assert "Public safety alerts" in english.text
    assert "Heat advisory" in english.text
    assert "Water cut in Nowon" not in english.text  # another district
    banner = client.get("/alerts/banner", params={"district": "11110"}, headers={"accept-language": "en"})
    assert "Water cut in Nowon" in banner.text
    assert "Heat advisory" not in banner.text
    assert client.get("/alerts", params={"district": "gangnam"}).status_code == 422


def test_the_alert_console_is_for_the_control_room(client: Any, platform: Platform) -> None:
    make_account(platform.db, "citizen.oh", ["citizen"])
    client.get("/login")  # the login form sets the CSRF cookie that its POST must echo
    form = {"username": "citizen.oh", "password": PASSWORD, "csrf_token": client.cookies.get("ss_csrf")}
    login = client.post("/login", data=form, follow_redirects=False)
    assert login.status_code == 303
    refused = client.get("/console/alerts", headers={"accept": "text/html"})
    assert refused.status_code == 403
    with platform.db.session() as session:
        denial = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).one()
        assert denial.target == "GET /console/alerts"


def test_a_notification_opens_the_alert_in_full(client: Any, platform: Platform) -> None:
    alert_id = issue(platform, "11230", "폭염 경보", "Heat warning")
    with platform.db.session() as session:
        service.cancel(session, alert_id, by="op", settings=platform.settings)
    page = client.get("/alerts", params={"alert": alert_id}, headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "Heat warning" in page.text
    assert "Stay indoors at midday" in page.text
    assert "cancelled" in page.text  # a cancelled alert says so where the old notification leads
    unknown = client.get("/alerts", params={"alert": 999999}, headers={"accept-language": "en"})
    assert unknown.status_code == 200
    assert 'id="alert-focus"' not in unknown.text
