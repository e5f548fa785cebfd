"""The content store's service API: sites, documents, the approval workflow and revisions.

Other domains and the routers call these functions; they never touch the tables directly.
Every change writes the audit ledger, and publishing updates the search index in the same
transaction, so a published page is findable exactly when it is visible.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.db import utcnow
from smartseoul.portal.content import search
from smartseoul.portal.content.models import (
    DOCUMENT_KINDS,
    SITE_KINDS,
    ContentAttachment,
    ContentDocument,
    ContentNavItem,
    ContentRedirect,
    ContentRevision,
    ContentSite,
)

EDITOR_ROLES = ("admin", "district_staff")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PATH = re.compile(r"^[a-z0-9가-힣][a-z0-9가-힣._/-]{0,299}$")
RESERVED_PATHS = frozenset({"sitemap.xml", "robots.txt"})
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "figcaption",
    "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}


class ContentError(Exception):
    """Bad input, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class Conflict(Exception):
    pass


def sanitise(html: str) -> str:
    """Keep structure and links, drop scripts, event handlers, styles and javascript: URLs."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


def plain_text(html: str, limit: int = 200) -> str:
    """A short text excerpt of sanitised HTML (for descriptions and summaries)."""
    text = " ".join(nh3.clean(html, tags=set()).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- sites


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise ContentError("slug", "a slug is 1-64 lower-case letters, digits and hyphens")
    return slug


def check_path(path: str) -> str:
    cleaned = path.strip("/")
    if not PATH.match(cleaned) or ".." in cleaned or "//" in cleaned or cleaned in RESERVED_PATHS:
        raise ContentError("path", "a path is letters, digits, '-', '_', '.' and '/' (no '..')")
    return cleaned


def create_site(
    session: Session,
    *,
    slug: str,
    kind: str,
    name_ko: str,
    name_en: str,
    description: str = "",
    district_code: str | None = None,
    nav: list[tuple[str, str, str]] | None = None,
) -> ContentSite:
    if kind not in SITE_KINDS:
        raise ContentError("kind", f"kind is one of {', '.join(SITE_KINDS)}")
    site = ContentSite(
        slug=check_slug(slug),
        kind=kind,
        name_ko=name_ko,
        name_en=name_en,
        description=description,
        district_code=district_code,
    )
    for position, (label_ko, label_en, path) in enumerate(nav or []):
        site.nav.append(ContentNavItem(position=position, label_ko=label_ko, label_en=label_en, path=path))
    session.add(site)
    session.flush()
    return site


def get_site(session: Session, slug: str) -> ContentSite:
    site = session.scalar(select(ContentSite).where(ContentSite.slug == slug))
    if site is None:
        raise NotFound(f"no site {slug!r}")
    return site


def list_sites(session: Session, kind: str | None = None, *, with_nav: bool = False) -> list[ContentSite]:
    """Every site; ``with_nav`` loads the navigation of all of them in one more query (the API)."""
    query = select(ContentSite).order_by(ContentSite.kind, ContentSite.slug)
    if with_nav:
        query = query.options(selectinload(ContentSite.nav))
    if kind:
        query = query.where(ContentSite.kind == kind)
    return list(session.scalars(query))


def site_links(session: Session) -> list[Any]:
    """(slug, kind, name_ko, name_en) of every site: the portal home lists ~200 without loading them."""
    query = select(ContentSite.slug, ContentSite.kind, ContentSite.name_ko, ContentSite.name_en)
    return list(session.execute(query.order_by(ContentSite.kind, ContentSite.slug)))


def may_edit(principal: Principal, site: ContentSite) -> bool:
    """Admins edit every site; district staff the sites of their own district."""
    if principal.has_any("admin"):
        return True
    return (
        principal.has_any("district_staff")
        and site.district_code is not None
        and site.district_code == principal.district_code
    )


def _require_editor(principal: Principal, site: ContentSite) -> None:
    if not may_edit(principal, site):
        raise Forbidden(f"{principal.name} may not edit site {site.slug}")


# ---------------------------------------------------------------- documents


@dataclass
class Draft:
    """What an editor writes; the HTML is sanitised before it is stored."""

    title: str
    body_html: str = ""
    summary: str = ""
    event_start: datetime | None = None
    event_end: datetime | None = None
    location: str = ""
    note: str = ""

    def check(self, kind: str) -> None:
        if not self.title.strip():
            raise ContentError("title", "a title is required")
        if len(self.title) > 300:
            raise ContentError("title", "a title is at most 300 characters")
        if kind == "event" and self.event_start is None:
            raise ContentError("event_start", "an event needs its start time")
        if self.event_start and self.event_end and self.event_end < self.event_start:
            raise ContentError("event_end", "an event cannot end before it starts")


def latest_revision(session: Session, document_id: int) -> ContentRevision:
    revision = session.scalar(
        select(ContentRevision)
        .where(ContentRevision.document_id == document_id)
        .order_by(ContentRevision.number.desc())
        .limit(1)
    )
    if revision is None:
        raise NotFound(f"document {document_id} has no revision")
    return revision


def _add_revision(session: Session, document: ContentDocument, draft: Draft, author: str) -> ContentRevision:
    number = (
        session.scalar(
            select(func.max(ContentRevision.number)).where(ContentRevision.document_id == document.id)
        )
        or 0
    ) + 1
    revision = ContentRevision(
        document_id=document.id,
        number=number,
        title=draft.title.strip(),
        summary=draft.summary.strip() or plain_text(sanitise(draft.body_html)),
        body_html=sanitise(draft.body_html),
        event_start=draft.event_start,
        event_end=draft.event_end,
        location=draft.location,
        author=author,
        note=draft.note,
        created_at=utcnow(),
    )
    session.add(revision)
    document.state = "draft"
    document.updated_at = utcnow()
    session.flush()
    return revision


def create_document(
    session: Session, principal: Principal, site: ContentSite, *, path: str, kind: str, draft: Draft
) -> ContentDocument:
    _require_editor(principal, site)
    if kind not in DOCUMENT_KINDS:
        raise ContentError("kind", f"kind is one of {', '.join(DOCUMENT_KINDS)}")
    draft.check(kind)
    clean_path = check_path(path)
    taken = session.scalar(
        select(ContentDocument.id).where(
            ContentDocument.site_id == site.id, ContentDocument.path == clean_path
        )
    )
    if taken is not None:
        raise ContentError("path", f"{site.slug}/{clean_path} exists already")
    document = ContentDocument(
        site_id=site.id, path=clean_path, kind=kind, state="draft", created_at=utcnow()
    )
    session.add(document)
    session.flush()
    _add_revision(session, document, draft, principal.name)
    audit.record(session, actor=principal.name, action="content.create", target=f"{site.slug}/{clean_path}")
    return document


def get_document(session: Session, document_id: int) -> ContentDocument:
    document = session.get(ContentDocument, document_id)
    if document is None:
        raise NotFound(f"no document {document_id}")
    return document


def edit_document(session: Session, principal: Principal, document_id: int, draft: Draft) -> ContentRevision:
    """A new draft revision; the published one stays online until the new one is approved."""
    document = get_document(session, document_id)
    _require_editor(principal, document.site)
    draft.check(document.kind)
    revision = _add_revision(session, document, draft, principal.name)
    audit.record(
        session,
        actor=principal.name,
        action="content.edit",
        target=_target(document),
        details={"n": revision.number},
    )
    return revision


def submit(session: Session, principal: Principal, document_id: int) -> ContentDocument:
    document = get_document(session, document_id)
    _require_editor(principal, document.site)
    if document.state != "draft":
        raise Conflict(f"only a draft can be sent for review (it is {document.state})")
    document.state = "review"
    audit.record(session, actor=principal.name, action="content.submit", target=_target(document))
    return document


def approve(session: Session, principal: Principal, document_id: int) -> ContentDocument:
    """Publish the revision under review; the approver must not be its author (four eyes)."""
    document = get_document(session, document_id)
    _require_editor(principal, document.site)
    if document.state != "review":
        raise Conflict(f"only a document under review can be approved (it is {document.state})")
    revision = latest_revision(session, document.id)
    if revision.author == principal.name:
        raise Forbidden("the author of a revision cannot approve it: another editor must")
    publish_revision(session, document, revision)
    audit.record(
        session,
        actor=principal.name,
        action="content.publish",
        target=_target(document),
        details={"revision": revision.number, "author": revision.author},
    )
    return document


def publish_revision(session: Session, document: ContentDocument, revision: ContentRevision) -> None:
    """Make ``revision`` the public one and re-index it, in the caller's transaction."""
    now = utcnow()
    document.state = "published"
    document.published_revision_id = revision.id
    document.published_at = document.published_at or now
    document.updated_at = now
    session.flush()
    session.expire(document, ["published"])
    search.index_document(session, document.id, revision)


