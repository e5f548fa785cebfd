"""The editors' pages as a person uses them: plain forms with the CSRF token, four eyes, history."""

from __future__ import annotations

from typing import Any

from conftest import PASSWORD, make_account
from smartseoul.core.bootstrap import Platform
from smartseoul.portal.content.tests.test_api import make_site

HTML = {"accept": "text/html"}


def log_in(client: Any, username: str) -> str:
    client.cookies.clear()
    client.get("/login")
    form = {"username": username, "password": PASSWORD, "csrf_token": client.cookies.get("ss_csrf")}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    return str(client.cookies.get("ss_csrf"))


def test_write_review_and_publish_through_the_editor_pages(client: Any, platform: Platform) -> None:
    make_site(platform)
    for name in ("author.kim", "reviewer.lee"):
        make_account(platform.db, name, ["district_staff"], district_code="11230")
    make_account(platform.db, "citizen.park", ["citizen"])
    assert client.get("/console/content", headers=HTML, follow_redirects=False).status_code == 303
    csrf = log_in(client, "author.kim")
    page = client.get("/console/content", headers=HTML)
    assert page.status_code == 200
    assert 'value="gangnam-gu"' in page.text
    draft = {"site": "gangnam-gu", "kind": "notice", "path": "notice/snow", "title": "제설 작업 안내",
             "body_html": "<p>이면도로 제설</p><script>x()</script>"}  # fmt: skip
    assert client.post("/console/content/new", data=draft, headers=HTML).status_code == 403  # no CSRF token
    created = client.post("/console/content/new", data={**draft, "csrf_token": csrf}, follow_redirects=False)
    assert created.status_code == 303
    document_url = created.headers["location"]
    bad = client.post(
        "/console/content/new", data={**draft, "path": "../x", "csrf_token": csrf}, headers=HTML
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    client.post(f"{document_url}/submit", data={"csrf_token": csrf})
    own = client.post(f"{document_url}/approve", data={"csrf_token": csrf}, headers=HTML)
    assert own.status_code == 403
    assert client.get("/sites/gangnam-gu/notice/snow").status_code == 404
    csrf = log_in(client, "reviewer.lee")
    assert "제설 작업 안내" in client.get("/console/content", headers=HTML).text
    approved = client.post(f"{document_url}/approve", data={"csrf_token": csrf}, follow_redirects=False)
    assert approved.status_code == 303
    public = client.get("/sites/gangnam-gu/notice/snow")
    assert public.status_code == 200
    assert "이면도로 제설" in public.text
    assert "x()" not in public.text
    history = client.get(document_url, headers=HTML)
    assert "author.kim" in history.text
    assert "+제설 작업 안내" in history.text or "제설 작업 안내" in history.text
    log_in(client, "citizen.park")
    assert client.get("/console/content", headers=HTML).status_code == 403
    assert client.get(document_url, headers=HTML).status_code == 403
