"""The payment-provider adapter and a realistic simulated provider.

A provider is anything with :class:`PaymentProvider`'s methods; the city can plug in a real PG
(Toss, KG Inicis, ...) without touching the payment states. The simulated provider behaves like a
real hosted-payment-page provider: it keeps its own ledger (``payments_sim_*``), shows its own page
at ``/pay/sim/{ref}``, signs its callbacks (HMAC-SHA256 over the body, which carries a timestamp and
a nonce), deduplicates captures and refunds on the merchant's idempotency key, and publishes a
daily settlement file (CSV) to reconcile against.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.settings import Settings
from smartseoul.services.payments.models import SimOperation, SimTransaction

SEOUL = ZoneInfo("Asia/Seoul")
SETTLEMENT_COLUMNS = ("op_ref", "transaction_ref", "merchant_ref", "kind", "amount_krw", "at")


def affected(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed: how a conditional UPDATE tells the one transaction that won."""
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount)


class ProviderError(RuntimeError):
    """The provider refused an operation (``code`` says which rule)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ProviderStatus:
    ref: str
    state: str
    amount_krw: int
    captured_krw: int
    refunded_krw: int


@dataclass(frozen=True)
class SettlementLine:
    op_ref: str
    transaction_ref: str
    merchant_ref: str
    kind: str
    amount_krw: int
    at: datetime


class PaymentProvider(Protocol):
    """What the payments service needs from a provider; every money-moving call is idempotent."""

    name: str

    def create(
        self, session: Session, *, merchant_ref: str, amount_krw: int, description: str, return_url: str
    ) -> tuple[str, str]:
        """Open a payment; returns (provider reference, URL of the hosted payment page)."""
        ...

    def status(self, session: Session, ref: str) -> ProviderStatus: ...

    def capture(self, session: Session, ref: str, amount_krw: int, idempotency_key: str) -> str:
        """Take an authorised amount; returns the capture's reference (the same one for a retry)."""
        ...

    def refund(self, session: Session, ref: str, amount_krw: int, idempotency_key: str) -> str: ...

    def cancel(self, session: Session, ref: str) -> str:
        """Void a payment not yet captured; returns the state it ends in."""
        ...

    def settlement(self, session: Session, day: date) -> list[SettlementLine]: ...


def callback_secret(settings: Settings) -> bytes:
    """The key the simulated provider signs with (configured, or derived from the platform secret)."""
    if settings.payments_sim_secret:
        return settings.payments_sim_secret.encode()
    return hmac.new(
        settings.effective_secret_key().encode(), b"payments-sim-callback", hashlib.sha256
    ).digest()


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def seoul_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a Korean business day (the settlement day) starts and ends."""
    start = datetime.combine(day, time(0), tzinfo=SEOUL)
    return start, start + timedelta(days=1)


def settlement_csv(lines: list[SettlementLine]) -> str:
    """The provider's settlement file: one line per capture or refund of the day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SETTLEMENT_COLUMNS)
    for line in lines:
        writer.writerow(
            (
                line.op_ref,
                line.transaction_ref,
                line.merchant_ref,
                line.kind,
                line.amount_krw,
                line.at.isoformat(),
            )
        )
    return out.getvalue()