def reject(session: Session, principal: Principal, document_id: int, reason: str) -> ContentDocument:
    document = get_document(session, document_id)
    _require_editor(principal, document.site)
    if document.state != "review":
        raise Conflict(f"only a document under review can be sent back (it is {document.state})")
    document.state = "draft"
    audit.record(
        session, actor=principal.name, action="content.reject", target=_target(document), reason=reason
    )
    return document


def unpublish(session: Session, principal: Principal, document_id: int) -> ContentDocument:
    document = get_document(session, document_id)
    _require_editor(principal, document.site)
    document.published_revision_id = None
    document.published_at = None
    document.state = "draft"
    search.index_document(session, document.id, None)
    audit.record(session, actor=principal.name, action="content.unpublish", target=_target(document))
    return document


def editable_sites(session: Session, principal: Principal) -> list[ContentSite]:
    query = select(ContentSite).order_by(ContentSite.kind, ContentSite.slug)
    if not principal.has_any("admin"):
        if not principal.has_any("district_staff") or not principal.district_code:
            return []
        query = query.where(ContentSite.district_code == principal.district_code)
    return list(session.scalars(query))


def work_queue(
    session: Session, principal: Principal, limit: int = 100
) -> list[tuple[ContentDocument, ContentRevision]]:
    """Documents in review or in draft on the sites ``principal`` edits, with their latest revision."""
    latest = (
        select(ContentRevision.document_id, func.max(ContentRevision.number).label("number"))
        .group_by(ContentRevision.document_id)
        .subquery()
    )
    query = (
        select(ContentDocument, ContentRevision)
        .join(latest, latest.c.document_id == ContentDocument.id)
        .join(
            ContentRevision,
            (ContentRevision.document_id == ContentDocument.id) & (ContentRevision.number == latest.c.number),
        )
        .join(ContentSite, ContentSite.id == ContentDocument.site_id)
        .where(ContentDocument.state.in_(("draft", "review")))
        .order_by(ContentDocument.state.desc(), ContentDocument.updated_at.desc())
        .limit(limit)
    )
    if not principal.has_any("admin"):
        query = query.where(ContentSite.district_code == (principal.district_code or "-"))
    return [(document, revision) for document, revision in session.execute(query).unique()]


