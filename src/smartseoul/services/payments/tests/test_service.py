"""Payments as the money sees it: never charged twice, never lost, every won reconciled."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.core.db import utcnow
from smartseoul.core.settings import Settings
from smartseoul.services.payments import service
from smartseoul.services.payments.models import Payment, SimOperation, SimTransaction
from smartseoul.services.payments.provider import (
    SEOUL,
    callback_secret,
    parse_settlement_csv,
    provider_for,
    settlement_csv,
    sign,
)
from smartseoul.services.payments.service import CallbackRefused, PaymentError
from smartseoul.services.reservations.tests.helpers import citizen


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def start(db: Session, settings: Settings, user: int, key: str = "k-1", amount: int = 30_000) -> Payment:
    return service.start_payment(
        db,
        settings,
        user_id=user,
        amount_krw=amount,
        purpose="주민등록등본 발급 수수료",
        reference="certificate:45",
        idempotency_key=key,
        return_url="/certificates/45",
    )


def pay(db: Session, settings: Settings, payment: Payment) -> tuple[bytes, str]:
    return provider_for(settings).authorise(db, str(payment.provider_ref), approve=True)


def test_a_double_click_is_one_payment_and_a_reused_key_for_another_amount_is_refused(
    db: Session, settings: Settings
) -> None:
    kim = citizen(db, "kim.pay")
    first = start(db, settings, kim)
    again = start(db, settings, kim)
    assert first.id == again.id
    assert first.state == "pending"
    assert first.redirect_url == f"/pay/sim/{first.provider_ref}"
    with pytest.raises(PaymentError) as caught:
        start(db, settings, kim, amount=31_000)
    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.field == "idempotency_key"
    with pytest.raises(PaymentError) as bad:
        start(db, settings, kim, key="k-2", amount=0)
    assert bad.value.field == "amount_krw"


def test_a_signed_callback_captures_once_and_a_replay_or_forgery_is_refused(
    db: Session, settings: Settings
) -> None:
    kim = citizen(db, "kim.callback")
    payment = start(db, settings, kim)
    body, signature = pay(db, settings, payment)
    outcome = service.handle_callback(db, settings, body, signature)
    assert outcome.payment.state == "captured"
    assert outcome.payment.captured_krw == 30_000
    assert [e.type for e in outcome.events] == ["services.payment.captured.v1"]
    assert outcome.events[0].data() == {
        "payment_id": payment.id,
        "reference": "certificate:45",
        "amount_krw": 30_000,
        "user_id": kim,
    }
    with pytest.raises(CallbackRefused) as replay:
        service.handle_callback(db, settings, body, signature)
    assert replay.value.code == "replayed_callback"
    forged = body.replace(b"30000", b"300")
    with pytest.raises(CallbackRefused) as forgery:
        service.handle_callback(db, settings, forged, signature)
    assert forgery.value.code == "bad_signature"
    # a fresh, validly signed callback for the captured payment changes nothing and emits nothing
    tx = db.get(SimTransaction, payment.provider_ref)
    assert tx is not None
    fresh_body, fresh_signature = provider_for(settings).callback_for(tx)
    assert service.handle_callback(db, settings, fresh_body, fresh_signature).events == []
    assert db.query(SimOperation).filter_by(transaction_ref=payment.provider_ref, kind="capture").count() == 1


def test_an_old_callback_is_refused_as_stale(db: Session, settings: Settings) -> None:
    payment = start(db, settings, citizen(db, "kim.stale"))
    body, _ = pay(db, settings, payment)
    data = json.loads(body)
    data["timestamp"] -= settings.payments_callback_tolerance_seconds + 60
    old = json.dumps(data).encode()
    with pytest.raises(CallbackRefused) as caught:
        service.handle_callback(db, settings, old, sign(callback_secret(settings), old))
    assert caught.value.code == "stale_callback"


def test_a_crash_after_authorisation_is_recovered_by_asking_the_provider(
    db: Session, settings: Settings
) -> None:
    payment = start(db, settings, citizen(db, "kim.crash"))
    pay(db, settings, payment)  # the callback never arrives
    assert service.recover_pending(db, settings) == []  # too recent to chase yet
    events = service.recover_pending(db, settings, older_than_s=0)
    db.refresh(payment)
    assert payment.state == "captured"
    assert len(events) == 1
    assert service.recover_pending(db, settings, older_than_s=0) == []


def test_a_crash_after_capture_at_the_provider_does_not_charge_twice(db: Session, settings: Settings) -> None:
    payment = start(db, settings, citizen(db, "kim.capture"))
    pay(db, settings, payment)
    provider = provider_for(settings)
    provider.capture(
        db, str(payment.provider_ref), payment.amount_krw, f"capture-{payment.id}"
    )  # then we crashed
    service.recover_pending(db, settings, older_than_s=0)
    db.refresh(payment)
    assert payment.state == "captured"
    assert db.query(SimOperation).filter_by(transaction_ref=payment.provider_ref).count() == 1


def test_refunds_partial_then_full_each_once(db: Session, settings: Settings) -> None:
    payment = start(db, settings, citizen(db, "kim.refund"))
    service.handle_callback(db, settings, *pay(db, settings, payment))
    part = service.refund(db, settings, payment.id, amount_krw=10_000, idempotency_key="r-1")
    same = service.refund(db, settings, payment.id, amount_krw=10_000, idempotency_key="r-1")
    assert part.refund.id == same.refund.id
    assert same.events == []
    assert part.events[0].type == "services.payment.refunded.v1"
    with pytest.raises(PaymentError) as too_much:
        service.refund(db, settings, payment.id, amount_krw=25_000, idempotency_key="r-2")
    assert too_much.value.code == "refund_too_large"
    assert too_much.value.field == "amount_krw"
    rest = service.refund(db, settings, payment.id, amount_krw=20_000, idempotency_key="r-3")
    assert rest.payment.state == "refunded"
    assert rest.payment.refunded_krw == 30_000


def test_reconciliation_finds_matches_and_each_kind_of_difference(db: Session, settings: Settings) -> None:
    kim = citizen(db, "kim.recon")
    today = datetime.now(SEOUL).date()
    made = []
    for n in range(4):
        payment = start(db, settings, kim, key=f"rc-{n}", amount=1_000 * (n + 1))
        service.handle_callback(db, settings, *pay(db, settings, payment))
        made.append(payment)
    service.refund(db, settings, made[0].id, amount_krw=500, idempotency_key="rc-r")
    report = service.reconcile_day(db, settings, today)
    assert report.summary()["matched"] == 5
    assert report.count("missing_ours") == 0
    # our side lost a capture (missing on ours), disagrees on one amount, and has one the provider lacks
    db.execute(update(Payment).where(Payment.id == made[1].id).values(capture_ref=None))
    db.execute(update(Payment).where(Payment.id == made[2].id).values(captured_krw=2_999))
    db.execute(
        update(SimOperation)
        .where(SimOperation.transaction_ref == made[3].provider_ref)
        .values(at=utcnow() - timedelta(days=3))
    )
    report = service.reconcile_day(db, settings, today)
    assert (
        report.count("matched"),
        report.count("missing_ours"),
        report.count("amount_mismatch"),
        report.count("missing_theirs"),
    ) == (2, 1, 1, 1)
    lines = provider_for(settings).settlement(db, today)
    assert parse_settlement_csv(settlement_csv(lines)) == lines
