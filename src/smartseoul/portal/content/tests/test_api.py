"""The JSON content API as the apps use it: editors' workflow with roles and four eyes, the public
reading and search endpoints, bad input answered 4xx naming the field, and the importer."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.portal.content import service

GANGNAM = "11230"


def make_site(platform: Platform, slug: str = "gangnam-gu", district: str | None = GANGNAM) -> None:
    with platform.db.session() as session:
        service.create_site(
            session, slug=slug, kind="district", name_ko="강남구청", name_en="Gangnam-gu Office",
            district_code=district, nav=[("소개", "About", "about")],
        )  # fmt: skip


def editors(client: Any, platform: Platform) -> tuple[dict[str, str], dict[str, str]]:
    """Two district staff of Gangnam-gu: an author and a reviewer."""
    headers = []
    for name in ("author.kim", "reviewer.lee"):
        account = make_account(platform.db, name, ["district_staff"], district_code=GANGNAM)
        headers.append({"Authorization": f"Bearer {token_for(client, account)}"})
    return headers[0], headers[1]


NEW = {
    "path": "news/winter-reading",
    "kind": "news",
    "title": "강남구립도서관 겨울 독서교실 참가자 모집",
    "body_html": (
        '<p>어린이 대상 <a href="/sites/gangnam-gu/about" onclick="steal()">안내</a></p>'
        "<script>alert(1)</script>"
    ),
}


def publish(client: Any, author: dict[str, str], reviewer: dict[str, str], body: dict[str, Any] = NEW) -> int:
    created = client.post("/api/v1/content/sites/gangnam-gu/documents", json=body, headers=author)
    assert created.status_code == 201, created.text
    document_id = int(created.json()["id"])
    assert client.post(f"/api/v1/content/documents/{document_id}/submit", headers=author).status_code == 200
    approved = client.post(f"/api/v1/content/documents/{document_id}/approve", headers=reviewer)
    assert approved.status_code == 200, approved.text
    return document_id


def test_an_editor_publishes_with_a_second_persons_approval(client: Any, platform: Platform) -> None:
    make_site(platform)
    author, reviewer = editors(client, platform)
    created = client.post("/api/v1/content/sites/gangnam-gu/documents", json=NEW, headers=author)
    document_id = created.json()["id"]
    assert created.json()["state"] == "draft"
    assert client.get("/api/v1/content/sites/gangnam-gu/pages/news/winter-reading").status_code == 404
    client.post(f"/api/v1/content/documents/{document_id}/submit", headers=author)
    own = client.post(f"/api/v1/content/documents/{document_id}/approve", headers=author)
    assert own.status_code == 403
    with platform.db.session() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
        assert any("cannot approve" in entry.reason for entry in denied)
    approved = client.post(f"/api/v1/content/documents/{document_id}/approve", headers=reviewer)
    assert approved.json()["state"] == "published"
    page = client.get("/api/v1/content/sites/gangnam-gu/pages/news/winter-reading").json()
    assert page["title"] == NEW["title"]
    assert "<script" not in page["body_html"]
    assert "onclick" not in page["body_html"]
    assert "안내</a>" in page["body_html"]
    found = client.get("/api/v1/search", params={"q": "도서관"}).json()
    assert [item["id"] for item in found["items"]] == [document_id]
    # an edit, its history and a restore
    edit = {"title": "마감되었습니다", "body_html": "<p>모집 마감</p>", "note": "마감"}
    assert (
        client.put(f"/api/v1/content/documents/{document_id}", json=edit, headers=author).status_code == 200
    )
    public = client.get("/api/v1/content/sites/gangnam-gu/pages/news/winter-reading").json()
    assert public["title"] == NEW["title"]  # the published revision stays until the edit is approved
    history = client.get(f"/api/v1/content/documents/{document_id}/revisions", headers=reviewer).json()
    assert [(r["number"], r["author"]) for r in history] == [(2, "author.kim"), (1, "author.kim")]
    changes = client.get(
        f"/api/v1/content/documents/{document_id}/revisions/1/diff/2", headers=reviewer
    ).json()
    assert "+마감되었습니다" in changes["diff"]
    restored = client.post(f"/api/v1/content/documents/{document_id}/revisions/1/restore", headers=reviewer)
    assert restored.json()["latest"]["number"] == 3
    assert restored.json()["latest"]["title"] == NEW["title"]
    missing = client.post(f"/api/v1/content/documents/{document_id}/revisions/9/restore", headers=reviewer)
    assert missing.status_code == 404


def test_roles_are_enforced_on_every_editor_endpoint(client: Any, platform: Platform) -> None:
    make_site(platform)
    author, reviewer = editors(client, platform)
    document_id = publish(client, author, reviewer)
    outsider = make_account(platform.db, "jongno.staff", ["district_staff"], district_code="11110")
    citizen = make_account(platform.db, "citizen.park", ["citizen"])
    calls = [
        ("post", "/api/v1/content/sites/gangnam-gu/documents", {"json": {**NEW, "path": "x"}}),
        ("get", f"/api/v1/content/documents/{document_id}", {}),
        ("put", f"/api/v1/content/documents/{document_id}", {"json": {"title": "x"}}),
        ("post", f"/api/v1/content/documents/{document_id}/unpublish", {}),
        ("get", f"/api/v1/content/documents/{document_id}/revisions", {}),
    ]
    for who in (outsider, citizen):
        headers = {"Authorization": f"Bearer {token_for(client, who)}"}
        for method, url, extra in calls:
            assert getattr(client, method)(url, headers=headers, **extra).status_code == 403, (
                who.username,
                url,
            )
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        for method, url, extra in calls:
            assert getattr(client, method)(url, headers=headers, **extra).status_code == 401, url
    assert client.get("/api/v1/content/sites/gangnam-gu/pages/news/winter-reading").status_code == 200


def test_bad_input_is_4xx_naming_the_field(client: Any, platform: Platform) -> None:
    make_site(platform)
    author, _ = editors(client, platform)
    for change, field in (
        ({"path": "../../etc"}, "path"),
        ({"kind": "blog"}, "kind"),
        ({"title": " "}, "title"),
        ({"kind": "event"}, "event_start"),
    ):
        answer = client.post(
            "/api/v1/content/sites/gangnam-gu/documents", json={**NEW, **change}, headers=author
        )
        assert answer.status_code == 422, change
        assert answer.json()["field"] == field
    assert client.get("/api/v1/content/sites/nowhere").status_code == 404
    missing = client.get("/api/v1/content/sites/gangnam-gu/pages/nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/content/sites/Bad_Slug").status_code == 422
    assert client.get("/api/v1/content/attachments/../../secret_key").status_code == 404


def test_search_api_filters_and_refuses_bad_input(client: Any, platform: Platform) -> None:
    make_site(platform)
    author, reviewer = editors(client, platform)
    news = publish(client, author, reviewer)
    story = {"path": "events/story", "kind": "event", "title": "도서관 이야기 축제"}
    event = publish(client, author, reviewer, {**NEW, **story, "event_start": "2026-12-20T10:00:00+09:00"})
    ids = lambda **params: [i["id"] for i in client.get("/api/v1/search", params=params).json()["items"]]  # noqa: E731
    assert sorted(ids(q="도서관")) == sorted([news, event])
    assert ids(q="도서관", type="event") == [event]
    assert ids(q="도서관", site="gangnam-gu", type="news") == [news]
    assert ids(q="도서관", site="jongno-gu") == []
    assert ids(q="도서관", to="2000-01-01") == []
    assert ids(q="도서관 축제", sort="relevance") == [event]
    for params, field in (
        ({"q": "도서관", "sort": "random"}, "sort"),
        ({"q": "도서관", "type": "blog"}, "type"),
        ({"q": "도서관", "from": "2026-13-01"}, "from"),
        ({"q": "!!!"}, "q"),
    ):
        answer = client.get("/api/v1/search", params=params)
        assert answer.status_code == 422
        assert answer.json()["field"] == field
    assert client.get("/api/v1/search").status_code == 422


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_import_api_reports_each_document_and_serves_redirects(client: Any, platform: Platform) -> None:
    make_site(platform)
    author, _ = editors(client, platform)
    good = (
        '<html><head><title>구청 연혁</title><meta name="date" content="2015-03-01T09:00:00+09:00">'
        '<link rel="canonical" href="http://old.gangnam.go.kr/board/view.do?id=12"></head>'
        '<body><h1>연혁</h1><p>1975년 개청 <a href="../files/history.pdf">연혁 PDF</a></p></body></html>'
    ).encode()
    archive = _zip({
        "about/history.html": good,
        "files/history.pdf": b"%PDF-1.4 test",
        "broken.html": b"<html><body><p>no title at all</p></body></html>",
    })  # fmt: skip
    answer = client.post(
        "/api/v1/content/sites/gangnam-gu/import",
        files={"archive": ("old-site.zip", archive, "application/zip")},
        headers=author,
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [i["url"] for i in report["imported"]] == ["/sites/gangnam-gu/about/history"]
    assert [f["file"] for f in report["failed"]] == ["broken.html"]
    assert "title" in report["failed"][0]["error"]
    page = client.get("/api/v1/content/sites/gangnam-gu/pages/about/history").json()
    assert page["published_at"].startswith("2015-03-01T00:00:00")
    download = client.get(page["attachments"][0]["url"])
    assert download.content == b"%PDF-1.4 test"
    assert page["attachments"][0]["url"] in page["body_html"]
    for old in ("/sites/gangnam-gu/about/history.html", "/sites/gangnam-gu/board/view.do?id=12"):
        moved = client.get(old, follow_redirects=False)
        assert moved.status_code == 301, old
        assert moved.headers["location"] == "/sites/gangnam-gu/about/history"
    bad = client.post(
        "/api/v1/content/sites/gangnam-gu/import",
        files={"archive": ("x.zip", b"not a zip", "application/zip")},
        headers=author,
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "archive"
