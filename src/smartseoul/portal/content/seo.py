"""What search engines read: canonical URLs, schema.org JSON-LD and sitemaps (sitemaps.org 0.9).

JSON-LD types: GovernmentOrganization (a site), GovernmentService (a service page), Event (an
event), NewsArticle (news and notices), WebPage (other pages). Sitemaps: one per site at
``/sites/{slug}/sitemap.xml`` and the index of them all at ``/sitemap.xml``; the shipped XSDs
(``schema/``) validate both in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from smartseoul.portal.content.models import ContentDocument, ContentSite

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MEDIA_TYPE = "application/xml"


def site_url(base: str, site: ContentSite) -> str:
    return f"{base}/sites/{site.slug}/"


def document_url(base: str, document: ContentDocument) -> str:
    return f"{base}/sites/{document.site.slug}/{document.path}"


def organisation(base: str, site: ContentSite, lang: str = "ko") -> dict[str, Any]:
    return {
        "@type": "GovernmentOrganization",
        "name": site.name_ko if lang == "ko" else site.name_en,
        "alternateName": site.name_en if lang == "ko" else site.name_ko,
        "url": site_url(base, site),
        "areaServed": {"@type": "City", "name": "서울특별시" if lang == "ko" else "Seoul"},
    }


def site_json_ld(base: str, site: ContentSite, lang: str = "ko") -> dict[str, Any]:
    return {"@context": "https://schema.org", **organisation(base, site, lang)}


def document_json_ld(base: str, document: ContentDocument, lang: str = "ko") -> dict[str, Any]:
    """The schema.org description of a published document, by its kind."""
    revision = document.published
    assert revision is not None
    url = document_url(base, document)
    publisher = organisation(base, document.site, lang)
    common: dict[str, Any] = {"@context": "https://schema.org", "url": url, "inLanguage": lang}
    if document.kind in ("news", "notice"):
        return {
            **common,
            "@type": "NewsArticle",
            "headline": revision.title[:110],
            "description": revision.summary,
            "datePublished": _iso(document.published_at or document.updated_at),
            "dateModified": _iso(document.updated_at),
            "author": publisher,
            "publisher": publisher,
            "mainEntityOfPage": url,
        }
    if document.kind == "event":
        event: dict[str, Any] = {
            **common,
            "@type": "Event",
            "name": revision.title,
            "description": revision.summary,
            "startDate": _iso(revision.event_start or document.updated_at),
            "eventStatus": "https://schema.org/EventScheduled",
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
            "location": {
                "@type": "Place",
                "name": revision.location or document.site.name_ko,
                "address": {
                    "@type": "PostalAddress",
                    "addressLocality": "서울특별시",
                    "addressCountry": "KR",
                },
            },
            "organizer": publisher,
        }
        if revision.event_end:
            event["endDate"] = _iso(revision.event_end)
        return event
    if document.kind == "service":
        return {
            **common,
            "@type": "GovernmentService",
            "name": revision.title,
            "description": revision.summary,
            "provider": publisher,
            "serviceOperator": publisher,
            "areaServed": publisher["areaServed"],
        }
    return {
        **common,
        "@type": "WebPage",
        "name": revision.title,
        "description": revision.summary,
        "dateModified": _iso(document.updated_at),
        "publisher": publisher,
    }


def script_tag(data: dict[str, Any]) -> Markup:
    """A ``<script type="application/ld+json">`` block; ``<`` is escaped so no text ends it early."""
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(f'<script type="application/ld+json">{text}</script>')  # noqa: S704 (escaped above)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def urlset(entries: Iterable[tuple[str, datetime | None]]) -> bytes:
    """A sitemap: each (absolute URL, last modified)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for loc, modified in entries:
        lastmod = f"<lastmod>{_iso(modified)}</lastmod>" if modified else ""
        lines.append(f"<url><loc>{escape(loc)}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines).encode()


def sitemap_index(entries: Iterable[tuple[str, datetime | None]]) -> bytes:
    """The sitemap index: each (absolute sitemap URL, last modified)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for loc, modified in entries:
        lastmod = f"<lastmod>{_iso(modified)}</lastmod>" if modified else ""
        lines.append(f"<sitemap><loc>{escape(loc)}</loc>{lastmod}</sitemap>")
    lines.append("</sitemapindex>")
    return "\n".join(lines).encode()


def robots(base: str) -> str:
    return (
        "User-agent: *\n"
        "Allow: /portal\nAllow: /sites/\nAllow: /tv\n"
        "Disallow: /api/\nDisallow: /console\nDisallow: /admin\nDisallow: /app\nDisallow: /search\n"
        f"Sitemap: {base}/sitemap.xml\n"
    )
