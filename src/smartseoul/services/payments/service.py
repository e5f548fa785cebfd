"""Payments: start, callback, capture, refund, recovery and reconciliation; never twice, never lost.

Why each guarantee holds:

- *double click*: a payment is unique on ``(user_id, idempotency_key)``; a second start with the
  same key returns the first payment (a concurrent one loses on the constraint and reads it back);
- *retried callback*: each callback nonce is a primary-key row, so a replay is refused; a fresh
  callback for a payment already captured changes nothing, because every state change is a
  conditional UPDATE (``WHERE state IN (...)``) and only the transaction that wins it emits events;
- *crash between steps*: the provider deduplicates captures and refunds on our idempotency key
  (``capture-<payment id>``), and :func:`recover_pending` asks the provider about any payment left
  pending or authorised and finishes it, so a payment is never charged twice nor forgotten.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.settings import Settings
from smartseoul.services.payments.events import PaymentCaptured, PaymentRefunded
from smartseoul.services.payments.models import CallbackNonce, Payment, PaymentRefund
from smartseoul.services.payments.provider import (
    PaymentProvider,
    ProviderError,
    SettlementLine,
    callback_secret,
    provider_for,
    seoul_day_bounds,
    sign,
)

log = logging.getLogger("smartseoul.payments")
OPEN_STATES = ("created", "pending", "authorised")
MAX_AMOUNT_KRW = 100_000_000


def affected(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed: how a conditional UPDATE tells the one transaction that won."""
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount)


class PaymentError(ValueError):
    """A refused payment operation; ``field`` names the input at fault, ``code`` the rule."""

    def __init__(self, code: str, message: str, field: str = "", status: int = 422) -> None:
        super().__init__(message)
        self.code, self.field, self.status = code, field, status


class CallbackRefused(PaymentError):
    """A forged, stale, replayed or malformed provider callback."""


@dataclass
class Outcome:
    payment: Payment
    events: list[Event] = field(default_factory=list)


def _check_start(
    amount_krw: int, purpose: str, reference: str, idempotency_key: str, return_url: str
) -> None:
    if (
        not isinstance(amount_krw, int)
        or isinstance(amount_krw, bool)
        or not 0 < amount_krw <= MAX_AMOUNT_KRW
    ):
        raise PaymentError(
            "invalid_amount", "amount_krw must be a whole number of won, 1..100,000,000", "amount_krw"
        )
    if not 1 <= len(idempotency_key) <= 100:
        raise PaymentError(
            "invalid_idempotency_key", "an Idempotency-Key of 1-100 characters is required", "idempotency_key"
        )
    if not purpose.strip() or len(purpose) > 200:
        raise PaymentError("invalid_purpose", "purpose must be 1-200 characters", "purpose")
    if ":" not in reference or len(reference) > 100:
        raise PaymentError("invalid_reference", "reference looks like 'reservation:123'", "reference")
    if not return_url.startswith("/") or return_url.startswith("//") or len(return_url) > 500:
        raise PaymentError("invalid_return_url", "return_url must be a path on this site", "return_url")


def start_payment(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    amount_krw: int,
    purpose: str,
    reference: str,
    idempotency_key: str,
    return_url: str,
) -> Payment:
    """Open a payment and its hosted page; the same ``idempotency_key`` gives back the same payment.

    The caller commits; ``payment.redirect_url`` is where the citizen goes to pay.
    """
    _check_start(amount_krw, purpose, reference, idempotency_key, return_url)
    existing = _by_key(session, user_id, idempotency_key)
    if existing is not None:
        return _same_request(existing, amount_krw, reference)
    payment = Payment(
        user_id=user_id,
        amount_krw=amount_krw,
        purpose=purpose.strip(),
        reference=reference,
        idempotency_key=idempotency_key,
        return_url=return_url,
        state="created",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        again = _by_key(session, user_id, idempotency_key)
        if again is None:
            raise
        return _same_request(again, amount_krw, reference)
    provider = provider_for(settings)
    payment.provider = provider.name
    payment.provider_ref, payment.redirect_url = provider.create(
        session,
        merchant_ref=f"pay-{payment.id}",
        amount_krw=amount_krw,
        description=purpose,
        return_url=return_url,
    )
    payment.state, payment.updated_at = "pending", utcnow()
    session.flush()
    return payment


def _by_key(session: Session, user_id: int, key: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.user_id == user_id, Payment.idempotency_key == key))


def _same_request(payment: Payment, amount_krw: int, reference: str) -> Payment:
    """A reused key must mean the same payment; another amount under the same key is a client bug."""
    if payment.amount_krw != amount_krw or payment.reference != reference:
        raise PaymentError(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different payment",
            "idempotency_key",
            status=409,
        )
    return payment


