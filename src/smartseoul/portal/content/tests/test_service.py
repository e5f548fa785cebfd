"""The content store on both engines: workflow, four eyes, revisions, sanitising, Korean search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.auth import Principal
from smartseoul.core.models import AuditEntry
from smartseoul.portal.content import search, service
from smartseoul.portal.content.models import ContentSite
from smartseoul.portal.content.service import Draft

ALICE = Principal("user", 1, "alice", frozenset({"district_staff"}), district_code="11680")
BOB = Principal("user", 2, "bob", frozenset({"district_staff"}), district_code="11680")
MALLORY = Principal("user", 3, "mallory", frozenset({"district_staff"}), district_code="11110")
ADMIN = Principal("user", 4, "root", frozenset({"admin"}))
CITIZEN = Principal("user", 5, "kim", frozenset({"citizen"}))


def _site(db: Session, slug: str = "gangnam-test", district: str | None = "11680") -> ContentSite:
    return service.create_site(
        db,
        slug=slug,
        kind="district",
        name_ko="강남구청",
        name_en="Gangnam-gu Office",
        district_code=district,
    )


def _published(db: Session, site: ContentSite, path: str, title: str, body: str, kind: str = "news") -> int:
    document = service.create_document(db, ALICE if site.district_code else ADMIN, site, path=path, kind=kind,
                                       draft=Draft(title=title, body_html=body))  # fmt: skip
    service.submit(db, ALICE if site.district_code else ADMIN, document.id)
    service.approve(db, BOB, document.id) if site.district_code else None
    return document.id


def test_draft_review_publish_needs_a_second_editor(db: Session) -> None:
    site = _site(db)
    document = service.create_document(db, ALICE, site, path="news/1", kind="news", draft=Draft(title="공지"))
    with pytest.raises(service.NotFound):
        service.published_document(db, site, "news/1")
    with pytest.raises(service.Conflict):
        service.approve(db, BOB, document.id)
    service.submit(db, ALICE, document.id)
    with pytest.raises(service.Forbidden):
        service.approve(db, ALICE, document.id)
    service.approve(db, BOB, document.id)
    assert service.published_document(db, site, "news/1").published.title == "공지"  # type: ignore[union-attr]
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.target == "gangnam-test/news/1")).all()
    assert actions == ["content.create", "content.submit", "content.publish"]


def test_editors_are_limited_to_their_district(db: Session) -> None:
    site = _site(db)
    for outsider in (MALLORY, CITIZEN):
        with pytest.raises(service.Forbidden):
            service.create_document(db, outsider, site, path="x", kind="page", draft=Draft(title="x"))
    city = _site(db, "city-test", None)
    with pytest.raises(service.Forbidden):
        service.create_document(db, ALICE, city, path="x", kind="page", draft=Draft(title="x"))
    assert service.create_document(db, ADMIN, city, path="x", kind="page", draft=Draft(title="x")).id


def test_an_edit_keeps_the_published_revision_online_until_approved(db: Session) -> None:
    site = _site(db)
    document_id = _published(db, site, "about", "소개", "<p>첫 판</p>", kind="page")
    service.edit_document(db, ALICE, document_id, Draft(title="소개 (개정)", body_html="<p>둘째 판</p>"))
    shown = service.published_document(db, site, "about")
    assert shown.published is not None
    assert shown.published.title == "소개"
    assert [r.number for r in service.revisions(db, document_id)] == [2, 1]
    changes = service.diff(db, document_id, 1, 2)
    assert "-소개" in changes
    assert "+소개 (개정)" in changes
    assert "-첫 판" in changes
    assert "+둘째 판" in changes
    with pytest.raises(service.NotFound):
        service.diff(db, document_id, 1, 7)
    restored = service.restore(db, BOB, document_id, 1)
    assert restored.number == 3
    assert restored.title == "소개"
    assert "restored" in restored.note


def test_unsafe_html_is_sanitised(db: Session) -> None:
    site = _site(db)
    body = (
        '<p onclick="x()">안녕<script>alert(1)</script><a href="javascript:alert(2)">링크</a>'
        "<img src=x onerror=alert(3)></p>"
    )
    document = service.create_document(
        db, ALICE, site, path="p", kind="page", draft=Draft(title="t", body_html=body)
    )
    stored = service.latest_revision(db, document.id).body_html
    for bad in ("<script", "onclick", "javascript:", "onerror", "alert(1)"):
        assert bad not in stored
    assert "안녕" in stored
    assert "링크" in stored


@pytest.mark.parametrize(
    ("field", "draft", "kind", "path"),
    [
        ("title", Draft(title="  "), "page", "ok"),
        ("event_start", Draft(title="행사"), "event", "ok"),
        ("path", Draft(title="t"), "page", "../etc/passwd"),
        ("path", Draft(title="t"), "page", "sitemap.xml"),
        ("kind", Draft(title="t"), "blog", "ok"),
    ],
)
def test_bad_input_names_the_field(db: Session, field: str, draft: Draft, kind: str, path: str) -> None:
    site = _site(db)
    with pytest.raises(service.ContentError) as raised:
        service.create_document(db, ALICE, site, path=path, kind=kind, draft=draft)
    assert raised.value.field == field


def test_korean_search_finds_a_word_inside_a_longer_phrase(db: Session) -> None:
    site = _site(db)
    library = _published(
        db, site, "news/lib", "강남구립도서관에서 겨울 독서교실을 엽니다", "<p>어린이 대상</p>"
    )
    _published(db, site, "news/park", "양재천 산책로 정비 안내", "<p>공사 기간 통행 제한</p>")
    hits = lambda q, **f: [d.id for d in search.search(db, q, search.Filters(**f))[1]]  # noqa: E731
    assert hits("도서관") == [library]
    assert hits("독서 교실") == [library]
    assert hits("산책로") != []
    assert library not in hits("산책로")
    assert hits("도서관", site="gangnam-test", kind="news") == [library]
    assert hits("도서관", kind="event") == []
    assert hits("도서관", site="no-such-site") == []
    assert hits("도서관", since=datetime(2999, 1, 1, tzinfo=UTC)) == []
    assert hits("소방서") == []
    assert library in hits("도")


def test_search_index_follows_publication(db: Session) -> None:
    site = _site(db)
    document = service.create_document(
        db, ALICE, site, path="n", kind="notice", draft=Draft(title="미세먼지 주의보")
    )
    assert search.search(db, "미세먼지")[0] == 0
    service.submit(db, ALICE, document.id)
    service.approve(db, BOB, document.id)
    assert search.search(db, "미세먼지")[0] == 1
    service.edit_document(db, ALICE, document.id, Draft(title="황사 주의보"))
    service.submit(db, ALICE, document.id)
    service.approve(db, BOB, document.id)
    assert search.search(db, "미세먼지")[0] == 0
    assert search.search(db, "황사")[0] == 1
    service.unpublish(db, ADMIN, document.id)
    assert search.search(db, "황사")[0] == 0


def test_terms_join_across_single_spaces_and_keep_words() -> None:
    assert {"서울", "울시", "시청"} <= search.terms("서울 시청")
    assert {"seoul", "wifi", "2026"} <= search.terms("Seoul WiFi 2026")
    assert search.parse_query("서").prefixes == {"서"}
    assert search.parse_query("  ").empty


def test_search_finds_english_words_prefixes_and_phrases_on_the_engine_index(db: Session) -> None:
    site = _site(db)
    wifi = _published(
        db, site, "news/wifi", "Free Seoul WiFi in every park", "<p>공공 와이파이 확대 설치</p>"
    )
    plan = _published(db, site, "news/plan", "서울시 스마트도시 종합계획 발표", "<p>Smart City plan 2026</p>")
    hits = lambda q, **f: sorted(d.id for d in search.search(db, q, search.Filters(**f))[1])  # noqa: E731
    assert hits("wifi") == [wifi]
    assert hits("WIFI park") == [wifi]  # case folded, every word must match
    assert hits("wifi 2026") == []
    assert hits("smart city") == [plan]
    assert hits("와이파이") == [wifi]  # a word inside a longer phrase of the body
    assert hits("공공와이파이") == [wifi]  # and across the space the body has
    assert hits("도시종합") == [plan]
    assert hits("스") == [plan]  # one syllable: a prefix over the bigrams
    assert hits("와 wifi") == [wifi]
    assert hits("서울", kind="news", site="gangnam-test") == [plan]
    assert hits("서울", kind="page") == []
    assert hits("wifi", site="no-such-site") == []
    assert hits("'\" AND OR * : NEAR") == []  # engine syntax in the query is only words


def test_relevance_puts_title_matches_first_and_date_order_stays_the_default(db: Session) -> None:
    site = _site(db)
    in_title = _published(db, site, "news/a", "강남 도서관 새단장", "<p>개관 시간 안내</p>")
    in_body = _published(db, site, "news/b", "구청 소식", "<p>여러 소식 가운데 도서관 새단장 소식</p>")
    by_date = [d.id for d in search.search(db, "도서관 새단장")[1]]
    by_relevance = [d.id for d in search.search(db, "도서관 새단장", sort="relevance")[1]]
    assert sorted(by_date) == sorted(by_relevance) == sorted([in_title, in_body])
    assert by_date == [in_body, in_title]  # newest first (the ids are published in that order)
    assert by_relevance == [in_title, in_body]


def test_unpublishing_removes_a_document_from_the_engine_index(db: Session) -> None:
    site = _site(db)
    document = _published(db, site, "notice/closed", "Library closed for repairs", "<p>휴관 안내</p>")
    assert [d.id for d in search.search(db, "휴관")[1]] == [document]
    service.unpublish(db, ADMIN, document)
    assert search.search(db, "휴관") == (0, [])
    assert search.search(db, "repairs") == (0, [])
    assert search.search(db, "휴", sort="relevance") == (0, [])
