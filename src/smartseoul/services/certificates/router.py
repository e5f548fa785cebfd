"""HTTP API and pages of certificate documents: request, download, verify, check a PDF, revoke."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event
from smartseoul.services.certificates import service
from smartseoul.services.identity.deps import Assured, assurance_for, check_level, require_assurance
from smartseoul.services.identity.ui import civil_render
from smartseoul.web.deps import (
    check_csrf,
    client_address,
    db_session,
    get_platform,
    optional_principal,
    require,
    session_principal,
)
from smartseoul.web.pages import page_principal
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])
pages = APIRouter(include_in_schema=False)
Number = Annotated[str, Path(max_length=32, description="Verification number, e.g. SS-2026-1234-5678-9012")]
MAX_PDF = 5 * 1024 * 1024


class DocumentIn(BaseModel):
    kind: str = Field(examples=["local_tax"], description="local_tax, resident or facility_use")
    purpose: str = Field("", max_length=200, examples=["은행 제출용"])
    facility: str = Field("", max_length=100, description="facility_use: the facility")
    used_on: str = Field("", max_length=10, description="facility_use: date of use, YYYY-MM-DD")
    booking: str = Field("", max_length=40, description="facility_use: booking number, if any")


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


def _problem(error: service.DocumentError) -> Problem:
    extra: dict[str, Any] = {"field": error.field} if error.field else {}
    return Problem(error.status, "Refused", error.detail, error.code, **extra)


def _kinds(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind.key,
            "service": kind.service_code,
            "title_ko": kind.title_ko,
            "title_en": kind.title_en,
            "assurance": service.needed_assurance(session, kind.key),
            "fee_krw": service.fee_of(session, kind.key),
        }
        for kind in service.KINDS.values()
    ]


@router.get("/kinds", summary="The documents a citizen can request, with the assurance each needs")
def kinds(session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    return _kinds(session)


@router.post(
    "/documents",
    status_code=201,
    summary="Request a document: sealed (PAdES) at once, or after its fee is paid at pay_url",
)
def request_document(
    body: DocumentIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    assured: Assured = Depends(require_assurance("login")),
) -> dict[str, Any]:
    try:
        needed = service.needed_assurance(session, body.kind)
        check_level(request, session, assured.principal, needed, ("citizen",))
        assert assured.principal is not None
        requested = service.request(
            session,
            platform.settings,
            user_id=assured.principal.id,
            kind_key=body.kind,
            purpose=body.purpose.strip(),
            form=body.model_dump(include={"facility", "used_on", "booking"}),
            client=client_address(request),
        )
    except service.DocumentError as error:
        raise _problem(error) from None
    session.commit()
    return {**service.document_dict(requested.document), "pay_url": requested.pay_url}


@router.get("/documents", summary="My documents")
def my_documents(
    session: Session = Depends(db_session), assured: Assured = Depends(require_assurance("login"))
) -> list[dict[str, Any]]:
    assert assured.principal is not None
    return [
        service.document_dict(document) for document in service.documents_of(session, assured.principal.id)
    ]


@router.get("/documents/{number}.pdf", summary="Download my signed document (the assurance its kind needs)")
def download(
    number: Number,
    request: Request,
    session: Session = Depends(db_session),
    assured: Assured = Depends(require_assurance("login")),
) -> Response:
    assert assured.principal is not None
    try:
        owned = service.find(session, number)
        if owned is not None and owned.user_id == assured.principal.id:
            check_level(
                request,
                session,
                assured.principal,
                service.needed_assurance(session, owned.kind),
                ("citizen",),
            )
        document = service.document_for_owner(
            session,
            number,
            assured.principal.id,
            actor=assured.principal.name,
            client=client_address(request),
        )
    except service.DocumentError as error:
        raise _problem(error) from None
    session.commit()
    return Response(
        document.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{number}.pdf"', "Cache-Control": "no-store"},
    )


@router.get("/{number}/verify", summary="Is this verification number valid, revoked or unknown? (anyone)")
def verify(number: Number, request: Request, session: Session = Depends(db_session)) -> dict[str, Any]:
    if not service.well_formed(number):
        raise Problem(
            422,
            "Invalid number",
            "number: SS-YYYY-NNNN-NNNN-NNNN with a valid check digit",
            "invalid_number",
            field="number",
        )
    result = service.verification(session, number, client=client_address(request))
    session.commit()
    return result


async def _read_pdf(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_PDF + 1)
    if len(data) > MAX_PDF:
        raise Problem(
            413,
            "File too large",
            f"file: at most {MAX_PDF // (1024 * 1024)} MB",
            "file_too_large",
            field="file",
        )
    if not data:
        raise Problem(422, "Empty file", "file: choose the PDF to check", "empty_file", field="file")
    return data


@router.post("/check", summary="Check a PDF: the city seal validates and the bytes are the ones issued")
async def check(
    request: Request,
    file: UploadFile = File(description="The document PDF"),
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    data = await _read_pdf(file)

    def run() -> dict[str, Any]:
        result = service.check_upload(session, platform.settings, data, client=client_address(request))
        session.commit()
        return result

    return await run_in_threadpool(run)


@router.post("/{number}/revoke", summary="Revoke an issued document (district staff, admin)")
def revoke(
    number: Number,
    body: RevokeIn,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*service.STAFF)),
) -> dict[str, Any]:
    try:
        document = service.revoke(session, number, actor=principal.name, reason=body.reason)
    except service.DocumentError as error:
        raise _problem(error) from None
    session.commit()
    return service.document_dict(document)


# ---------------------------------------------------------------- pages


def _own(session: Session, number: str | None, user_id: int) -> Any:
    """The citizen's own document named in the page's ``issued`` parameter (None otherwise)."""
    document = service.find(session, number) if number else None
    return document if document is not None and document.user_id == user_id else None


def _documents_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status: int = 200,
    issued: Any = None,
    error: str | None = None,
    prefill: dict[str, str] | None = None,
) -> Response:
    """The documents page: what may be requested at the assurance held, and the citizen's own."""
    documents = service.documents_of(session, principal.id)
    return civil_render(
        request,
        "certificates/documents.html",
        status=status,
        principal=principal,
        kinds=_kinds(session),
        held=assurance_for(request, session, principal),
        rank={"none": 0, "login": 1, "certificate": 2},
        documents=documents,
        pay_links=service.payment_links(session, documents),
        request_key=secrets.token_urlsafe(12),
        issued=issued,
        error=error,
        prefill=prefill or {},
    )


