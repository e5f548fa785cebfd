"""Authentication and authorisation through the real HTTP API, with real attempts to get in."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pyotp
import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, make_account, reset_otp_replay, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import ApiKey, AuditEntry, User


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return body


def _audit_rows(platform: Platform, action: str, outcome: str | None = None) -> list[AuditEntry]:
    with platform.db.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == action)
        if outcome:
            query = query.where(AuditEntry.outcome == outcome)
        return list(session.scalars(query))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_operator_gets_a_token_with_password_and_code(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "kim.operator", ["operator"])
    token = token_for(client, operator)
    me = client.get("/api/v1/auth/me", headers=_auth(token)).json()
    assert me["name"] == "kim.operator"
    assert me["roles"] == ["operator"]
    assert _audit_rows(platform, "auth.login", "ok")


def test_privileged_roles_need_the_code(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "lee.operator", ["operator"])
    form = {"username": operator.username, "password": operator.password}
    _problem(client.post("/api/v1/auth/token", data=form), 401, "otp_required")
    _problem(client.post("/api/v1/auth/token", data={**form, "otp": "000000"}), 401, "invalid_credentials")


def test_a_code_cannot_be_replayed(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "park.operator", ["operator"])
    code = operator.otp()
    form = {"username": operator.username, "password": operator.password, "otp": code}
    assert client.post("/api/v1/auth/token", data=form).status_code == 200
    _problem(client.post("/api/v1/auth/token", data=form), 401, "invalid_credentials")


def test_mfa_roles_without_an_authenticator_must_enrol_first(client: Any, platform: Platform) -> None:
    auditor = make_account(platform.db, "choi.auditor", ["auditor"], mfa=False)
    form = {"username": auditor.username, "password": auditor.password}
    _problem(client.post("/api/v1/auth/token", data=form), 403, "mfa_enrolment_required")


def test_citizens_log_in_with_a_password_only(client: Any, platform: Platform) -> None:
    citizen = make_account(platform.db, "jung.citizen", ["citizen"])
    assert citizen.totp_secret is None
    assert token_for(client, citizen)


def test_wrong_password_is_refused_and_audited(client: Any, platform: Platform) -> None:
    make_account(platform.db, "han.citizen", ["citizen"])
    response = client.post(
        "/api/v1/auth/token", data={"username": "han.citizen", "password": "guess-1234567"}
    )
    _problem(response, 401, "invalid_credentials")
    assert response.headers["www-authenticate"] == "Bearer"
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "guess-1234567"})
    assert unknown.json()["detail"] == response.json()["detail"]
    denied = _audit_rows(platform, "auth.login", "denied")
    assert {row.actor for row in denied} >= {"han.citizen", "nobody"}


def test_repeated_failures_lock_the_account(client: Any, platform: Platform) -> None:
    make_account(platform.db, "yoon.citizen", ["citizen"])
    for _ in range(platform.settings.login_max_failures):
        client.post("/api/v1/auth/token", data={"username": "yoon.citizen", "password": "wrong-password-1"})
    locked = client.post("/api/v1/auth/token", data={"username": "yoon.citizen", "password": PASSWORD})
    _problem(locked, 423, "locked")


def test_login_attempts_are_rate_limited_per_client(client: Any, platform: Platform) -> None:
    statuses = [
        client.post("/api/v1/auth/token", data={"username": f"u{i}", "password": "x" * 12}).status_code
        for i in range(platform.settings.login_rate_per_minute + 1)
    ]
    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {401}


def test_forged_expired_and_tampered_tokens_are_refused(client: Any, platform: Platform) -> None:
    citizen = make_account(platform.db, "kang.citizen", ["citizen"])
    good = token_for(client, citizen)
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode({**claims, "name": "admin"}, "another-secret-" + "y" * 40, algorithm="HS256")
    _problem(client.get("/api/v1/auth/me", headers=_auth(forged)), 401, "token_invalid")
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, platform.secret_key, algorithm="HS256")
    _problem(client.get("/api/v1/auth/me", headers=_auth(expired)), 401, "token_expired")
    header, payload, signature = good.split(".")
    tampered = ".".join([header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
    _problem(client.get("/api/v1/auth/me", headers=_auth(tampered)), 401, "token_invalid")
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    _problem(client.get("/api/v1/auth/me", headers=_auth(unsigned)), 401, "token_invalid")
    session_token = jwt.encode({**claims, "typ": "session"}, platform.secret_key, algorithm="HS256")
    _problem(client.get("/api/v1/auth/me", headers=_auth(session_token)), 401, "token_invalid")
    _problem(client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}), 401)


def test_changing_roles_revokes_tokens_already_issued(client: Any, platform: Platform) -> None:
    admin = make_account(platform.db, "admin.one", ["admin"])
    staff = make_account(platform.db, "seo.staff", ["district_staff"])
    staff_token = token_for(client, staff)
    admin_token = token_for(client, admin)
    patched = client.patch("/api/v1/users/seo.staff", json={"roles": ["citizen"]}, headers=_auth(admin_token))
    assert patched.json()["roles"] == ["citizen"]
    _problem(client.get("/api/v1/auth/me", headers=_auth(staff_token)), 401, "token_revoked")
    assert _audit_rows(platform, "user.roles")[0].details["after"] == ["citizen"]


def test_the_wrong_role_is_forbidden_and_the_denial_audited(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "oh.operator", ["operator"])
    token = token_for(client, operator)
    _problem(client.get("/api/v1/users", headers=_auth(token)), 403, "forbidden")
    _problem(client.get("/api/v1/audit", headers=_auth(token)), 403, "forbidden")
    denied = _audit_rows(platform, "access.denied")
    assert {row.target for row in denied} == {"GET /api/v1/users", "GET /api/v1/audit"}
    assert all(row.actor == "oh.operator" for row in denied)
    _problem(client.get("/api/v1/users"), 401, "unauthenticated")


def test_admin_manages_users_through_the_api(client: Any, platform: Platform) -> None:
    admin = make_account(platform.db, "admin.two", ["admin"])
    headers = _auth(token_for(client, admin))
    created = client.post(
        "/api/v1/users",
        headers=headers,
        json={"username": "new.dispatcher", "password": "a-long-password-1", "roles": ["dispatcher"]},
    )
    assert created.status_code == 201
    assert created.json()["mfa_enabled"] is False
    _problem(
        client.post(
            "/api/v1/users",
            headers=headers,
            json={"username": "new.dispatcher", "password": "a-long-password-1", "roles": ["dispatcher"]},
        ),
        422,
    )
    _problem(
        client.post(
            "/api/v1/users",
            headers=headers,
            json={"username": "weak", "password": "short", "roles": ["citizen"]},
        ),
        422,
        "invalid_input",
    )
    _problem(
        client.post(
            "/api/v1/users",
            headers=headers,
            json={"username": "bad.role", "password": "a-long-password-1", "roles": ["superuser"]},
        ),
        422,
        "invalid_input",
    )
    names = [u["username"] for u in client.get("/api/v1/users", headers=headers).json()]
    assert "new.dispatcher" in names
    assert "weak" not in names


def test_api_keys_are_stored_hashed_and_can_be_revoked(client: Any, platform: Platform) -> None:
    admin = make_account(platform.db, "admin.three", ["admin"])
    headers = _auth(token_for(client, admin))
    key = client.post("/api/v1/api-keys", headers=headers, json={"name": "school gate 7", "role": "operator"})
    assert key.status_code == 201
    secret = key.json()["api_key"]
    with platform.db.session() as session:
        stored = session.scalar(select(ApiKey))
        assert stored is not None
        assert secret.split("_", 2)[2] not in (stored.key_hash, stored.prefix)
    assert (
        client.get("/api/v1/auth/me", headers={"X-API-Key": secret}).json()["name"] == "apikey:school gate 7"
    )
    assert client.get("/api/v1/auth/me", headers=_auth(secret)).status_code == 200
    _problem(
        client.get("/api/v1/auth/me", headers={"X-API-Key": secret[:-3] + "abc"}), 401, "api_key_invalid"
    )
    assert client.delete(f"/api/v1/api-keys/{stored.prefix}", headers=headers).status_code == 204
    _problem(client.get("/api/v1/auth/me", headers={"X-API-Key": secret}), 401, "api_key_invalid")


def test_only_auditors_read_the_ledger_and_reads_are_recorded(client: Any, platform: Platform) -> None:
    auditor = make_account(platform.db, "audit.kim", ["auditor"])
    headers = _auth(token_for(client, auditor))
    rows = client.get("/api/v1/audit", params={"reason": "quarterly review"}, headers=headers).json()
    assert any(r["action"] == "user.create" for r in rows)
    reads = _audit_rows(platform, "audit.read")
    assert reads[-1].actor == "audit.kim"
    assert reads[-1].reason == "quarterly review"
    verdict = client.get("/api/v1/audit/verify", headers=headers).json()
    assert verdict["ok"] is True
    assert verdict["checked"] >= 2


def test_malformed_and_oversized_bodies_change_nothing(client: Any, platform: Platform) -> None:
    admin = make_account(platform.db, "admin.four", ["admin"])
    headers = {**_auth(token_for(client, admin)), "Content-Type": "application/json"}
    with platform.db.session() as session:
        before = session.scalar(select(func.count()).select_from(User))
    _problem(
        client.post("/api/v1/users", headers=headers, content=b'{"username": "x",'), 400, "malformed_json"
    )
    _problem(client.post("/api/v1/users", headers=headers, content=b"[1, 2]"), 422, "validation_failed")
    huge = b'{"username": "' + b"a" * (platform.settings.max_body_bytes + 10) + b'"}'
    _problem(client.post("/api/v1/users", headers=headers, content=huge), 413, "body_too_large")
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == before


def test_cookie_sessions_need_the_csrf_token(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "csrf.operator", ["operator"])
    client.get("/login")
    csrf = client.cookies.get("ss_csrf")
    assert csrf
    form = {"username": operator.username, "password": operator.password, "otp": operator.otp()}
    _problem(client.post("/login", data=form, follow_redirects=False), 403, "csrf_failed")
    reset_otp_replay(platform.db, operator.username)
    form["otp"] = pyotp.TOTP(operator.totp_secret or "").now()
    logged_in = client.post("/login", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/console"
    assert client.cookies.get("ss_session")
    _problem(client.post("/logout", follow_redirects=False), 403, "csrf_failed")
    logout = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert logout.status_code == 303


@pytest.mark.parametrize("path", ["/console", "/admin/users", "/audit"])
def test_pages_send_strangers_to_the_login_page(client: Any, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_every_refused_login_says_why_in_the_ledger(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "why.operator", ["operator"])
    form = {"username": operator.username, "password": operator.password}
    client.post("/api/v1/auth/token", data=form)
    client.post("/api/v1/auth/token", data={**form, "password": "not-the-password"})
    reasons = [row.reason for row in _audit_rows(platform, "auth.login", "denied")]
    assert reasons == ["code required", "bad password"]


@pytest.mark.parametrize(
    ("roles", "landing"),
    [(["operator"], "/console"), (["guardian"], "/app"), (["citizen"], "/services/my")],
)
def test_people_land_where_their_work_is(
    client: Any, platform: Platform, roles: list[str], landing: str
) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/portal"  # not signed in yet
    account = make_account(platform.db, f"land.{roles[0]}", roles)
    client.get("/login")
    form = {
        "username": account.username,
        "password": account.password,
        "csrf_token": client.cookies.get("ss_csrf"),
    }
    if account.totp_secret:
        form["otp"] = account.otp()
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.headers["location"] == landing
    assert client.get("/", follow_redirects=False).headers["location"] == landing