def revisions(session: Session, document_id: int) -> list[ContentRevision]:
    return list(
        session.scalars(
            select(ContentRevision)
            .where(ContentRevision.document_id == document_id)
            .order_by(ContentRevision.number.desc())
        )
    )


def restore(session: Session, principal: Principal, document_id: int, number: int) -> ContentRevision:
    """Copy an old revision into a new draft (history is never rewritten)."""
    document = get_document(session, document_id)
    _require_editor(principal, document.site)
    old = session.scalar(
        select(ContentRevision).where(
            ContentRevision.document_id == document_id, ContentRevision.number == number
        )
    )
    if old is None:
        raise NotFound(f"document {document_id} has no revision {number}")
    draft = Draft(
        title=old.title,
        body_html=old.body_html,
        summary=old.summary,
        event_start=old.event_start,
        event_end=old.event_end,
        location=old.location,
        note=f"restored from revision {number}",
    )
    revision = _add_revision(session, document, draft, principal.name)
    audit.record(
        session,
        actor=principal.name,
        action="content.restore",
        target=_target(document),
        details={"from": number},
    )
    return revision


def diff(session: Session, document_id: int, old: int, new: int) -> list[str]:
    """A unified diff (title and text, one sentence-ish line per block) between two revisions."""
    found = {
        r.number: r
        for r in session.scalars(
            select(ContentRevision).where(
                ContentRevision.document_id == document_id, ContentRevision.number.in_([old, new])
            )
        )
    }
    for number in (old, new):
        if number not in found:
            raise NotFound(f"document {document_id} has no revision {number}")

    def lines(revision: ContentRevision) -> list[str]:
        pieces = re.split(r"</(?:p|li|h[2-6]|tr|div)>|<br\s*/?>", revision.body_html)
        return [revision.title, *(text for text in (plain_text(p, 10**9) for p in pieces) if text)]

    return list(
        difflib.unified_diff(lines(found[old]), lines(found[new]), f"#{old}", f"#{new}", lineterm="", n=2)
    )


