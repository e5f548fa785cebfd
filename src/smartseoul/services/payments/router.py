"""HTTP API and pages of payments: the citizen's payments, refunds (staff, Idempotency-Key), the
signed provider callback, reconciliation (API, CSV, page) and the simulated provider's hosted page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event
from smartseoul.services.payments import service
from smartseoul.services.payments.models import Payment, SimTransaction
from smartseoul.services.payments.provider import SEOUL, ProviderError, provider_for, settlement_csv
from smartseoul.services.payments.service import PaymentError
from smartseoul.web.deps import (
    check_csrf,
    client_address,
    db_session,
    get_platform,
    require,
    session_principal,
)
from smartseoul.web.pages import page_principal, render
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])
pages = APIRouter(include_in_schema=False)
STAFF = ("district_staff", "admin")
AUDITORS = ("district_staff", "admin", "auditor")
PaymentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, description="Unique per intended refund"),
]
SIGNATURE_HEADER = "X-Sim-Signature"


class RefundIn(BaseModel):
    amount_krw: int = Field(ge=1, le=100_000_000, description="Whole won to give back")
    reason: str = Field("", max_length=200)


def problem(error: PaymentError) -> Problem:
    return Problem(error.status, "Payment refused", str(error), error.code, field=error.field)


async def publish(platform: Platform, session: Session, events: list[Event]) -> None:
    """Commit first, then tell other domains (a consumer must never see an uncommitted payment)."""
    await run_in_threadpool(session.commit)
    for event in events:
        await platform.bus.publish(event)


def _visible(session: Session, request: Request, principal: Principal, payment_id: int) -> Payment:
    """Owners see their payment; staff reading another's payment leave a trace in the ledger."""
    try:
        payment = service.get_payment(session, payment_id)
    except PaymentError as error:
        raise problem(error) from None
    if payment.user_id == principal.id and principal.kind == "user":
        return payment
    if not principal.has_any(*AUDITORS):
        raise Problem(
            404, "Unknown payment", f"no payment {payment_id}", "unknown_payment", field="payment_id"
        )
    audit.record(
        session,
        actor=principal.name,
        action="payments.read",
        target=f"payment:{payment.id}",
        client=client_address(request),
        reason="staff view",
    )
    return payment


@router.get("", summary="My payments (a citizen's own)")
def my_payments(
    session: Session = Depends(db_session), principal: Principal = Depends(require())
) -> list[dict[str, Any]]:
    if principal.kind != "user":
        return []
    rows = session.scalars(
        select(Payment).where(Payment.user_id == principal.id).order_by(Payment.id.desc()).limit(200)
    )
    return [service.payment_dict(p) for p in rows]


@router.get("/reconciliation", summary="Reconcile a day against the provider's settlement file (staff)")
def reconciliation(
    request: Request,
    day: Annotated[date, Query(alias="date", description="Korean business day, YYYY-MM-DD")],
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*AUDITORS)),
) -> dict[str, Any]:
    report = service.reconcile_day(session, platform.settings, day)
    audit.record(
        session,
        actor=principal.name,
        action="payments.reconcile",
        target=day.isoformat(),
        client=client_address(request),
        details=report.summary(),
    )
    return report.as_dict()


@router.get("/settlement/sim", summary="The simulated provider's settlement file for a day (CSV, staff)")
def settlement(
    day: Annotated[date, Query(alias="date")],
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    _: Principal = Depends(require(*AUDITORS)),
) -> Response:
    lines = provider_for(platform.settings).settlement(session, day)
    return PlainTextResponse(settlement_csv(lines), media_type="text/csv")


@router.get("/{payment_id}", summary="One payment (its owner, or staff: audited)")
def get_payment(
    payment_id: PaymentId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require()),
) -> dict[str, Any]:
    return service.payment_dict(_visible(session, request, principal, payment_id))


