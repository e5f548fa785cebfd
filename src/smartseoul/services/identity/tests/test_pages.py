"""Citizen pages as a phone browser uses them: sign-up form, landing, large text, roles."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import make_account


@pytest.fixture(params=["sqlite"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    """Pages only render what the API tests check on both engines: SQLite is enough here (and
    keeps the suite fast on two cores)."""
    return str(request.param)


def _csrf(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return str(client.cookies.get("ss_csrf"))


def test_the_sign_up_form_creates_a_citizen_who_lands_on_my_services(client: Any) -> None:
    token = _csrf(client, "/services/signup")
    form = {
        "csrf_token": token,
        "display_name": "박서울",
        "username": "park.seoul",
        "password": "a-long-passphrase",
        "password2": "a-long-passphrase",
    }
    no_consent = client.post("/services/signup", data=form, follow_redirects=False)
    assert no_consent.status_code == 422
    assert 'id="signup-error"' in no_consent.text
    mismatch = client.post("/services/signup", data={**form, "consent": "yes", "password2": "x"})
    assert mismatch.status_code == 422
    done = client.post("/services/signup", data={**form, "consent": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/services/my"
    my = client.get("/services/my")
    assert my.status_code == 200
    assert "박서울" in my.text
    assert 'id="assurance-level"' in my.text
    for path in ("/services/pki", "/services/documents", "/services", "/verify"):
        assert client.get(path).status_code == 200, path
    # the platform's own login also lands a citizen here
    client.cookies.clear()
    token = _csrf(client, "/login")
    login = {"csrf_token": token, "username": "park.seoul", "password": "a-long-passphrase"}
    landed = client.post("/login", data=login, follow_redirects=False)
    assert landed.headers["location"] == "/services/my"


def test_a_form_without_the_csrf_token_is_refused(client: Any) -> None:
    client.get("/services/signup")
    form = {"display_name": "X", "username": "no.csrf", "password": "a-long-passphrase", "consent": "yes"}
    assert client.post("/services/signup", data=form).status_code == 403


def test_large_text_is_remembered_and_citizen_pages_need_a_citizen(client: Any, platform: Any) -> None:
    toggled = client.get("/services/large-text?on=1&next=/verify", follow_redirects=False)
    assert toggled.headers["location"] == "/verify"
    assert "large-text.css" in client.get("/verify").text
    client.get("/services/large-text?on=0&next=//evil.example")
    assert "large-text.css" not in client.get("/verify").text
    assert client.get("/services/my", follow_redirects=False).headers["location"].startswith("/login")
    guardian = make_account(platform.db, "guardian.page", ["guardian"])
    token = _csrf(client, "/login")
    client.post(
        "/login", data={"csrf_token": token, "username": guardian.username, "password": guardian.password}
    )
    assert client.get("/services/my").status_code == 403
    assert client.get("/console/certificates").status_code == 403
