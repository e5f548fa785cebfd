"""Citizen identity over HTTP: sign-up, a certificate from the city CA, certificate login and its
refusals (expired, revoked, foreign, wrong key, replayed), roles and tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry, User
from smartseoul.services.identity import pki, service
from smartseoul.services.identity.tests.helpers import (
    attempt_login,
    certificate_login,
    citizen,
    with_certificate,
)


def test_a_citizen_signs_up_and_logs_in_with_a_password(client: Any) -> None:
    body = {
        "username": "hong.gildong",
        "password": "a-long-passphrase",
        "display_name": "홍길동",
        "consent": True,
    }
    created = client.post("/api/v1/identity/signup", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["roles"] == ["citizen"]
    token = client.post(
        "/api/v1/auth/token", data={"username": "hong.gildong", "password": "a-long-passphrase"}
    )
    me = client.get(
        "/api/v1/identity/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["assurance"] == "login"
    assert me.json()["display_name"] == "홍길동"


def test_sign_up_refuses_bad_input_naming_the_field(client: Any) -> None:
    good = {
        "username": "kim.minji",
        "password": "a-long-passphrase",
        "display_name": "김민지",
        "consent": True,
    }
    cases = [
        ({"consent": False}, "consent"),
        ({"password": "short"}, "password"),
        ({"username": "Bad Name!"}, "username"),
    ]
    for change, field in cases:
        refused = client.post("/api/v1/identity/signup", json={**good, **change})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["field"] == field
    assert client.post("/api/v1/identity/signup", json=good).status_code == 201
    taken = client.post("/api/v1/identity/signup", json=good)
    assert taken.status_code == 422
    assert taken.json()["field"] == "username"


def test_certificate_login_grants_certificate_assurance_bound_to_the_account(
    client: Any, platform: Platform
) -> None:
    person = with_certificate(client, citizen(client, platform, "lee.cert"))
    assert person.certificate is not None
    assert person.certificate.subject.get_attributes_for_oid(x509.NameOID.USER_ID)[0].value == "lee.cert"
    assert client.get("/api/v1/identity/assurance", headers=person.headers).json()["level"] == "login"
    headers = certificate_login(client, person)
    assert client.get("/api/v1/identity/assurance", headers=headers).json() == {
        "level": "certificate",
        "reason": "",
    }
    listed = client.get("/api/v1/identity/certificates", headers=person.headers).json()
    assert [row["state"] for row in listed] == ["valid"]
    assert listed[0]["last_login_at"]
    # the assurance belongs to this account: another citizen cannot borrow it
    other = citizen(client, platform, "park.other")
    borrowed = {**other.headers, "X-Assurance": headers["X-Assurance"]}
    assert client.get("/api/v1/identity/assurance", headers=borrowed).json()["level"] == "login"


def test_certificate_login_without_a_session_signs_the_citizen_in(client: Any, platform: Platform) -> None:
    person = with_certificate(client, citizen(client, platform, "cho.nosession"))
    challenge = client.post("/api/v1/identity/challenge").json()
    assert person.key is not None
    signed = pki.sign_message(person.key, challenge["message"].encode())
    response = client.post(
        "/api/v1/identity/certificate-login",
        json={"nonce": challenge["nonce"], "certificate": person.pem, "signature": signed},
    )
    assert response.status_code == 200, response.text
    assert "ss_session" in response.cookies
    assert "ss_assurance" in response.cookies


def _refusal(response: Any, code: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.json()


def test_expired_revoked_foreign_and_wrong_key_certificates_are_refused_with_the_reason(
    client: Any, platform: Platform
) -> None:
    person = with_certificate(client, citizen(client, platform, "yoon.refused"))
    ca = pki.city_ca(platform.settings.data_dir)
    # expired: issued by the city CA (and bound to the account) but past its dates
    expired = pki.issue_citizen(
        ca, username=person.username, display_name="윤", days=5, not_before=utcnow() - timedelta(days=10)
    )
    with platform.db.session() as session:
        user = session.scalar(select(User).where(User.username == person.username))
        assert user is not None
        service.bind_certificate(session, user, expired.certificate)
    expired_pem = expired.certificate.public_bytes(serialization.Encoding.PEM).decode()
    _refusal(attempt_login(client, person, certificate_pem=expired_pem, key=expired.key), "expired")
    # foreign: a look-alike CA with the same names
    foreign = pki.issue_citizen(pki.make_ca(), username=person.username, display_name="윤", days=30)
    foreign_pem = foreign.certificate.public_bytes(serialization.Encoding.PEM).decode()
    _refusal(attempt_login(client, person, certificate_pem=foreign_pem, key=foreign.key), "unknown_issuer")
    # wrong key: the right certificate, signed with another key
    wrong = attempt_login(client, person, key=pki.new_key())
    _refusal(wrong, "bad_signature")
    assert wrong.json()["field"] == "signature"
    # revoked by its owner: listed on the CRL, refused from then on
    assert person.certificate is not None
    serial = pki.serial_hex(person.certificate)
    revoked = client.post(
        f"/api/v1/identity/certificates/{serial}/revoke",
        json={"reason": "phone lost"},
        headers=person.headers,
    )
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    crl = x509.load_der_x509_crl(client.get("/pki/crl.der").content)
    assert crl.is_signature_valid(ca.issuer.public_key())
    assert crl.get_revoked_certificate_by_serial_number(person.certificate.serial_number) is not None
    _refusal(attempt_login(client, person), "revoked")
    with platform.db.session() as session:
        reasons = set(
            session.scalars(
                select(AuditEntry.reason).where(
                    AuditEntry.action == "identity.certificate.login", AuditEntry.outcome == "denied"
                )
            )
        )
    assert {"expired", "unknown_issuer", "bad_signature", "revoked"} <= reasons


def test_revocation_ends_a_certificate_session_at_once(client: Any, platform: Platform) -> None:
    person = with_certificate(client, citizen(client, platform, "han.revoke"))
    headers = certificate_login(client, person)
    assert person.certificate is not None
    client.post(
        f"/api/v1/identity/certificates/{pki.serial_hex(person.certificate)}/revoke",
        json={},
        headers=person.headers,
    )
    held = client.get("/api/v1/identity/assurance", headers=headers).json()
    assert held == {"level": "login", "reason": "the certificate was revoked"}


def test_a_challenge_is_used_once(client: Any, platform: Platform) -> None:
    person = with_certificate(client, citizen(client, platform, "seo.replay"))
    challenge = client.post("/api/v1/identity/challenge").json()
    assert person.key is not None
    body = {
        "nonce": challenge["nonce"],
        "certificate": person.pem,
        "signature": pki.sign_message(person.key, challenge["message"].encode()),
    }
    assert (
        client.post("/api/v1/identity/certificate-login", json=body, headers=person.headers).status_code
        == 200
    )
    replay = client.post("/api/v1/identity/certificate-login", json=body, headers=person.headers)
    assert replay.status_code == 400
    assert replay.json()["code"] == "unknown_challenge"
    assert replay.json()["field"] == "nonce"


def test_a_citizen_cannot_log_in_with_another_citizens_certificate(client: Any, platform: Platform) -> None:
    owner = with_certificate(client, citizen(client, platform, "jang.owner"))
    thief = citizen(client, platform, "jang.thief")
    thief.certificate, thief.key = owner.certificate, owner.key
    _refusal(attempt_login(client, thief), "other_account")
    assert owner.certificate is not None
    serial = pki.serial_hex(owner.certificate)
    not_theirs = client.post(f"/api/v1/identity/certificates/{serial}/revoke", json={}, headers=thief.headers)
    assert not_theirs.status_code == 404


def test_roles_and_tokens_are_enforced(client: Any, platform: Platform) -> None:
    assert client.post("/api/v1/identity/certificates", json={}).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged"}
    assert client.post("/api/v1/identity/certificates", json={}, headers=forged).status_code == 401
    guardian = citizen(client, platform, "guardian.kim", roles=["guardian"])
    refused = client.post("/api/v1/identity/certificates", json={}, headers=guardian.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    person = citizen(client, platform, "pkcs.user")
    short = client.post(
        "/api/v1/identity/certificates", json={"format": "p12", "password": "short"}, headers=person.headers
    )
    assert short.status_code == 422
    assert short.json()["field"] == "password"
    p12 = client.post(
        "/api/v1/identity/certificates",
        json={"format": "p12", "password": "a-long-password"},
        headers=person.headers,
    )
    assert p12.status_code == 200
    assert p12.headers["content-type"] == "application/x-pkcs12"


def test_the_root_and_chain_are_published(client: Any, platform: Platform) -> None:
    root = x509.load_pem_x509_certificate(client.get("/pki/root.pem").content)
    chain = x509.load_pem_x509_certificates(client.get("/pki/ca.pem").content)
    ca = pki.city_ca(platform.settings.data_dir)
    assert root == ca.root
    assert chain == [ca.issuer, ca.root]
