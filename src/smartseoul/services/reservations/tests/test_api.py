"""Reservations and payments over HTTP, as a citizen, staff and the payment provider use them."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.services.payments.provider import callback_secret, sign
from smartseoul.services.reservations import service
from smartseoul.services.reservations.tests.helpers import GANGNAM


def setup_facility(platform: Platform, **rules: Any) -> tuple[int, list[int]]:
    values: dict[str, Any] = {
        "code": f"API-{datetime.now().timestamp()}",
        "name_ko": "역삼 테니스장",
        "name_en": "Yeoksam tennis court",
        "kind": "sports",
        "district_code": GANGNAM,
    }
    values.update(rules)
    with platform.db.session() as session:
        facility = service.add_facility(session, service.FacilityDraft(**values))
        day = (datetime.now(service.SEOUL) + timedelta(days=2)).date()
        made = service.add_slots(session, facility, day, [9, 10, 11])
        return facility.id, [s.id for s in made]


def bearer(
    client: Any, platform: Platform, name: str, roles: list[str], district: str | None = GANGNAM
) -> dict[str, str]:
    account = make_account(platform.db, name, roles, district_code=district, mfa=False)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def test_a_citizen_books_once_per_key_and_the_rules_refuse_by_name(client: Any, platform: Platform) -> None:
    facility_id, slot_ids = setup_facility(platform, weekly_limit=1)
    kim = bearer(client, platform, "kim.api", ["citizen"])
    listed = client.get(f"/api/v1/reservations/facilities/{facility_id}").json()
    assert [s["id"] for s in listed["slots"]] == slot_ids
    assert listed["rules"]["weekly_limit"] == 1
    first = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**kim, "Idempotency-Key": "a1"},
    )
    assert first.status_code == 201, first.text
    again = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**kim, "Idempotency-Key": "a1"},
    )
    assert again.json()["id"] == first.json()["id"]
    over = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[1]},
        headers={**kim, "Idempotency-Key": "a2"},
    )
    assert over.status_code == 409
    assert over.headers["content-type"].startswith("application/problem+json")
    assert over.json()["rule"] == "weekly_limit"
    no_key = client.post("/api/v1/reservations/bookings", json={"slot_id": slot_ids[1]}, headers=kim)
    assert no_key.status_code == 422
    assert "Idempotency-Key" in no_key.text
    bad = client.post(
        "/api/v1/reservations/bookings", json={"slot_id": "x"}, headers={**kim, "Idempotency-Key": "a3"}
    )
    assert bad.status_code == 422
    assert "slot_id" in bad.text
    mine = client.get("/api/v1/reservations/bookings", headers=kim).json()
    assert [b["state"] for b in mine["bookings"]] == ["confirmed"]


def test_roles_and_tokens_are_enforced(client: Any, platform: Platform) -> None:
    _, slot_ids = setup_facility(platform)
    kim = bearer(client, platform, "kim.roles", ["citizen"])
    body = {"slot_id": slot_ids[0]}
    assert (
        client.post("/api/v1/reservations/bookings", json=body, headers={"Idempotency-Key": "x"}).status_code
        == 401
    )
    forged = {"Authorization": "Bearer not.a.token", "Idempotency-Key": "x"}
    assert client.post("/api/v1/reservations/bookings", json=body, headers=forged).status_code == 401
    new = {"code": "N-1", "name_ko": "새 시설", "name_en": "New", "kind": "hall", "district_code": GANGNAM}
    assert client.post("/api/v1/reservations/facilities", json=new, headers=kim).status_code == 403
    staff = bearer(client, platform, "staff.gangnam", ["district_staff"])
    other = {**new, "code": "N-2", "district_code": "11350"}
    assert client.post("/api/v1/reservations/facilities", json=other, headers=staff).status_code == 403
    assert client.post("/api/v1/reservations/facilities", json=new, headers=staff).status_code == 201
    assert client.get("/api/v1/payments/reconciliation?date=2026-12-01", headers=kim).status_code == 403
    day = (datetime.now(service.SEOUL) + timedelta(days=2)).date().isoformat()
    assert client.get(f"/api/v1/reservations/attendance?date={day}", headers=kim).status_code == 403
    assert client.get(f"/api/v1/reservations/attendance?date={day}", headers=staff).status_code == 200
    with platform.db.session() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"access.denied", "reservations.attendance.read"} <= actions


def confirmed_soon(client: Any, headers: dict[str, str], seconds: float = 15) -> dict[str, Any]:
    """The booking once the bus delivered the capture to reservations (delivery is asynchronous)."""
    deadline = time.monotonic() + seconds
    while True:
        booking: dict[str, Any] = client.get("/api/v1/reservations/bookings", headers=headers).json()[
            "bookings"
        ][0]
        if booking["state"] == "confirmed" or time.monotonic() > deadline:
            return booking
        time.sleep(0.1)


def pay_on_provider_page(client: Any, pay_url: str) -> Any:
    page = client.get(pay_url)
    assert page.status_code == 200
    csrf = client.cookies.get("ss_csrf")
    return client.post(pay_url, data={"action": "pay", "csrf_token": csrf}, follow_redirects=False)


def test_a_fee_is_paid_on_the_provider_page_the_booking_confirms_and_cancel_refunds(
    client: Any, platform: Platform
) -> None:
    _, slot_ids = setup_facility(platform, fee_krw=8_000)
    kim = bearer(client, platform, "kim.fee", ["citizen"])
    made = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**kim, "Idempotency-Key": "f1"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "held"
    back = pay_on_provider_page(client, made.json()["pay_url"])
    assert back.status_code == 303
    assert back.headers["location"] == f"/reservations/bookings/{made.json()['id']}/return"
    payment = client.get(f"/api/v1/payments/{made.json()['payment_id']}", headers=kim).json()
    assert payment["state"] == "captured"
    assert payment["captured_krw"] == 8_000
    booking = confirmed_soon(client, kim)  # by the captured event on the bus, no page visit needed
    assert booking["state"] == "confirmed"
    cancel = client.post(
        f"/api/v1/reservations/bookings/{booking['id']}/cancel", headers={**kim, "Idempotency-Key": "c1"}
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["refunded_krw"] == 8_000
    other = bearer(client, platform, "lee.other", ["citizen"])
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=other).status_code == 404


def test_a_forged_or_replayed_callback_is_refused_and_audited(client: Any, platform: Platform) -> None:
    _, slot_ids = setup_facility(platform, fee_krw=3_000)
    kim = bearer(client, platform, "kim.forge", ["citizen"])
    made = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**kim, "Idempotency-Key": "g1"},
    ).json()
    ref = made["pay_url"].rsplit("/", 1)[1]
    body = json.dumps(
        {
            "provider_ref": ref,
            "event": "authorised",
            "amount_krw": 3000,
            "timestamp": int(datetime.now().timestamp()),
            "nonce": "n" * 16,
        }
    ).encode()
    forged = client.post("/api/v1/payments/callback/sim", content=body, headers={"X-Sim-Signature": "0" * 64})
    assert forged.status_code == 401
    assert forged.json()["code"] == "bad_signature"
    signed = sign(callback_secret(platform.settings), body)
    # signed but the provider never authorised: the capture is refused by the provider, nothing is charged
    first = client.post("/api/v1/payments/callback/sim", content=body, headers={"X-Sim-Signature": signed})
    assert first.status_code == 409
    replay = client.post("/api/v1/payments/callback/sim", content=body, headers={"X-Sim-Signature": signed})
    assert replay.status_code == 409
    assert replay.json()["code"] == "replayed_callback"
    with platform.db.session() as session:
        reasons = list(
            session.scalars(select(AuditEntry.reason).where(AuditEntry.action == "payments.callback.refused"))
        )
    assert "bad_signature" in reasons
    assert "replayed_callback" in reasons
    payment = client.get(f"/api/v1/payments/{made['payment_id']}", headers=kim).json()
    assert payment["state"] == "pending"


def test_staff_refund_needs_a_key_and_a_retry_is_the_same_refund(client: Any, platform: Platform) -> None:
    _, slot_ids = setup_facility(platform, fee_krw=10_000)
    kim = bearer(client, platform, "kim.refund", ["citizen"])
    made = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**kim, "Idempotency-Key": "r1"},
    ).json()
    pay_on_provider_page(client, made["pay_url"])
    staff = bearer(client, platform, "staff.refund", ["district_staff"])
    url = f"/api/v1/payments/{made['payment_id']}/refunds"
    assert client.post(url, json={"amount_krw": 4_000}, headers=staff).status_code == 422
    assert (
        client.post(url, json={"amount_krw": 4_000}, headers={**kim, "Idempotency-Key": "k"}).status_code
        == 403
    )
    one = client.post(url, json={"amount_krw": 4_000}, headers={**staff, "Idempotency-Key": "k"})
    two = client.post(url, json={"amount_krw": 4_000}, headers={**staff, "Idempotency-Key": "k"})
    assert one.status_code == 201, one.text
    assert one.json()["refund_id"] == two.json()["refund_id"]
    assert two.json()["payment"]["refunded_krw"] == 4_000
    too_much = client.post(url, json={"amount_krw": 7_000}, headers={**staff, "Idempotency-Key": "k2"})
    assert too_much.status_code == 422
    assert too_much.json()["field"] == "amount_krw"
    today = datetime.now(service.SEOUL).date().isoformat()
    report = client.get(f"/api/v1/payments/reconciliation?date={today}", headers=staff).json()
    assert (report["matched"], report["missing_ours"], report["missing_theirs"]) == (2, 0, 0)
    csv = client.get(f"/api/v1/payments/settlement/sim?date={today}", headers=staff)
    assert csv.text.count("\n") == 3


@pytest.mark.parametrize("engine_kind", ["sqlite"])  # the rules run on both engines in test_service
def test_the_waitlist_gets_a_cancelled_seat_and_staff_mark_attendance_only_after_the_start(
    client: Any, platform: Platform
) -> None:
    _, slot_ids = setup_facility(platform, capacity=1)
    kim = bearer(client, platform, "kim.seat", ["citizen"])
    lee = bearer(client, platform, "lee.waits", ["citizen"])
    made = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**kim, "Idempotency-Key": "w1"},
    )
    full = client.post(
        "/api/v1/reservations/bookings",
        json={"slot_id": slot_ids[0]},
        headers={**lee, "Idempotency-Key": "w2"},
    )
    assert full.json()["rule"] == "slot_full"
    waiting = client.post("/api/v1/reservations/waitlist", json={"slot_id": slot_ids[0]}, headers=lee)
    assert waiting.status_code == 201
    assert waiting.json()["position"] == 1
    staff = bearer(client, platform, "staff.seat", ["district_staff"])
    early = client.post(
        f"/api/v1/reservations/bookings/{made.json()['id']}/attendance",
        json={"attended": False},
        headers=staff,
    )
    assert early.status_code == 409
    assert early.json()["rule"] == "not_started"
    client.post(
        f"/api/v1/reservations/bookings/{made.json()['id']}/cancel", headers={**kim, "Idempotency-Key": "w3"}
    )
    promoted = client.get("/api/v1/reservations/bookings", headers=lee).json()
    assert [(b["slot_id"], b["state"], b["from_waitlist"]) for b in promoted["bookings"]] == [
        (slot_ids[0], "confirmed", True)
    ]
    assert promoted["waitlist"] == []