@pages.get("/services/documents")
def documents_page(
    request: Request,
    session: Session = Depends(db_session),
    issued: str | None = None,
    booking: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Request a document and see the ones issued; each kind says which assurance it needs.
    ``booking`` (a link from the citizen's bookings) fills in the facility use confirmation."""
    principal = page_principal(request, session, "citizen")
    prefill: dict[str, str] | None = None
    error = None
    if booking is not None:
        try:
            prefill = service.booked_use(session, principal.id, str(booking))
        except service.DocumentError as refused:
            error = refused.detail
    return _documents_page(
        request,
        session,
        principal,
        issued=_own(session, issued, principal.id),
        error=error,
        prefill=prefill,
    )


@pages.get("/services/documents/{number}/return")
async def payment_return(
    number: Number,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
) -> Response:
    """Back from the payment page: the document is sealed at once if its fee was captured (also
    when the provider's callback was lost), then the page shows it ready to download."""
    principal = await run_in_threadpool(page_principal, request, session, "citizen")

    def work() -> list[Event]:
        document = _own(session, number, principal.id)
        if document is None:
            return []
        events = service.sync_payment(session, platform.settings, document)
        session.commit()
        return events

    for event in await run_in_threadpool(work):
        await platform.bus.publish(event)
    return RedirectResponse(f"/services/documents?issued={number}", status_code=303)


@pages.post("/services/documents")
async def documents_submit(
    request: Request, platform: Platform = Depends(get_platform), session: Session = Depends(db_session)
) -> Response:
    principal = await run_in_threadpool(page_principal, request, session, "citizen")
    await check_csrf(request)
    form = {key: str(value)[:200] for key, value in (await request.form()).items() if key != "csrf_token"}

    def attempt() -> str:
        needed = service.needed_assurance(session, form.get("kind", ""))
        check_level(request, session, principal, needed, ("citizen",))
        requested = service.request(
            session,
            platform.settings,
            user_id=principal.id,
            kind_key=form.get("kind", ""),
            purpose=form.get("purpose", "").strip(),
            form=form,
            client=client_address(request),
            request_key=form.get("key", ""),
        )
        session.commit()
        return requested.pay_url or f"/services/documents?issued={requested.document.number}"

    try:
        target = await run_in_threadpool(attempt)
    except (service.DocumentError, Problem) as error:
        message = error.detail if isinstance(error, service.DocumentError) else str(error.detail)
        status = error.status
    else:
        return RedirectResponse(target, status_code=303)
    kept = {key: form.get(key, "") for key in ("facility", "used_on", "booking")}
    await run_in_threadpool(session.rollback)
    return await run_in_threadpool(
        lambda: _documents_page(request, session, principal, status=status, error=message, prefill=kept)
    )


@pages.get("/verify")
def verify_form(
    request: Request, session: Session = Depends(db_session), number: str | None = None
) -> Response:
    if number:
        return RedirectResponse(f"/verify/{number.strip()[:32]}", status_code=303)
    principal = session_principal(request.app.state.platform, session, request)
    return civil_render(
        request, "certificates/verify.html", principal=principal, result=None, number="", check=None
    )


@pages.get("/verify/{number}")
def verify_page(number: Number, request: Request, session: Session = Depends(db_session)) -> Response:
    """What the QR code on a document opens: valid, revoked or unknown, in large type."""
    principal = session_principal(request.app.state.platform, session, request)
    result = (
        service.verification(session, number, client=client_address(request))
        if service.well_formed(number)
        else {"number": number, "status": "unknown"}
    )
    session.commit()
    return civil_render(
        request, "certificates/verify.html", principal=principal, result=result, number=number, check=None
    )


@pages.post("/verify")
async def verify_upload(
    request: Request,
    file: UploadFile = File(),
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    _principal: Principal | None = Depends(optional_principal),
) -> Response:
    await check_csrf(request)
    try:
        data = await _read_pdf(file)
    except Problem as error:
        return civil_render(
            request,
            "certificates/verify.html",
            status=error.status,
            principal=_principal,
            result=None,
            number="",
            check={"status": "unreadable", "problem": error.detail},
        )
    result = await run_in_threadpool(
        service.check_upload, session, platform.settings, data, client=client_address(request)
    )
    session.commit()
    return civil_render(
        request,
        "certificates/verify.html",
        principal=_principal,
        result=None,
        number=result.get("number", ""),
        check=result,
    )


@pages.get("/console/certificates")
def console(request: Request, session: Session = Depends(db_session)) -> Response:
    """Staff: the latest documents, with revocation (reading holders' names is audited)."""
    principal = page_principal(request, session, *service.STAFF)
    from smartseoul.core import audit

    documents = service.recent(session)
    audit.record(
        session,
        actor=principal.name,
        action="certificates.list",
        target="documents:recent",
        client=client_address(request),
    )
    session.commit()
    return civil_render(
        request, "certificates/console.html", principal=principal, documents=documents, kinds=service.KINDS
    )


@pages.post("/console/certificates/{number}/revoke")
async def console_revoke(
    number: Number, request: Request, session: Session = Depends(db_session)
) -> Response:
    principal = page_principal(request, session, *service.STAFF)
    await check_csrf(request)
    reason = str((await request.form()).get("reason", ""))[:200]
    try:
        service.revoke(session, number, actor=principal.name, reason=reason or "revoked by staff")
    except service.DocumentError as error:
        raise _problem(error) from None
    session.commit()
    return RedirectResponse("/console/certificates", status_code=303)
