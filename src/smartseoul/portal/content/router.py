"""The JSON content API, one for the web, the mobile app pages and the TV UI alike.

Public: sites, their navigation and published documents, attachments, and ``GET /api/v1/search``.
Editors (admin, or district staff on their district's sites): drafts, review, approval by a second
person, revision history and restore, and the importer of an old site's HTML files (a zip).
"""

from __future__ import annotations

import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.portal.content import importer, search, service
from smartseoul.portal.content.models import ContentAttachment
from smartseoul.portal.content.pages import parse_filters, parse_sort
from smartseoul.portal.content.reading import read_session
from smartseoul.portal.content.service import EDITOR_ROLES, Draft
from smartseoul.web.deps import db_session, get_platform, record_denial, require
from smartseoul.web.i18n import choose_language
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["content"])
Slug = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
DocumentId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


class DocumentIn(BaseModel):
    """A new document or a new revision of one. ``body_html`` is sanitised before it is stored."""

    title: str = Field(max_length=300, examples=["겨울철 독서교실 안내"])
    body_html: str = Field("", max_length=500_000)
    summary: str = Field("", max_length=2000)
    event_start: datetime | None = None
    event_end: datetime | None = None
    location: str = Field("", max_length=300)
    note: str = Field("", max_length=300, description="What changed (shown in the history)")

    def draft(self) -> Draft:
        return Draft(**self.model_dump())


class NewDocumentIn(DocumentIn):
    path: str = Field(max_length=300, examples=["news/2026-winter-reading"])
    kind: str = Field(examples=["news"], description="page, news, notice, event or service")


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=500)


def _problem(error: Exception) -> Problem:
    if isinstance(error, service.ContentError):
        return Problem(422, "Invalid content", str(error), "invalid_content", field=error.field)
    if isinstance(error, service.NotFound):
        return Problem(404, "Not found", str(error), "unknown_content")
    if isinstance(error, service.Conflict):
        return Problem(409, "Not possible now", str(error), "content_state")
    return Problem(403, "Forbidden", str(error), "forbidden")


def _lang(request: Request) -> str:
    return choose_language(request, request.app.state.platform.settings.language)


def _site(session: Session, slug: str) -> Any:
    try:
        return service.get_site(session, slug)
    except service.NotFound as error:
        raise _problem(error) from None


@router.get("/content/sites", summary="Every site of the city (public)")
def list_sites(
    request: Request,
    session: Session = Depends(read_session),
    kind: Annotated[str | None, Query(pattern="^(city|district|department|facility)$")] = None,
) -> list[dict[str, Any]]:
    lang = _lang(request)
    return [service.site_dict(site, lang) for site in service.list_sites(session, kind, with_nav=True)]


@router.get("/content/sites/{slug}", summary="One site with its navigation and latest documents (public)")
def get_site(slug: Slug, request: Request, session: Session = Depends(read_session)) -> dict[str, Any]:
    lang = _lang(request)
    site = _site(session, slug)
    body = service.site_dict(site, lang)
    body["latest"] = [
        service.document_dict(d, lang=lang, full=False)
        for d in service.latest_published(session, site=site, limit=20)
    ]
    return body


