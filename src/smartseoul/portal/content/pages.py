"""The portal's server-rendered pages: every screen gets HTML that works without JavaScript.

``/portal`` (home of all sites), ``/sites/{slug}/`` and ``/sites/{slug}/{path}`` (mobile-first;
``?layout=read`` is the tablet / e-book reading layout), ``/search``, ``/tv`` (10-foot UI),
``/sitemap.xml``, ``/sites/{slug}/sitemap.xml`` and ``/robots.txt``. Public alerts are rendered
into every layout's banner on the server. Unknown sites and pages answer a 404 page marked
``noindex``; an old URL of an imported site answers 301 to its new address.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.portal.content import search, seo, service
from smartseoul.portal.content.models import DOCUMENT_KINDS, SITE_KINDS, ContentDocument, ContentSite
from smartseoul.portal.content.reading import read_session
from smartseoul.web.deps import session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import SEOUL, render

router = APIRouter(include_in_schema=False)
NOINDEX = {"X-Robots-Tag": "noindex"}
STATIC = resources.files("smartseoul.web").joinpath("static", "content")
SlugParam = Annotated[str, Query(max_length=64)]


def public_base(request: Request) -> str:
    """The scheme and host of canonical URLs: the configured public address, else the request's."""
    platform: Platform = request.app.state.platform
    configured = platform.settings.content_public_url
    return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")


def active_alerts(session: Session, district: str | None = None) -> list[Any]:
    """Current public alerts for the banner (from the alerts domain's service API)."""
    from smartseoul.safety.alerts import service as alerts

    return alerts.alerts_at(session, district=district) if district else alerts.current_alerts(session)


def _lang(request: Request) -> str:
    return choose_language(request, request.app.state.platform.settings.language)


def _page(request: Request, session: Session, template: str, status: int = 200, **context: Any) -> Response:
    """Render a portal page with the banner, the base URL and who is signed in (for the top bar)."""
    platform: Platform = request.app.state.platform
    context.setdefault("alerts", active_alerts(session, context.get("district")))
    principal = session_principal(platform, session, request)
    if isinstance(context.get("site"), ContentSite):
        context["site_nav"] = list(context["site"].nav)
    # Everything the template shows is loaded: end the read before rendering.
    session.rollback()
    response = render(
        request,
        template,
        status=status,
        principal=principal,
        base=public_base(request),
        seoul=lambda moment: moment.astimezone(SEOUL).strftime("%Y-%m-%d") if moment else "",
        **context,
    )
    if status >= 400:
        response.headers.update(NOINDEX)
    return response


def not_found(request: Request, session: Session, what: str) -> Response:
    """The 404 page: human, in the reader's language, and kept out of search engines."""
    return _page(request, session, "content/not_found.html", status=404, what=what, noindex=True)


@router.get("/portal")
def portal_home(request: Request, session: Session = Depends(read_session)) -> Response:
    sites = service.site_links(session)
    grouped = {kind: [s for s in sites if s.kind == kind] for kind in SITE_KINDS}
    return _page(
        request,
        session,
        "content/portal.html",
        grouped=grouped,
        news=service.latest_published(session, kind="news", limit=8),
        notices=service.latest_published(session, kind="notice", limit=8),
        events=service.latest_published(session, kind="event", limit=6),
        canonical=f"{public_base(request)}/portal",
    )


@router.get("/sitemap.xml")
def sitemap_index(request: Request, session: Session = Depends(read_session)) -> Response:
    base = public_base(request)
    modified = service.site_last_modified(session)
    entries = [
        (f"{base}/sites/{site.slug}/sitemap.xml", modified.get(site.id))
        for site in service.list_sites(session)
    ]
    return Response(seo.sitemap_index(entries), media_type=seo.SITEMAP_MEDIA_TYPE)


@router.get("/robots.txt")
def robots(request: Request) -> Response:
    return Response(seo.robots(public_base(request)), media_type="text/plain")


