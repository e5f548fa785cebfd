"""The editors' pages: ``/console/content`` (write a draft, the queue of drafts and reviews with
send-for-review, approve and send-back buttons) and ``/console/content/{id}`` (revision history,
what changed, restore). Plain HTML forms with the CSRF token: no JavaScript needed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from smartseoul.core.auth import Principal
from smartseoul.portal.content import service
from smartseoul.portal.content.models import DOCUMENT_KINDS
from smartseoul.portal.content.service import EDITOR_ROLES, Draft
from smartseoul.web.deps import check_csrf, db_session, record_denial
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
DocumentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ACTIONS = ("submit", "approve", "reject", "unpublish")


def _queue_page(
    request: Request, session: Session, principal: Principal, status: int = 200, **context: Any
) -> Response:
    return render(
        request,
        "content/editor.html",
        status=status,
        principal=principal,
        sites=service.editable_sites(session, principal),
        queue=service.work_queue(session, principal),
        kinds=DOCUMENT_KINDS,
        **context,
    )


@router.get("/console/content")
def editor_home(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *EDITOR_ROLES)
    return _queue_page(request, session, principal, message=request.query_params.get("done", ""))


@router.post("/console/content/new")
async def editor_create(
    request: Request,
    site: Annotated[str, Form(max_length=64)],
    path: Annotated[str, Form(max_length=300)],
    kind: Annotated[str, Form(max_length=16)],
    title: Annotated[str, Form(max_length=300)],
    body_html: Annotated[str, Form(max_length=500_000)] = "",
    session: Session = Depends(db_session),
) -> Response:
    await check_csrf(request)
    principal = page_principal(request, session, *EDITOR_ROLES)
    try:
        target = service.get_site(session, site)
        document = service.create_document(
            session, principal, target, path=path, kind=kind, draft=Draft(title=title, body_html=body_html)
        )
    except service.ContentError as error:
        session.rollback()
        return _queue_page(request, session, principal, status=422, error_field=error.field, error=str(error))
    except (service.NotFound, service.Forbidden) as error:
        session.rollback()
        record_denial(session, request, principal, str(error))
        return _queue_page(request, session, principal, status=403, error_field="site", error=str(error))
    session.commit()
    return RedirectResponse(f"/console/content/{document.id}", status_code=303)


@router.get("/console/content/{document_id}")
def editor_document(
    document_id: DocumentId, request: Request, session: Session = Depends(db_session)
) -> Response:
    principal = page_principal(request, session, *EDITOR_ROLES)
    try:
        document = service.get_document(session, document_id)
    except service.NotFound:
        return _queue_page(request, session, principal, status=404, error=f"no document {document_id}")
    if not service.may_edit(principal, document.site):
        record_denial(session, request, principal, f"content history of {document_id}")
        return _queue_page(request, session, principal, status=403, error="forbidden")
    history = service.revisions(session, document_id)
    compare_with = document.published.number if document.published else (history[-1].number if history else 1)
    changes = service.diff(session, document_id, compare_with, history[0].number) if history else []
    return render(
        request,
        "content/editor_document.html",
        principal=principal,
        document=document,
        history=history,
        changes=changes,
        compare_with=compare_with,
        may_approve=document.state == "review" and history and history[0].author != principal.name,
        message=request.query_params.get("done", ""),
    )


@router.post("/console/content/{document_id}/restore")
async def editor_restore(
    document_id: DocumentId,
    request: Request,
    number: Annotated[int, Form(ge=1, le=100_000)],
    session: Session = Depends(db_session),
) -> Response:
    await check_csrf(request)
    principal = page_principal(request, session, *EDITOR_ROLES)
    return _act(
        request,
        session,
        principal,
        document_id,
        lambda: service.restore(session, principal, document_id, number),
    )


@router.post("/console/content/{document_id}/{action}")
async def editor_action(
    document_id: DocumentId,
    action: Annotated[str, Path(pattern="^(submit|approve|reject|unpublish)$")],
    request: Request,
    reason: Annotated[str, Form(max_length=500)] = "",
    session: Session = Depends(db_session),
) -> Response:
    await check_csrf(request)
    principal = page_principal(request, session, *EDITOR_ROLES)

    def call() -> Any:
        if action == "reject":
            return service.reject(session, principal, document_id, reason)
        return getattr(service, action)(session, principal, document_id)

    return _act(request, session, principal, document_id, call)


def _act(request: Request, session: Session, principal: Principal, document_id: int, call: Any) -> Response:
    try:
        call()
    except service.Forbidden as error:
        session.rollback()
        record_denial(session, request, principal, str(error))
        return _queue_page(request, session, principal, status=403, error=str(error))
    except (service.NotFound, service.Conflict) as error:
        session.rollback()
        return _queue_page(request, session, principal, status=409, error=str(error))
    session.commit()
    return RedirectResponse(f"/console/content/{document_id}?done=1", status_code=303)
