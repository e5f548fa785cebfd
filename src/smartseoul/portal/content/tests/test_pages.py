"""The portal as search engines and readers get it: server-rendered pages with canonical URLs,
Open Graph and schema.org JSON-LD, sitemaps valid against the sitemaps.org XSD, robots.txt, 404
pages kept out of the index, the reading layout, the search page, and the alert banner."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from importlib import resources
from typing import Any

import xmlschema

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.portal.content import service
from smartseoul.portal.content.simulate import GeneratedDocument, bulk_publish
from smartseoul.safety.alerts import service as alerts
from smartseoul.safety.alerts.service import AlertDraft

SCHEMAS = resources.files("smartseoul.portal.content").joinpath("schema")
REQUIRED = {
    "GovernmentOrganization": ("name", "url"),
    "NewsArticle": ("headline", "datePublished", "author", "publisher", "url"),
    "Event": ("name", "startDate", "location"),
    "GovernmentService": ("name", "provider"),
    "WebPage": ("name", "url"),
}


def seed(platform: Platform) -> None:
    now = utcnow()
    docs = [
        GeneratedDocument(
            "news/1", "news", "강남구립도서관 겨울 독서교실 모집", "<p>어린이 독서교실</p>", now, None, ""
        ),
        GeneratedDocument(
            "events/1",
            "event",
            "양재천 가을 음악회",
            "<p>음악회</p>",
            now,
            now + timedelta(days=3),
            "양재천 야외무대",
        ),
        GeneratedDocument("services/passport", "service", "여권 발급 안내", "<p>민원실</p>", now, None, ""),
        GeneratedDocument(
            "about", "page", "강남구청 소개", "<p>찾아오시는 길</p>", now - timedelta(days=9), None, ""
        ),
    ]
    with platform.db.session() as session:
        site = service.create_site(
            session, slug="gangnam-gu", kind="district", name_ko="강남구청", name_en="Gangnam-gu Office",
            district_code="11230", nav=[("소개", "About", "about")],
        )  # fmt: skip
        service.create_site(session, slug="seoul", kind="city", name_ko="서울특별시", name_en="Seoul")
        bulk_publish(session, [(site, d) for d in docs], "seed")


def json_ld(html: str) -> dict[str, Any]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    data: dict[str, Any] = json.loads(found[0])
    assert data["@context"] == "https://schema.org"
    for field in REQUIRED[data["@type"]]:
        assert data.get(field), f"{data['@type']} lacks {field}"
    return data


def test_pages_are_indexable_with_canonical_og_and_json_ld(client: Any, platform: Platform) -> None:
    seed(platform)
    home = client.get("/sites/gangnam-gu/")
    assert home.status_code == 200
    assert json_ld(home.text)["@type"] == "GovernmentOrganization"
    assert '<link rel="canonical" href="http://127.0.0.1/sites/gangnam-gu/">' in home.text
    expected = {"news/1": "NewsArticle", "events/1": "Event", "services/passport": "GovernmentService",
                "about": "WebPage"}  # fmt: skip
    for path, kind in expected.items():
        page = client.get(f"/sites/gangnam-gu/{path}")
        assert page.status_code == 200
        data = json_ld(page.text)
        assert data["@type"] == kind
        assert data["url"] == f"http://127.0.0.1/sites/gangnam-gu/{path}"
        assert f'<meta property="og:url" content="http://127.0.0.1/sites/gangnam-gu/{path}">' in page.text
        assert '<meta property="og:title"' in page.text
        # one small deferred script (the live alert banner), nothing render-blocking
        scripts = re.findall(r"<script src=[^>]*>", page.text)
        assert scripts == ['<script src="/static/content/banner.js" defer>']
    event = json_ld(client.get("/sites/gangnam-gu/events/1").text)
    assert event["location"]["name"] == "양재천 야외무대"
    reading = client.get("/sites/gangnam-gu/about", params={"layout": "read"})
    assert 'class="content-wrap reading"' in reading.text
    assert client.get("/sites/gangnam-gu/about", params={"layout": "bogus"}).status_code == 422
    portal = client.get("/portal")
    assert "강남구립도서관 겨울 독서교실 모집" in portal.text
    assert 'href="/sites/gangnam-gu/"' in portal.text


def test_sitemaps_validate_and_robots_names_the_index(client: Any, platform: Platform) -> None:
    seed(platform)
    index_schema = xmlschema.XMLSchema(SCHEMAS.joinpath("siteindex.xsd").read_text())
    urlset_schema = xmlschema.XMLSchema(SCHEMAS.joinpath("sitemap.xsd").read_text())
    index = client.get("/sitemap.xml")
    assert index.headers["content-type"].startswith("application/xml")
    index_schema.validate(index.text)
    locations = re.findall(r"<loc>(.*?)</loc>", index.text)
    assert sorted(locations) == [
        "http://127.0.0.1/sites/gangnam-gu/sitemap.xml",
        "http://127.0.0.1/sites/seoul/sitemap.xml",
    ]
    site_map = client.get("/sites/gangnam-gu/sitemap.xml")
    urlset_schema.validate(site_map.text)
    urls = re.findall(r"<loc>(.*?)</loc>", site_map.text)
    assert "http://127.0.0.1/sites/gangnam-gu/events/1" in urls
    assert len(urls) == 5
    assert not xmlschema.XMLSchema(SCHEMAS.joinpath("sitemap.xsd").read_text()).is_valid(index.text)
    robots = client.get("/robots.txt").text
    assert "Sitemap: http://127.0.0.1/sitemap.xml" in robots
    assert "Disallow: /api/" in robots


def test_unknown_sites_and_pages_are_404_pages_kept_out_of_the_index(client: Any, platform: Platform) -> None:
    seed(platform)
    for url in (
        "/sites/nowhere/",
        "/sites/gangnam-gu/no/such/page",
        "/sites/nowhere/sitemap.xml",
        "/tv/sites/x/y",
    ):
        answer = client.get(url, headers={"accept-language": "ko"})
        assert answer.status_code == 404, url
        assert answer.headers["x-robots-tag"] == "noindex"
        assert '<meta name="robots" content="noindex">' in answer.text
        assert "페이지를 찾을 수 없습니다" in answer.text


def test_search_page_and_alert_banner(client: Any, platform: Platform) -> None:
    seed(platform)
    draft = AlertDraft(
        event="Flood", severity="Severe", urgency="Immediate", certainty="Observed",
        headline_ko="양재천 범람 주의", headline_en="Yangjaecheon flooding", area={"districts": ["11230"]},
    )  # fmt: skip
    with platform.db.session() as session:
        alerts.issue(session, draft, issuer="op", settings=platform.settings)
    for url in ("/portal", "/sites/gangnam-gu/", "/sites/gangnam-gu/news/1", "/search", "/tv"):
        page = client.get(url, headers={"accept-language": "ko"})
        assert "양재천 범람 주의" in page.text, url
    found = client.get("/search", params={"q": "도서관", "type": "news"}, headers={"accept-language": "ko"})
    assert found.status_code == 200
    assert "강남구립도서관 겨울 독서교실 모집" in found.text
    assert '<meta name="robots" content="noindex">' in found.text
    nothing = client.get("/search", params={"q": "도서관", "type": "event"})
    assert "강남구립도서관" not in nothing.text
    bad = client.get("/search", params={"q": "도서관", "from": "yesterday"})
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text


def test_search_page_orders_by_relevance_on_request(client: Any, platform: Platform) -> None:
    seed(platform)
    ranked = client.get(
        "/search", params={"q": "독서교실", "sort": "relevance"}, headers={"accept-language": "en"}
    )
    assert ranked.status_code == 200
    assert "강남구립도서관 겨울 독서교실 모집" in ranked.text
    assert '<option value="relevance" selected>Best match</option>' in ranked.text
    bad = client.get("/search", params={"q": "독서교실", "sort": "random"})
    assert bad.status_code == 400
    assert 'id="search-sort" name="sort" aria-invalid="true"' in bad.text


def test_every_layout_has_a_live_banner_even_with_no_alert(client: Any, platform: Platform) -> None:
    """The banner is there (hidden) for the deferred script to fill when an alert arrives."""
    seed(platform)
    for url, kind in (("/portal", "page"), ("/sites/gangnam-gu/about?layout=read", "page"), ("/tv", "tv")):
        page = client.get(url)
        assert f'data-live-alerts="{kind}"' in page.text, url
        assert re.search(r'data-live-alerts="[a-z]+"[^>]* hidden>', page.text), url
        assert '<script src="/static/content/banner.js" defer></script>' in page.text, url
    assert 'data-district="11230"' in client.get("/sites/gangnam-gu/").text
    script = client.get("/static/content/banner.js")
    assert script.status_code == 200
    assert "/api/v1/stream/alerts" in script.text  # the public alerts' own stream, not a second one
