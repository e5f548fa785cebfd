"""Tables of the payments domain.

Our side: ``payments_payments`` (one per fee to collect), ``payments_refunds`` and
``payments_callback_nonces`` (every callback nonce seen, so a replay is refused by the primary key).
The simulated provider's side (``payments_sim_*``) stands in for the remote provider's own ledger: it
is what the provider's settlement file is made from, and it never shares a row with our side, so
reconciliation compares two independent records exactly as it would with a real provider.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

PAYMENT_STATES = ("created", "pending", "authorised", "captured", "refunded", "failed", "cancelled")
SIM_STATES = ("open", "authorised", "captured", "declined", "cancelled")


class Payment(Base):
    """A fee the city collects; the idempotency key makes a double click the same payment."""

    __tablename__ = "payments_payments"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_payments_payments_user_key"),
        CheckConstraint("amount_krw > 0", name="amount_positive"),
        CheckConstraint("refunded_krw >= 0 AND refunded_krw <= captured_krw", name="refund_bounded"),
        CheckConstraint("captured_krw >= 0 AND captured_krw <= amount_krw", name="capture_bounded"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    amount_krw: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(100), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(32), default="sim")
    provider_ref: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    capture_ref: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    redirect_url: Mapped[str] = mapped_column(String(500), default="")
    return_url: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16), default="created", index=True)
    captured_krw: Mapped[int] = mapped_column(Integer, default=0)
    refunded_krw: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PaymentRefund(Base):
    """A full or partial refund; its idempotency key makes a retried refund the same refund."""

    __tablename__ = "payments_refunds"
    __table_args__ = (
        UniqueConstraint("payment_id", "idempotency_key", name="uq_payments_refunds_payment_key"),
        CheckConstraint("amount_krw > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments_payments.id", ondelete="CASCADE"), index=True
    )
    amount_krw: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    provider_refund_ref: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallbackNonce(Base):
    """Each callback nonce accepted once: a replayed callback collides on the primary key."""

    __tablename__ = "payments_callback_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_ref: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimTransaction(Base):
    """The simulated provider's own record of a payment (what a real provider keeps on its side)."""

    __tablename__ = "payments_sim_transactions"
    __table_args__ = (CheckConstraint("amount_krw > 0", name="amount_positive"),)

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount_krw: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200), default="")
    return_url: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    captured_krw: Mapped[int] = mapped_column(Integer, default=0)
    refunded_krw: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SimOperation(Base):
    """A capture or refund on the provider's side: one line of its daily settlement file.

    The provider, like real ones, deduplicates on the merchant's idempotency key.
    """

    __tablename__ = "payments_sim_operations"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_payments_sim_operations_key"),)

    op_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_ref: Mapped[str] = mapped_column(
        ForeignKey("payments_sim_transactions.ref", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    amount_krw: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