def _target(document: ContentDocument) -> str:
    return f"{document.site.slug}/{document.path}"


# ---------------------------------------------------------------- public reading


def published_document(session: Session, site: ContentSite, path: str) -> ContentDocument:
    document = session.scalar(
        select(ContentDocument).where(
            ContentDocument.site_id == site.id,
            ContentDocument.path == path.strip("/"),
            ContentDocument.published_revision_id.is_not(None),
        )
    )
    if document is None or document.published is None:
        raise NotFound(f"no page {site.slug}/{path}")
    return document


def latest_published(
    session: Session, *, site: ContentSite | None = None, kind: str | None = None, limit: int = 10
) -> list[ContentDocument]:
    query = select(ContentDocument).where(ContentDocument.published_revision_id.is_not(None))
    if site is not None:
        query = query.where(ContentDocument.site_id == site.id)
    if kind:
        query = query.where(ContentDocument.kind == kind)
    query = query.order_by(ContentDocument.published_at.desc(), ContentDocument.id.desc()).limit(limit)
    return list(session.scalars(query).unique())


def site_documents_for_sitemap(session: Session, site: ContentSite) -> list[tuple[str, datetime]]:
    rows = session.execute(
        select(ContentDocument.path, ContentDocument.updated_at)
        .where(ContentDocument.site_id == site.id, ContentDocument.published_revision_id.is_not(None))
        .order_by(ContentDocument.path)
    )
    return [(row.path, row.updated_at) for row in rows]


def site_last_modified(session: Session) -> dict[int, datetime]:
    rows = session.execute(
        select(ContentDocument.site_id, func.max(ContentDocument.updated_at))
        .where(ContentDocument.published_revision_id.is_not(None))
        .group_by(ContentDocument.site_id)
    )
    return {site_id: at for site_id, at in rows}


def redirect_target(session: Session, site: ContentSite, old_path: str) -> str | None:
    """The new address of an old URL of a migrated site, if the importer recorded one."""
    document_id = session.scalar(
        select(ContentRedirect.document_id).where(
            ContentRedirect.site_id == site.id, ContentRedirect.old_path == old_path.strip("/")
        )
    )
    if document_id is None:
        return None
    document = get_document(session, document_id)
    return f"/sites/{site.slug}/{document.path}"


def attachments(session: Session, document_id: int) -> list[ContentAttachment]:
    return list(
        session.scalars(select(ContentAttachment).where(ContentAttachment.document_id == document_id))
    )


def document_dict(document: ContentDocument, *, lang: str = "ko", full: bool = True) -> dict[str, Any]:
    """The JSON shape of a published document, the same for web, mobile and TV."""
    revision = document.published
    assert revision is not None
    body: dict[str, Any] = {
        "id": document.id,
        "site": document.site.slug,
        "site_name": document.site.name_ko if lang == "ko" else document.site.name_en,
        "path": document.path,
        "url": f"/sites/{document.site.slug}/{document.path}",
        "kind": document.kind,
        "title": revision.title,
        "summary": revision.summary,
        "published_at": document.published_at.isoformat() if document.published_at else None,
        "updated_at": document.updated_at.isoformat(),
        "event_start": revision.event_start.isoformat() if revision.event_start else None,
        "event_end": revision.event_end.isoformat() if revision.event_end else None,
        "location": revision.location or None,
    }
    if full:
        body["body_html"] = revision.body_html
    return body


def site_dict(site: ContentSite, lang: str = "ko") -> dict[str, Any]:
    return {
        "slug": site.slug,
        "kind": site.kind,
        "name": site.name_ko if lang == "ko" else site.name_en,
        "name_ko": site.name_ko,
        "name_en": site.name_en,
        "district_code": site.district_code,
        "url": f"/sites/{site.slug}/",
        "nav": [
            {"label": item.label_ko if lang == "ko" else item.label_en, "path": item.path}
            for item in site.nav
        ],
    }


def revision_dict(revision: ContentRevision) -> dict[str, Any]:
    return {
        "number": revision.number,
        "title": revision.title,
        "author": revision.author,
        "note": revision.note,
        "created_at": revision.created_at.isoformat(),
        "body_html": revision.body_html,
    }