@router.get("/content/documents", summary="Latest published documents across sites (public)")
def latest_documents(
    request: Request,
    session: Session = Depends(read_session),
    kind: Annotated[str | None, Query(pattern="^(page|news|notice|event|service)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    lang = _lang(request)
    docs = service.latest_published(session, kind=kind, limit=limit)
    return [service.document_dict(d, lang=lang, full=False) for d in docs]


@router.get("/content/sites/{slug}/pages/{path:path}", summary="A published document by its address (public)")
def get_page(
    slug: Slug, path: str, request: Request, session: Session = Depends(read_session)
) -> dict[str, Any]:
    site = _site(session, slug)
    try:
        document = service.published_document(session, site, path)
    except service.NotFound as error:
        raise _problem(error) from None
    body = service.document_dict(document, lang=_lang(request))
    body["attachments"] = [_attachment_dict(a) for a in service.attachments(session, document.id)]
    return body


def _attachment_dict(attachment: ContentAttachment) -> dict[str, Any]:
    return {
        "filename": attachment.filename,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "url": f"/api/v1/content/attachments/{attachment.stored_name}",
    }


@router.get("/content/attachments/{stored_name}", summary="An attachment of a published document (public)")
def get_attachment(
    stored_name: Annotated[str, PathParam(pattern=r"^[a-f0-9]{32}\.[a-z0-9]{1,10}$")],
    platform: Platform = Depends(get_platform),
    session: Session = Depends(read_session),
) -> FileResponse:
    attachment = importer.published_attachment(session, stored_name)
    path = importer.attachment_dir(platform.settings) / stored_name
    if attachment is None or not path.is_file():
        raise Problem(404, "Not found", f"no attachment {stored_name}", "unknown_attachment")
    return FileResponse(path, media_type=attachment.media_type, filename=attachment.filename)


@router.get("/search", summary="Search every site (Korean words inside longer phrases are found)")
def search_api(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    session: Session = Depends(read_session),
    site: Annotated[str, Query(max_length=64)] = "",
    type: Annotated[str, Query(max_length=16, description="page, news, notice, event or service")] = "",
    since: Annotated[str, Query(alias="from", max_length=10, description="YYYY-MM-DD (Seoul)")] = "",
    until: Annotated[str, Query(alias="to", max_length=10, description="YYYY-MM-DD (Seoul, inclusive)")] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    sort: Annotated[
        str,
        Query(max_length=16, description="date (newest first, the default) or relevance (best match first)"),
    ] = "date",
) -> dict[str, Any]:
    try:
        filters = parse_filters(site, type, since, until)
        order = parse_sort(sort)
    except service.ContentError as error:
        raise _problem(error) from None
    if search.parse_query(q).empty:
        raise Problem(422, "Invalid query", "the query has no letters or digits", "invalid_query", field="q")
    total, hits = search.search(session, q, filters, limit=limit, offset=offset, sort=order)
    lang = _lang(request)
    return {"total": total, "items": [service.document_dict(d, lang=lang, full=False) for d in hits]}


# ---------------------------------------------------------------- editors


def _editor_call(request: Request, session: Session, principal: Principal, call: Any) -> Any:
    """Run a service call; a refusal is written to the ledger before the 403 goes out."""
    try:
        return call()
    except service.Forbidden as error:
        session.rollback()
        record_denial(session, request, principal, str(error))
        raise _problem(error) from None
    except (service.ContentError, service.NotFound, service.Conflict) as error:
        raise _problem(error) from None


def _editor_view(session: Session, document_id: int) -> dict[str, Any]:
    document = service.get_document(session, document_id)
    latest = service.latest_revision(session, document_id)
    return {
        "id": document.id,
        "site": document.site.slug,
        "path": document.path,
        "kind": document.kind,
        "state": document.state,
        "published_revision": document.published.number if document.published else None,
        "latest": service.revision_dict(latest),
        "url": f"/sites/{document.site.slug}/{document.path}",
    }


@router.post("/content/sites/{slug}/documents", status_code=201, summary="Create a draft (editors)")
def create_document(
    slug: Slug,
    body: NewDocumentIn,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> dict[str, Any]:
    site = _site(session, slug)
    draft = Draft(**body.model_dump(exclude={"path", "kind"}))
    document = _editor_call(
        request,
        session,
        principal,
        lambda: service.create_document(
            session, principal, site, path=body.path, kind=body.kind, draft=draft
        ),
    )
    view = _editor_view(session, document.id)
    session.commit()
    return view


@router.get("/content/documents/{document_id}", summary="A document as its editors see it (drafts too)")
def editor_document(
    document_id: DocumentId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        document = service.get_document(session, document_id)
        if not service.may_edit(principal, document.site):
            raise service.Forbidden(f"{principal.name} may not edit site {document.site.slug}")
        return _editor_view(session, document_id)

    return dict(_editor_call(request, session, principal, check))


@router.put("/content/documents/{document_id}", summary="Save a new draft revision (editors)")
def edit_document(
    document_id: DocumentId,
    body: DocumentIn,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> dict[str, Any]:
    _editor_call(
        request,
        session,
        principal,
        lambda: service.edit_document(session, principal, document_id, body.draft()),
    )
    view = _editor_view(session, document_id)
    session.commit()
    return view


def _transition(name: str) -> Any:
    def change(
        document_id: DocumentId,
        request: Request,
        body: ReasonIn | None = None,
        session: Session = Depends(db_session),
        principal: Principal = Depends(require(*EDITOR_ROLES)),
    ) -> dict[str, Any]:
        def act() -> Any:
            if name == "reject":
                return service.reject(session, principal, document_id, body.reason if body else "")
            return getattr(service, name)(session, principal, document_id)

        _editor_call(request, session, principal, act)
        view = _editor_view(session, document_id)
        session.commit()
        return view

    return change


router.post("/content/documents/{document_id}/submit", summary="Send a draft for review (editors)")(
    _transition("submit")
)
router.post(
    "/content/documents/{document_id}/approve",
    summary="Approve and publish the revision under review (an editor other than its author)",
)(_transition("approve"))
router.post("/content/documents/{document_id}/reject", summary="Send a revision back to draft (editors)")(
    _transition("reject")
)
router.post("/content/documents/{document_id}/unpublish", summary="Take a document offline (editors)")(
    _transition("unpublish")
)


@router.get("/content/documents/{document_id}/revisions", summary="Revision history, newest first (editors)")
def list_revisions(
    document_id: DocumentId,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> list[dict[str, Any]]:
    def history() -> list[dict[str, Any]]:
        document = service.get_document(session, document_id)
        if not service.may_edit(principal, document.site):
            raise service.Forbidden(f"{principal.name} may not edit site {document.site.slug}")
        return [service.revision_dict(r) for r in service.revisions(session, document_id)]

    return list(_editor_call(request, session, principal, history))


@router.get(
    "/content/documents/{document_id}/revisions/{old}/diff/{new}",
    summary="What changed between two revisions, as a unified diff of the text (editors)",
)
def diff_revisions(
    document_id: DocumentId,
    old: Annotated[int, PathParam(ge=1, le=100_000)],
    new: Annotated[int, PathParam(ge=1, le=100_000)],
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> dict[str, Any]:
    def compare() -> dict[str, Any]:
        document = service.get_document(session, document_id)
        if not service.may_edit(principal, document.site):
            raise service.Forbidden(f"{principal.name} may not edit site {document.site.slug}")
        return {"old": old, "new": new, "diff": service.diff(session, document_id, old, new)}

    return dict(_editor_call(request, session, principal, compare))


@router.post(
    "/content/documents/{document_id}/revisions/{number}/restore",
    summary="Copy an old revision into a new draft (editors)",
)
def restore_revision(
    document_id: DocumentId,
    number: Annotated[int, PathParam(ge=1, le=100_000)],
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> dict[str, Any]:
    _editor_call(
        request, session, principal, lambda: service.restore(session, principal, document_id, number)
    )
    view = _editor_view(session, document_id)
    session.commit()
    return view


@router.post(
    "/content/sites/{slug}/import", summary="Import an old site: a zip of HTML files and attachments"
)
async def import_site(
    slug: Slug,
    request: Request,
    archive: Annotated[UploadFile, File(description="A .zip of the old site's folder")],
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITOR_ROLES)),
) -> dict[str, Any]:
    site = _site(session, slug)
    if not service.may_edit(principal, site):
        await run_in_threadpool(record_denial, session, request, principal, f"import into {slug}")
        raise Problem(403, "Forbidden", f"{principal.name} may not edit site {slug}", "forbidden")
    data = await archive.read()

    def run() -> importer.ImportReport:
        with tempfile.TemporaryDirectory() as folder:
            try:
                importer.unpack(data, Path(folder), platform.settings.content_import_max_bytes)
            except (zipfile.BadZipFile, importer.ImportRefused) as error:
                raise Problem(
                    422, "Invalid archive", str(error), "invalid_archive", field="archive"
                ) from None
            return importer.import_folder(
                session, platform.settings, site, Path(folder), actor=principal.name
            )

    report = await run_in_threadpool(run)
    await run_in_threadpool(session.commit)
    return report.as_dict()
