"""The reservation pages without a browser: demo seed, search, booking by form, roles on staff pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import make_account
from smartseoul.core.bootstrap import Platform
from smartseoul.services.reservations.models import Booking, Facility, Slot
from smartseoul.services.reservations.seed import FACILITY_COUNT, seed_demo

pytestmark = pytest.mark.parametrize("engine_kind", ["sqlite"])  # one engine: the pages are what is tested


def log_in(client: Any, platform: Platform, name: str, roles: list[str]) -> None:
    account = make_account(platform.db, name, roles, district_code="11230", mfa=False)
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": client.cookies.get("ss_csrf"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_the_demo_seed_makes_sixty_facilities_with_slots_once(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        seed_demo(platform, session)
        seed_demo(platform, session)
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Facility.id))) == FACILITY_COUNT
        assert len(set(session.scalars(select(Facility.district_code)))) == 25
        assert (session.scalar(select(func.count(Slot.id))) or 0) > FACILITY_COUNT * 14
    page = client.get("/reservations?kind=hall", headers={"Accept-Language": "ko"})
    assert page.status_code == 200
    assert "구민회관 대강당" in page.text
    assert "테니스장" not in page.text
    english = client.get("/reservations?q=Tennis", headers={"Accept-Language": "en"})
    assert "Tennis court 1" in english.text


def test_a_citizen_books_by_form_and_a_double_submit_books_once(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        seed_demo(platform, session)
        facility_id = session.scalar(
            select(Facility.id).where(Facility.fee_krw == 0, Facility.who_may_book == "anyone")
        )
    assert client.get("/reservations/mine", follow_redirects=False).headers["location"].startswith("/login")
    log_in(client, platform, "kim.form", ["citizen"])
    page = client.get(f"/reservations/facilities/{facility_id}")
    form = re.search(
        r'name="slot_id" value="(\d+)">\s*<input[^>]*>\s*<input type="hidden" name="key" value="([^"]+)"',
        page.text,
    )
    assert form is not None
    data = {
        "slot_id": form[1],
        "facility_id": str(facility_id),
        "key": form[2],
        "csrf_token": client.cookies.get("ss_csrf"),
    }
    first = client.post("/reservations/book", data=data, follow_redirects=False)
    second = client.post("/reservations/book", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Booking.id))) == 1
    mine = client.get(first.headers["location"])
    assert 'data-state="confirmed"' in mine.text
    no_csrf = client.post("/reservations/book", data={**data, "csrf_token": "forged"}, follow_redirects=False)
    assert no_csrf.status_code == 403


def test_staff_pages_refuse_citizens(client: Any, platform: Platform) -> None:
    log_in(client, platform, "kim.nostaff", ["citizen"])
    for url in (
        "/console/reservations",
        "/console/reservations/attendance",
        "/console/payments/reconciliation",
    ):
        assert client.get(url, follow_redirects=False).status_code == 403, url


def test_coming_back_from_the_payment_page_confirms_even_when_the_callback_was_lost(
    client: Any, platform: Platform
) -> None:
    from smartseoul.core.models import User
    from smartseoul.services.payments.provider import provider_for
    from smartseoul.services.reservations import service

    with platform.db.session() as session:
        seed_demo(platform, session)
        slot_id = session.scalar(
            select(Slot.id)
            .join(Facility)
            .where(
                Facility.fee_krw > 0,
                Facility.who_may_book == "anyone",
                # the demo's slots start today: in the afternoon its first ones have begun
                Slot.starts_at > datetime.now(UTC) + timedelta(hours=2),
            )
            .order_by(Slot.starts_at, Slot.id)
            .limit(1)
        )
    log_in(client, platform, "kim.lost", ["citizen"])
    with platform.db.session() as session:
        user = session.scalars(select(User).where(User.username == "kim.lost")).one()
        made = service.book(
            session,
            platform.settings,
            user_id=user.id,
            district="11230",
            slot_id=slot_id or 0,
            idempotency_key="lost",
        )
        provider_for(platform.settings).authorise(
            session, str(made.payment.provider_ref), approve=True
        )  # no callback
        booking_id = made.booking.id
    back = client.get(f"/reservations/bookings/{booking_id}/return")
    assert back.status_code == 200
    assert f'data-booking="{booking_id}" data-state="confirmed"' in back.text