def get_payment(session: Session, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise PaymentError("unknown_payment", f"no payment {payment_id}", "payment_id", status=404)
    return payment


def payment_for_reference(session: Session, reference: str) -> Payment | None:
    """The latest payment for ``reference`` (e.g. ``reservation:12``)."""
    return session.scalar(
        select(Payment).where(Payment.reference == reference).order_by(Payment.id.desc()).limit(1)
    )


def _move(session: Session, payment: Payment, to: str, allowed_from: tuple[str, ...], **values: Any) -> bool:
    """Change state only from ``allowed_from``; True for the one transaction that made the change."""
    changed = affected(
        session,
        update(Payment)
        .where(Payment.id == payment.id, Payment.state.in_(allowed_from))
        .values(state=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False),
    )
    session.refresh(payment)
    return bool(changed)


def _captured_event(payment: Payment) -> PaymentCaptured:
    return PaymentCaptured(
        payment_id=payment.id,
        reference=payment.reference,
        amount_krw=payment.amount_krw,
        user_id=payment.user_id,
    )


def capture(session: Session, provider: PaymentProvider, payment: Payment) -> Outcome:
    """Capture an authorised payment; safe to run twice or concurrently (one event, one charge)."""
    if payment.state == "captured" or payment.provider_ref is None:
        return Outcome(payment)
    _move(session, payment, "authorised", ("created", "pending"))
    if payment.state != "authorised":
        return Outcome(payment)
    op_ref = provider.capture(session, payment.provider_ref, payment.amount_krw, f"capture-{payment.id}")
    won = _move(
        session,
        payment,
        "captured",
        ("authorised",),
        captured_krw=payment.amount_krw,
        capture_ref=op_ref,
        captured_at=utcnow(),
    )
    return Outcome(payment, [_captured_event(payment)] if won else [])


def verify_callback(session: Session, settings: Settings, body: bytes, signature: str) -> dict[str, Any]:
    """Check signature, age and nonce; returns the callback's fields or raises CallbackRefused."""
    expected = sign(callback_secret(settings), body)
    if not signature or not hmac.compare_digest(expected, signature.strip().lower()):
        raise CallbackRefused("bad_signature", "the callback signature does not verify", "signature", 401)
    try:
        data = json.loads(body)
        fields: dict[str, Any] = {
            "provider_ref": str(data["provider_ref"]),
            "event": str(data["event"]),
            "amount_krw": int(data["amount_krw"]),
            "timestamp": int(data["timestamp"]),
            "nonce": str(data["nonce"]),
        }
    except (ValueError, KeyError, TypeError):
        raise CallbackRefused("malformed_callback", "the callback body lacks a field", "body", 400) from None
    age = abs(utcnow().timestamp() - fields["timestamp"])
    if age > settings.payments_callback_tolerance_seconds:
        raise CallbackRefused("stale_callback", f"the callback is {int(age)} s old", "timestamp", 409)
    if not 8 <= len(fields["nonce"]) <= 64:
        raise CallbackRefused("malformed_callback", "the nonce must be 8-64 characters", "nonce", 400)
    try:
        with session.begin_nested():
            session.add(
                CallbackNonce(
                    nonce=fields["nonce"], provider_ref=fields["provider_ref"][:64], received_at=utcnow()
                )
            )
    except IntegrityError:
        raise CallbackRefused(
            "replayed_callback", "this callback nonce was already used", "nonce", 409
        ) from None
    return fields


def handle_callback(session: Session, settings: Settings, body: bytes, signature: str) -> Outcome:
    """Apply a provider callback: authorised -> capture, declined -> failed, cancelled -> cancelled."""
    return apply_callback(session, settings, verify_callback(session, settings, body, signature))


def apply_callback(session: Session, settings: Settings, fields: dict[str, Any]) -> Outcome:
    """Apply a verified callback's news (its nonce is already spent)."""
    payment = session.scalar(select(Payment).where(Payment.provider_ref == fields["provider_ref"]))
    if payment is None:
        raise CallbackRefused(
            "unknown_payment", "no payment has this provider reference", "provider_ref", 404
        )
    if fields["amount_krw"] != payment.amount_krw:
        raise CallbackRefused(
            "amount_mismatch", "the callback amount differs from the payment", "amount_krw", 409
        )
    return _apply_provider_state(session, provider_for(settings), payment, fields["event"])


def _apply_provider_state(
    session: Session, provider: PaymentProvider, payment: Payment, state: str
) -> Outcome:
    if state in ("authorised", "captured"):
        return capture(session, provider, payment)
    if state == "declined":
        _move(session, payment, "failed", OPEN_STATES)
    elif state == "cancelled":
        _move(session, payment, "cancelled", OPEN_STATES)
    return Outcome(payment)


def audit_refusal(session: Session, error: PaymentError, *, client: str, details: dict[str, Any]) -> None:
    """Write a refused callback to the ledger (the caller commits it in its own transaction)."""
    audit.record(
        session,
        actor="payment-provider",
        action="payments.callback.refused",
        target=str(details.get("provider_ref", ""))[:200],
        outcome="denied",
        client=client,
        reason=error.code,
        details={k: str(v)[:200] for k, v in details.items()},
    )


def recover_pending(
    session: Session,
    settings: Settings,
    *,
    older_than_s: int | None = None,
    payment_ids: list[int] | None = None,
) -> list[Event]:
    """Finish payments a crash or a lost callback left open: ask the provider, then apply its answer."""
    provider = provider_for(settings)
    age = settings.payments_recover_after_seconds if older_than_s is None else older_than_s
    cutoff = utcnow() - timedelta(seconds=age)
    query = select(Payment).where(Payment.state.in_(OPEN_STATES), Payment.updated_at <= cutoff)
    if payment_ids is not None:
        query = query.where(Payment.id.in_(payment_ids))
    stuck = session.scalars(query.order_by(Payment.id).limit(500)).all()
    events: list[Event] = []
    for payment in stuck:
        if payment.provider_ref is None:
            _move(session, payment, "failed", ("created",))
            continue
        try:
            with session.begin_nested():
                state = provider.status(session, payment.provider_ref).state
                events.extend(_apply_provider_state(session, provider, payment, state).events)
        except ProviderError as error:  # one payment the provider refuses must not stop the others
            log.warning("payment %s not recovered: %s", payment.id, error)
    return events


def ask_provider_now(session: Session, settings: Settings, payment: Payment) -> list[Event]:
    """The payer is back from the provider's page: settle an open payment at once (its callback
    may be late or lost) instead of waiting for the recovery sweep; ``payment`` is refreshed."""
    if payment.state not in OPEN_STATES:
        return []
    events = recover_pending(session, settings, older_than_s=0, payment_ids=[payment.id])
    session.refresh(payment)
    return events


def cancel(session: Session, settings: Settings, payment_id: int) -> Payment:
    """Void a payment not yet captured (an unpaid hold expired); a captured one stays captured."""
    payment = get_payment(session, payment_id)
    if payment.state not in OPEN_STATES or payment.provider_ref is None:
        return payment
    provider = provider_for(settings)
    state = provider.cancel(session, payment.provider_ref)
    if state == "captured":
        capture(session, provider, payment)
    else:
        _move(session, payment, "cancelled", OPEN_STATES)
    return payment


@dataclass
class RefundOutcome:
    refund: PaymentRefund
    payment: Payment
    events: list[Event] = field(default_factory=list)


def refund(
    session: Session,
    settings: Settings,
    payment_id: int,
    *,
    amount_krw: int,
    idempotency_key: str,
    reason: str = "",
) -> RefundOutcome:
    """Refund all or part of a captured payment; a retry with the same key is the same refund."""
    payment = get_payment(session, payment_id)
    if not 1 <= len(idempotency_key) <= 100:
        raise PaymentError(
            "invalid_idempotency_key", "an Idempotency-Key of 1-100 characters is required", "idempotency_key"
        )
    done = _refund_by_key(session, payment.id, idempotency_key)
    if done is not None:
        return RefundOutcome(done, payment)
    if payment.state not in ("captured", "refunded") or payment.provider_ref is None:
        raise PaymentError(
            "not_captured", f"payment {payment.id} is {payment.state}; nothing to refund", "payment_id", 409
        )
    if not 0 < amount_krw <= payment.captured_krw - payment.refunded_krw:
        raise PaymentError(
            "refund_too_large",
            f"refund 1..{payment.captured_krw - payment.refunded_krw} KRW",
            "amount_krw",
        )
    op_ref = provider_for(settings).refund(
        session, payment.provider_ref, amount_krw, f"refund-{payment.id}-{idempotency_key}"
    )
    row = PaymentRefund(
        payment_id=payment.id,
        amount_krw=amount_krw,
        idempotency_key=idempotency_key,
        provider_refund_ref=op_ref,
        reason=reason[:200],
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            counted = affected(
                session,
                update(Payment)
                .where(Payment.id == payment.id, Payment.refunded_krw + amount_krw <= Payment.captured_krw)
                .values(refunded_krw=Payment.refunded_krw + amount_krw, updated_at=utcnow())
                .execution_options(synchronize_session=False),
            )
            if not counted:
                raise PaymentError("refund_too_large", "the refund exceeds what is left", "amount_krw")
    except IntegrityError:
        again = _refund_by_key(session, payment.id, idempotency_key)
        if again is None:
            raise
        return RefundOutcome(again, payment)
    session.refresh(payment)
    if payment.refunded_krw == payment.captured_krw:
        _move(session, payment, "refunded", ("captured",))
    event = PaymentRefunded(
        payment_id=payment.id,
        reference=payment.reference,
        amount_krw=amount_krw,
        total_refunded_krw=payment.refunded_krw,
        user_id=payment.user_id,
    )
    return RefundOutcome(row, payment, [event])


def _refund_by_key(session: Session, payment_id: int, key: str) -> PaymentRefund | None:
    return session.scalar(
        select(PaymentRefund).where(
            PaymentRefund.payment_id == payment_id, PaymentRefund.idempotency_key == key
        )
    )


def payment_dict(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "state": payment.state,
        "amount_krw": payment.amount_krw,
        "captured_krw": payment.captured_krw,
        "refunded_krw": payment.refunded_krw,
        "purpose": payment.purpose,
        "reference": payment.reference,
        "redirect_url": payment.redirect_url,
        "return_url": payment.return_url,
        "provider": payment.provider,
        "provider_ref": payment.provider_ref,
        "created_at": payment.created_at.isoformat(),
        "captured_at": payment.captured_at.isoformat() if payment.captured_at else None,
    }


# ---------------------------------------------------------------- reconciliation


@dataclass
class ReconciliationRow:
    status: str  # matched, missing_ours, missing_theirs, amount_mismatch
    kind: str
    ref: str
    ours_krw: int | None
    theirs_krw: int | None
    payment_id: int | None


@dataclass
class Reconciliation:
    day: date
    rows: list[ReconciliationRow]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def summary(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "matched": self.count("matched"),
            "missing_ours": self.count("missing_ours"),
            "missing_theirs": self.count("missing_theirs"),
            "amount_mismatch": self.count("amount_mismatch"),
            "captured_krw": sum(r.ours_krw or 0 for r in self.rows if r.kind == "capture"),
            "refunded_krw": sum(r.ours_krw or 0 for r in self.rows if r.kind == "refund"),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "rows": [row.__dict__ for row in self.rows]}


def our_ledger(session: Session, day: date) -> dict[str, tuple[str, int, int]]:
    """Our captures and refunds of a Korean business day: op ref -> (kind, amount, payment id)."""
    start, end = seoul_day_bounds(day)
    ours: dict[str, tuple[str, int, int]] = {}
    for payment in session.scalars(
        select(Payment).where(
            Payment.captured_at >= start, Payment.captured_at < end, Payment.capture_ref.is_not(None)
        )
    ):
        ours[str(payment.capture_ref)] = ("capture", payment.captured_krw, payment.id)
    for row in session.scalars(
        select(PaymentRefund).where(PaymentRefund.created_at >= start, PaymentRefund.created_at < end)
    ):
        ours[row.provider_refund_ref] = ("refund", row.amount_krw, row.payment_id)
    return ours


def reconcile(session: Session, day: date, lines: list[SettlementLine]) -> Reconciliation:
    """Compare the provider's settlement lines with our ledger, line by line on the operation ref."""
    ours = our_ledger(session, day)
    rows: list[ReconciliationRow] = []
    for line in lines:
        mine = ours.pop(line.op_ref, None)
        if mine is None:
            rows.append(
                ReconciliationRow("missing_ours", line.kind, line.op_ref, None, line.amount_krw, None)
            )
            continue
        status = "matched" if mine[1] == line.amount_krw and mine[0] == line.kind else "amount_mismatch"
        rows.append(ReconciliationRow(status, line.kind, line.op_ref, mine[1], line.amount_krw, mine[2]))
    for ref, (kind, amount, payment_id) in sorted(ours.items()):
        rows.append(ReconciliationRow("missing_theirs", kind, ref, amount, None, payment_id))
    return Reconciliation(day, rows)


def reconcile_day(session: Session, settings: Settings, day: date) -> Reconciliation:
    """Fetch the provider's settlement for ``day`` and reconcile it."""
    return reconcile(session, day, provider_for(settings).settlement(session, day))


__all__ = [
    "CallbackRefused",
    "Outcome",
    "PaymentError",
    "ProviderError",
    "cancel",
    "get_payment",
    "handle_callback",
    "reconcile_day",
    "recover_pending",
    "refund",
    "start_payment",
]