def parse_settlement_csv(text: str) -> list[SettlementLine]:
    """Read a settlement file back; a malformed file raises ValueError naming the line."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != SETTLEMENT_COLUMNS:
        raise ValueError(f"settlement header must be {','.join(SETTLEMENT_COLUMNS)}")
    lines = []
    for number, row in enumerate(reader, start=2):
        try:
            lines.append(
                SettlementLine(
                    row["op_ref"],
                    row["transaction_ref"],
                    row["merchant_ref"],
                    row["kind"],
                    int(row["amount_krw"]),
                    datetime.fromisoformat(row["at"]),
                )
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ValueError(f"settlement line {number}: {error}") from None
    return lines


class SimulatedProvider:
    """A provider in the same process and database, with the behaviour (and failures) of a real one."""

    name = "sim"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def create(
        self, session: Session, *, merchant_ref: str, amount_krw: int, description: str, return_url: str
    ) -> tuple[str, str]:
        existing = session.scalar(select(SimTransaction).where(SimTransaction.merchant_ref == merchant_ref))
        if existing is None:
            existing = SimTransaction(
                ref="sim_" + secrets.token_hex(12),
                merchant_ref=merchant_ref,
                amount_krw=amount_krw,
                description=description[:200],
                return_url=return_url[:500],
                created_at=utcnow(),
            )
            session.add(existing)
            session.flush()
        return existing.ref, f"/pay/sim/{existing.ref}"

    def _transaction(self, session: Session, ref: str) -> SimTransaction:
        found = session.get(SimTransaction, ref)
        if found is None:
            raise ProviderError("unknown_transaction", f"the provider has no transaction {ref}")
        return found

    def status(self, session: Session, ref: str) -> ProviderStatus:
        tx = self._transaction(session, ref)
        session.refresh(tx)
        return ProviderStatus(tx.ref, tx.state, tx.amount_krw, tx.captured_krw, tx.refunded_krw)

    def authorise(self, session: Session, ref: str, *, approve: bool) -> tuple[bytes, str]:
        """The citizen pressed Pay (or Cancel) on the hosted page: returns the signed callback."""
        tx = self._transaction(session, ref)
        if tx.state == "open":
            tx.state = "authorised" if approve else "declined"
            tx.authorised_at = utcnow()
            session.flush()
        return self.callback_for(tx)

    def callback_for(self, tx: SimTransaction) -> tuple[bytes, str]:
        """A fresh signed callback (new nonce and timestamp) telling the merchant the state."""
        event = "authorised" if tx.state in ("authorised", "captured") else tx.state
        body = json.dumps(
            {
                "provider_ref": tx.ref,
                "merchant_ref": tx.merchant_ref,
                "event": event,
                "amount_krw": tx.amount_krw,
                "timestamp": int(utcnow().timestamp()),
                "nonce": secrets.token_hex(16),
            },
            separators=(",", ":"),
        ).encode()
        return body, sign(callback_secret(self.settings), body)

    def _operation(self, session: Session, idempotency_key: str) -> SimOperation | None:
        return session.scalar(select(SimOperation).where(SimOperation.idempotency_key == idempotency_key))

    def _record(self, session: Session, tx: SimTransaction, kind: str, amount: int, key: str) -> str:
        """Record one operation, or hand back the one already recorded under ``key``."""
        op = SimOperation(
            op_ref=f"{kind[:3]}_" + secrets.token_hex(10),
            transaction_ref=tx.ref,
            kind=kind,
            amount_krw=amount,
            idempotency_key=key,
            at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(op)
        except IntegrityError:
            again = self._operation(session, key)
            if again is None:
                raise
            return again.op_ref
        return op.op_ref

    def capture(self, session: Session, ref: str, amount_krw: int, idempotency_key: str) -> str:
        done = self._operation(session, idempotency_key)
        if done is not None:
            return done.op_ref
        tx = self._transaction(session, ref)
        if amount_krw != tx.amount_krw:
            raise ProviderError(
                "amount_mismatch", f"capture {amount_krw} KRW of a {tx.amount_krw} KRW payment"
            )
        taken = affected(
            session,
            update(SimTransaction)
            .where(SimTransaction.ref == ref, SimTransaction.state == "authorised")
            .values(state="captured", captured_krw=amount_krw),
        )
        if not taken:
            session.refresh(tx)
            raise ProviderError("not_authorised", f"transaction {ref} is {tx.state}, not authorised")
        return self._record(session, tx, "capture", amount_krw, idempotency_key)

    def refund(self, session: Session, ref: str, amount_krw: int, idempotency_key: str) -> str:
        done = self._operation(session, idempotency_key)
        if done is not None:
            return done.op_ref
        tx = self._transaction(session, ref)
        taken = affected(
            session,
            update(SimTransaction)
            .where(
                SimTransaction.ref == ref,
                SimTransaction.state == "captured",
                SimTransaction.refunded_krw + amount_krw <= SimTransaction.captured_krw,
            )
            .values(refunded_krw=SimTransaction.refunded_krw + amount_krw),
        )
        if not taken:
            raise ProviderError("refund_refused", f"cannot refund {amount_krw} KRW of transaction {ref}")
        return self._record(session, tx, "refund", amount_krw, idempotency_key)

    def cancel(self, session: Session, ref: str) -> str:
        session.execute(
            update(SimTransaction)
            .where(SimTransaction.ref == ref, SimTransaction.state.in_(("open", "authorised")))
            .values(state="cancelled")
        )
        return self.status(session, ref).state

    def settlement(self, session: Session, day: date) -> list[SettlementLine]:
        start, end = seoul_day_bounds(day)
        rows = session.execute(
            select(SimOperation, SimTransaction.merchant_ref)
            .join(SimTransaction, SimTransaction.ref == SimOperation.transaction_ref)
            .where(SimOperation.at >= start, SimOperation.at < end)
            .order_by(SimOperation.at, SimOperation.op_ref)
        ).all()
        return [
            SettlementLine(op.op_ref, op.transaction_ref, merchant, op.kind, op.amount_krw, op.at)
            for op, merchant in rows
        ]


def provider_for(settings: Settings) -> SimulatedProvider:
    """The configured provider (only the simulated one ships; a real adapter slots in here)."""
    return SimulatedProvider(settings)