@router.get("/search")
def search_page(
    request: Request,
    session: Session = Depends(read_session),
    q: Annotated[str, Query(max_length=200)] = "",
    site: Annotated[str, Query(max_length=64)] = "",
    type: Annotated[str, Query(max_length=16)] = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    sort: Annotated[str, Query(max_length=16)] = "date",
) -> Response:
    """The search page; a bad filter is shown on the page (400) rather than ignored."""
    platform: Platform = request.app.state.platform
    size = platform.settings.content_page_size
    error = ""
    total, hits = 0, list[ContentDocument]()
    try:
        filters = parse_filters(site, type, since, until)
        order = parse_sort(sort)
        if q.strip():
            total, hits = search.search(session, q, filters, limit=size, offset=(page - 1) * size, sort=order)
    except service.ContentError as bad:
        error = bad.field
    return _page(
        request,
        session,
        "content/search.html",
        status=400 if error else 200,
        q=q,
        site=site,
        kind=type,
        since=since,
        until=until,
        page=page,
        sort=sort,
        sorts=search.SORTS,
        pages=max(1, -(-total // size)),
        total=total,
        hits=hits,
        error=error,
        sites=service.list_sites(session),
        kinds=DOCUMENT_KINDS,
        noindex=True,
    )


def parse_sort(value: str) -> search.Sort:
    """The result order a reader chose: newest first (the default) or best match first."""
    for known in search.SORTS:
        if value == known:
            return known
    raise service.ContentError("sort", f"sort is one of {', '.join(search.SORTS)}")


def parse_filters(site: str, kind: str, since: str, until: str) -> search.Filters:
    """Validated search filters; dates are Seoul calendar days, ``to`` inclusive."""
    if kind and kind not in DOCUMENT_KINDS:
        raise service.ContentError("type", f"type is one of {', '.join(DOCUMENT_KINDS)}")
    if site and not service.SLUG.match(site):
        raise service.ContentError("site", "not a site slug")
    return search.Filters(
        site=site or None,
        kind=kind or None,
        since=_seoul_day(since, "from"),
        until=_seoul_day(until, "to", next_day=True),
    )


def _seoul_day(value: str, field: str, *, next_day: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise service.ContentError(field, "a date is YYYY-MM-DD") from None
    if next_day:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=SEOUL).astimezone(UTC)


@router.get("/tv")
def tv_home(request: Request, session: Session = Depends(read_session)) -> Response:
    """The 10-foot UI: rows of tiles walked with the remote's arrows, Enter opens, Back returns."""
    rows = [
        ("content_news", service.latest_published(session, kind="news", limit=6)),
        ("content_notices", service.latest_published(session, kind="notice", limit=6)),
        ("content_events", service.latest_published(session, kind="event", limit=6)),
    ]
    return _page(
        request,
        session,
        "content/tv.html",
        rows=[(label, docs) for label, docs in rows if docs],
        sites=service.list_sites(session, kind="district")[:12],
        canonical=f"{public_base(request)}/portal",
    )


@router.get("/tv/sites/{slug}/{path:path}")
def tv_document(slug: str, path: str, request: Request, session: Session = Depends(read_session)) -> Response:
    try:
        site = service.get_site(session, slug)
        document = service.published_document(session, site, path) if path else None
    except service.NotFound:
        return not_found(request, session, f"/sites/{slug}/{path}")
    if document is None:
        docs = service.latest_published(session, site=site, limit=12)
        return _page(
            request,
            session,
            "content/tv_site.html",
            site=site,
            docs=docs,
            canonical=seo.site_url(public_base(request), site),
        )
    return _page(
        request,
        session,
        "content/tv_document.html",
        site=site,
        document=document,
        revision=document.published,
        canonical=seo.document_url(public_base(request), document),
    )


@router.get("/sites/{slug}")
def site_without_slash(slug: str) -> Response:
    return RedirectResponse(f"/sites/{slug}/", status_code=301)


@router.get("/sites/{slug}/sitemap.xml")
def site_sitemap(slug: str, request: Request, session: Session = Depends(read_session)) -> Response:
    try:
        site = service.get_site(session, slug)
    except service.NotFound:
        return not_found(request, session, f"/sites/{slug}/sitemap.xml")
    base = public_base(request)
    documents = service.site_documents_for_sitemap(session, site)
    newest = max((at for _, at in documents), default=None)
    entries = [(seo.site_url(base, site), newest)] + [
        (f"{base}/sites/{slug}/{path}", at) for path, at in documents
    ]
    return Response(seo.urlset(entries), media_type=seo.SITEMAP_MEDIA_TYPE)


@router.get("/sites/{slug}/")
def site_home(slug: str, request: Request, session: Session = Depends(read_session)) -> Response:
    try:
        site = service.get_site(session, slug)
    except service.NotFound:
        return not_found(request, session, f"/sites/{slug}/")
    base = public_base(request)
    lists = {
        kind: service.latest_published(session, site=site, kind=kind, limit=6) for kind in DOCUMENT_KINDS
    }
    return _page(
        request,
        session,
        "content/site.html",
        site=site,
        lists=lists,
        district=site.district_code,
        canonical=seo.site_url(base, site),
        json_ld=seo.script_tag(seo.site_json_ld(base, site, _lang(request))),
        og_type="website",
        og_title=_site_name(site, _lang(request)),
        description=site.description,
    )


@router.get("/sites/{slug}/{path:path}")
def document_page(
    slug: str,
    path: str,
    request: Request,
    session: Session = Depends(read_session),
    layout: Annotated[str, Query(pattern="^(mobile|read)$")] = "mobile",
) -> Response:
    try:
        site = service.get_site(session, slug)
    except service.NotFound:
        return not_found(request, session, f"/sites/{slug}/{path}")
    try:
        document = service.published_document(session, site, path)
    except service.NotFound:
        moved = service.redirect_target(session, site, _with_query(path, request))
        if moved:
            return RedirectResponse(moved, status_code=301)
        return not_found(request, session, f"/sites/{slug}/{path}")
    base = public_base(request)
    revision = document.published
    assert revision is not None
    return _page(
        request,
        session,
        "content/document.html",
        site=site,
        document=document,
        revision=revision,
        files=service.attachments(session, document.id),
        layout=layout,
        district=site.district_code,
        canonical=seo.document_url(base, document),
        json_ld=seo.script_tag(seo.document_json_ld(base, document, _lang(request))),
        og_type="article" if document.kind in ("news", "notice") else "website",
        og_title=revision.title,
        description=revision.summary,
        now=utcnow(),
    )


def _with_query(path: str, request: Request) -> str:
    """Old CMS addresses often live in the query string (``board/view.do?id=12``)."""
    query = request.url.query.replace("layout=read", "").strip("&")
    return f"{path}?{query}" if query else path


def _site_name(site: ContentSite, lang: str) -> str:
    return site.name_ko if lang == "ko" else site.name_en