@router.post("/{payment_id}/refunds", status_code=201, summary="Refund all or part (staff; Idempotency-Key)")
async def refund(
    payment_id: PaymentId,
    body: RefundIn,
    request: Request,
    idempotency_key: IdempotencyKey,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*STAFF)),
) -> dict[str, Any]:
    def work() -> service.RefundOutcome:
        outcome = service.refund(
            session,
            platform.settings,
            payment_id,
            amount_krw=body.amount_krw,
            idempotency_key=idempotency_key,
            reason=body.reason,
        )
        audit.record(
            session,
            actor=principal.name,
            action="payments.refund",
            target=f"payment:{payment_id}",
            client=client_address(request),
            details={"amount_krw": body.amount_krw, "key": idempotency_key},
        )
        return outcome

    try:
        outcome = await run_in_threadpool(work)
    except PaymentError as error:
        raise problem(error) from None
    except ProviderError as error:
        raise Problem(502, "Provider refused", str(error), error.code) from None
    result = {
        "refund_id": outcome.refund.id,
        "amount_krw": outcome.refund.amount_krw,
        "payment": service.payment_dict(outcome.payment),
    }
    await publish(platform, session, outcome.events)
    return result


@router.post("/callback/sim", summary="Signed callback of the simulated provider (HMAC, timestamp, nonce)")
async def sim_callback(
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    events = await run_in_threadpool(
        deliver_callback, platform, session, body[:8192], signature, client_address(request)
    )
    return {"ok": True, "events": len(events)}


def deliver_callback(
    platform: Platform, session: Session, body: bytes, signature: str, client: str
) -> list[Event]:
    """Verify and spend the nonce (committed at once, so even a callback that fails later cannot be
    replayed), then apply it; a refused one is written to the ledger and answered 4xx."""
    try:
        fields = service.verify_callback(session, platform.settings, body, signature)
        session.commit()
        outcome = service.apply_callback(session, platform.settings, fields)
    except (PaymentError, ProviderError) as error:
        session.rollback()
        refusal = (
            error
            if isinstance(error, PaymentError)
            else PaymentError(error.code, str(error), "provider_ref", 409)
        )
        service.audit_refusal(session, refusal, client=client, details=_peek(body))
        session.commit()
        raise problem(refusal) from None
    session.commit()
    return outcome.events


def _peek(body: bytes) -> dict[str, Any]:
    """What a refused callback claimed, for the ledger (never trusted)."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return {"body_bytes": len(body)}
    return (
        {k: data.get(k) for k in ("provider_ref", "event", "amount_krw", "timestamp", "nonce")}
        if isinstance(data, dict)
        else {"body_bytes": len(body)}
    )


# ---------------------------------------------------------------- the simulated provider's page


@pages.get("/pay/sim/{ref}")
def sim_page(
    ref: Annotated[str, Path(max_length=64)], request: Request, session: Session = Depends(db_session)
) -> Response:
    """The provider's hosted payment page (in a real deployment, on the provider's own site)."""
    tx = session.get(SimTransaction, ref)
    if tx is None:
        raise Problem(
            404, "Unknown payment", "the provider has no such payment", "unknown_transaction", field="ref"
        )
    principal = session_principal(request.app.state.platform, session, request)
    return render(request, "payments/sim_pay.html", principal=principal, tx=tx)


@pages.post("/pay/sim/{ref}")
async def sim_submit(
    ref: Annotated[str, Path(max_length=64)], request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    """Pay or cancel: the provider records it, posts its signed callback, then sends the browser back."""
    await check_csrf(request)
    form = await request.form()
    approve = str(form.get("action", "")) == "pay"

    def authorise() -> tuple[bytes, str, str]:
        with platform.db.session() as session:
            tx = session.get(SimTransaction, ref)
            if tx is None:
                raise Problem(404, "Unknown payment", "no such payment", "unknown_transaction", field="ref")
            body, signature = provider_for(platform.settings).authorise(session, ref, approve=approve)
            return body, signature, tx.return_url

    body, signature, return_url = await run_in_threadpool(authorise)

    def callback() -> list[Event]:
        with platform.db.session() as session:
            return deliver_callback(platform, session, body, signature, "payment-provider")

    try:
        events = await run_in_threadpool(callback)
        for event in events:
            await platform.bus.publish(event)
    except Problem:
        pass  # the merchant refused or was down: the recovery sweep asks the provider later
    return RedirectResponse(return_url or "/", status_code=303)


@pages.get("/console/payments/reconciliation")
def reconciliation_page(
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    principal = page_principal(request, session, *AUDITORS)
    chosen = day or datetime.now(SEOUL).date()
    report = service.reconcile_day(session, platform.settings, chosen)
    audit.record(
        session,
        actor=principal.name,
        action="payments.reconcile",
        target=chosen.isoformat(),
        client=client_address(request),
        details=report.summary(),
    )
    return render(request, "payments/reconciliation.html", principal=principal, report=report, day=chosen)
