"""The SOS workflow and safe zones in the guardian's app, in headless Chromium on a phone.

An SOS reaches the open app at once (live stream), the guardian takes it in hand with one tap,
asks the control room to find the child now, and draws a safe zone by tapping the map.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conftest import Account
from smartseoul.core import auth
from smartseoul.core.bus import InProcessBus
from smartseoul.core.db import utcnow
from smartseoul.tracking import consent, service
from smartseoul.tracking.events import AlarmRaised
from smartseoul.tracking.models import Alarm, FindNowRequest, LocationProvision, Position, SafeZone
from tests.browser.conftest import PHONE, LiveServer, text
from tests.browser.test_app import _log_in_from_app
from tests.browser.test_pages import log_in

pytestmark = pytest.mark.browser
HOME = (37.5796, 126.9770)


def _child(live_server: LiveServer, guardian: str) -> tuple[Account, int, int]:
    account = live_server.account(guardian, ["guardian"])
    with live_server.platform.db.session() as session:
        user = auth.get_user(session, guardian)
        assert user is not None
        child = service.add_person(
            session, display_name="이보람", category="child", actor="test", birth_date=date(2016, 9, 1)
        )
        service.add_guardian(
            session, child, user.id, relation="father", actor="test", legal_representative=True
        )
        consent.give(session, child, given_by="guardian", guardian_user_id=user.id, recorded_by="test")
        watch = service.register_device(session, f"{guardian}-w", "watch", actor="test", person_id=child.id)
        session.flush()
        session.add(
            Position(
                device_id=watch.id,
                device_time=utcnow() - timedelta(minutes=2),
                lat=HOME[0],
                lon=HOME[1],
                valid=True,
                source="gps",
                accuracy_m=20.0,
                protocol="watch",
            )
        )
        session.commit()
        return account, child.id, watch.id


def _raise_sos(live_server: LiveServer, person_id: int, device_id: int) -> int:
    with live_server.platform.db.session() as session:
        alarm = Alarm(device_id=device_id, kind="sos", raised_at=utcnow(), lat=HOME[0], lon=HOME[1])
        session.add(alarm)
        session.commit()
        alarm_id = alarm.id
    event = AlarmRaised(
        alarm_id=alarm_id,
        kind="sos",
        device_id=device_id,
        person_id=person_id,
        district_code="11110",
        lat=HOME[0],
        lon=HOME[1],
        position_is_last_known=False,
        position_age_s=None,
        emergency=True,
    )
    live_server.run(live_server.platform.bus.publish(event))
    return alarm_id


def test_an_sos_reaches_the_open_app_and_the_guardian_takes_it_in_hand(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    account, person, device = _child(live_server, "guardian-sos")
    page.set_viewport_size(PHONE)
    _log_in_from_app(page, live_server, account)
    page.goto(f"/app/persons/{person}")
    # the machine is shared: give the stream time to open under load
    expect(page.locator("#app-person")).to_have_attribute("data-live", "open", timeout=20_000)
    expect(page.locator("#alarms li.empty")).to_be_visible()

    alarm = _raise_sos(live_server, person, device)
    banner = page.locator("#live-alert")
    expect(banner).to_be_visible(timeout=15_000)
    expect(banner).to_contain_text("이보람")
    expect(banner).to_have_attribute("data-kind", "sos")
    button = page.locator(f"button.app-ack[data-alarm='{alarm}']")
    expect(button).to_have_text(text("ko", "app_ack"))
    page.screenshot(path=str(artifacts / "app-sos.png"), full_page=True)
    button.click()
    expect(page.locator("#alarms li[data-type=sos]")).to_have_attribute("data-acknowledged", "true")
    with live_server.platform.db.session() as session:
        assert (
            session.scalar(select(Alarm.acknowledged_by).where(Alarm.id == alarm))
            == "guardian-sos (guardian)"
        )
    bus = live_server.platform.bus
    assert isinstance(bus, InProcessBus)
    assert [e.alarm_id for _, e in bus.log if e.type == "tracking.alarm.acknowledged.v1"] == [alarm]

    # find now: a reason is asked for, the control room is told, the request is recorded
    page.get_by_role("button", name=text("ko", "app_findnow")).click()
    page.fill("#findnow-reason", "하교 시간이 지났는데 연락이 안 됨")
    page.locator("#findnow-form button[type=submit]").click()
    result = page.locator("#findnow-result")
    expect(result).to_have_attribute("data-state", "sent")
    expect(result).to_contain_text(text("ko", "app_findnow_device_not_asked"))
    ledger = page.locator("#ledger tbody tr.mine").filter(has_text=text("ko", "what_find now (emergency)"))
    expect(ledger).to_have_count(1)
    expect(ledger).to_contain_text("하교 시간이 지났는데 연락이 안 됨")
    with live_server.platform.db.session() as session:
        assert session.scalar(select(FindNowRequest.person_id)) == person
    page.screenshot(path=str(artifacts / "app-findnow.png"), full_page=True)


def test_a_guardian_draws_a_safe_zone_by_tapping_the_map(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    account, person, _ = _child(live_server, "guardian-zone")
    page.set_viewport_size(PHONE)
    _log_in_from_app(page, live_server, account)
    page.goto(f"/app/persons/{person}")
    expect(page.locator("#map")).to_have_attribute("data-ready", "25")
    expect(page.locator("#zones li.empty")).to_have_text(text("ko", "app_zones_none"))
    # installable, and the service worker that shows pushed alarms is in place
    expect(page.locator("#push")).to_have_attribute("data-worker", "registered", timeout=15_000)
    expect(page.get_by_role("button", name=text("ko", "app_push_on"))).to_be_visible()
    manifest = page.request.get("/app/manifest.webmanifest")
    assert manifest.ok
    assert manifest.json()["start_url"] == "/app"

    page.get_by_role("button", name=text("ko", "app_zone_add")).click()
    page.fill("#zone-name", "우리 집")
    page.locator("#zone-save").click()  # no centre yet: said so, nothing saved
    expect(page.locator("#zone-error")).to_have_text(text("ko", "app_zone_pick_centre"))
    page.locator("#map").click()  # the middle of the map: the child's position
    expect(page.locator("#map")).to_have_attribute("data-picked", re.compile(r"^37\.\d+,126\.\d+$"))
    page.select_option("#zone-radius", "250")
    page.check("input[name=when][value=school]")
    page.locator("#zone-save").click()
    item = page.locator("#zones li.app-zone-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("우리 집")
    expect(item).to_contain_text(text("ko", "app_zone_schedule_short"))
    expect(page.locator("#map path.app-zone")).to_have_count(1)
    page.screenshot(path=str(artifacts / "app-zone.png"), full_page=True)
    with live_server.platform.db.session() as session:
        zone = session.scalars(select(SafeZone).where(SafeZone.person_id == person)).one()
        assert (zone.name, zone.kind, zone.radius_m, zone.created_by) == (
            "우리 집",
            "circle",
            250.0,
            "guardian-zone",
        )
        lon, lat = zone.geometry["coordinates"]
        assert abs(lat - HOME[0]) < 0.01
        assert abs(lon - HOME[1]) < 0.01
        assert zone.schedule == [{"days": [0, 1, 2, 3, 4], "start": "08:30", "end": "15:00"}]

    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name=text("ko", "app_zone_delete")).click()
    expect(page.locator("#zones li.empty")).to_have_text(text("ko", "app_zones_none"))
    expect(page.locator("#map path.app-zone")).to_have_count(0)


def test_the_control_room_opens_a_persons_card_after_saying_why(
    page: Any, live_server: LiveServer, artifacts: Path
) -> None:
    _, person, device = _child(live_server, "guardian-card")
    alarm = _raise_sos(live_server, person, device)
    operator = live_server.account("op-card", ["operator"])
    log_in(page, operator, otp=operator.otp())
    expect(page).to_have_url(f"{live_server.url}/console")

    page.goto(f"/console/persons/{person}")
    expect(page.locator("main h1")).to_have_text(text("ko", "card_why_title"))
    expect(page.locator("main")).not_to_contain_text("이보람")  # nothing before the reason
    page.fill("#reason", "SOS 경보 대응")
    page.locator("main form button[type=submit]").click()

    card = page.locator("#person-card")
    expect(card).to_have_attribute("data-loaded", "1", timeout=15_000)
    expect(page.locator("main h1")).to_contain_text("이보람")
    expect(page.locator("#card-age")).to_have_text(re.compile(r"^\d+세$"))
    expect(page.locator("#fix")).to_have_attribute("data-state", "gps")
    expect(page.locator("#map path.card-marker")).to_have_count(1)
    expect(page.locator("#help li.card-school")).to_have_count(3)
    expect(page.locator("#help li.card-police").first).to_contain_text("서")
    page.screenshot(path=str(artifacts / "person-card.png"), full_page=True)

    # the operator takes the SOS in hand from the card; the family sees the reads in their ledger
    page.locator("#alarms button.card-ack").click()
    expect(page.locator("#alarms li[data-type=sos]")).to_have_attribute("data-acknowledged", "true")
    with live_server.platform.db.session() as session:
        assert session.scalar(select(Alarm.acknowledged_by).where(Alarm.id == alarm)) == "op-card (operator)"
        purposes = session.scalars(
            select(LocationProvision.purpose).where(
                LocationProvision.person_id == person, LocationProvision.recipient == "op-card"
            )
        ).all()
        assert set(purposes) == {"SOS 경보 대응"}
        assert len(purposes) >= 4  # latest, path, alarms, help nearby
