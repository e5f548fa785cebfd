"""Citizen identity: sign-up, citizen certificates, certificate login and assurance levels.

Assurance is what a service needs of the person asking (the catalogue says which):
``none`` (anyone), ``login`` (a signed-in citizen, password is enough) and ``certificate`` (the
citizen proved, within the last minutes, that they hold the key of a valid city certificate bound
to their account). The certificate level is a short-lived signed token (cookie ``ss_assurance``
for pages, header ``X-Assurance`` for API clients) tied to the account and the certificate, so a
revoked certificate ends it at once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartseoul.core import audit, auth
from smartseoul.core.db import utcnow
from smartseoul.core.models import User
from smartseoul.core.settings import Settings
from smartseoul.services.identity import pki
from smartseoul.services.identity.models import CitizenCertificate, LoginChallenge

LEVELS = ("none", "login", "certificate")
ASSURANCE_COOKIE = "ss_assurance"
ASSURANCE_HEADER = "x-assurance"


class IdentityError(Exception):
    """A refusal with an HTTP status, a stable code and the field at fault (if any)."""

    def __init__(self, status: int, code: str, detail: str, field: str = "") -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


def rank(level: str) -> int:
    return LEVELS.index(level)


# ---------------------------------------------------------------- citizens


def sign_up(
    session: Session, *, username: str, password: str, display_name: str, consent: bool, client: str = ""
) -> User:
    """A citizen account (role ``citizen``); consent to the terms is required and recorded."""
    if not consent:
        raise IdentityError(422, "consent_required", "consent to the terms of use is required", "consent")
    name = display_name.strip()
    if not 1 <= len(name) <= 64:
        raise IdentityError(422, "invalid_display_name", "display name: 1-64 characters", "display_name")
    try:
        user = auth.create_user(
            session,
            username=username,
            password=password,
            roles=["citizen"],
            actor=username,
            display_name=name,
        )
    except auth.InvalidInput as error:
        field = str(error).split(":", 1)[0]
        raise IdentityError(422, "invalid_signup", str(error), field) from None
    audit.record(
        session,
        actor=username,
        action="identity.signup",
        target=f"user:{username}",
        client=client,
        details={"consent": "terms-v1"},
    )
    return user


# ---------------------------------------------------------------- certificates


def issue_certificate(session: Session, settings: Settings, user: User) -> pki.IssuedCertificate:
    """Issue a citizen certificate bound to ``user``; the key is handed over once, never stored."""
    ca = pki.city_ca(settings.data_dir)
    issued = pki.issue_citizen(
        ca, username=user.username, display_name=user.display_name, days=settings.identity_citizen_cert_days
    )
    bind_certificate(session, user, issued.certificate)
    return issued


def bind_certificate(session: Session, user: User, certificate: x509.Certificate) -> CitizenCertificate:
    """Record that ``certificate`` belongs to ``user`` (certificate login finds the account by it)."""
    row = CitizenCertificate(
        serial=pki.serial_hex(certificate),
        user_id=user.id,
        subject=certificate.subject.rfc4514_string()[:256],
        fingerprint=pki.fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        revoke_reason="",
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor=user.username, action="identity.certificate.issue", target=f"cert:{row.serial}"
    )
    return row


def certificates_of(session: Session, user_id: int) -> list[CitizenCertificate]:
    query = select(CitizenCertificate).where(CitizenCertificate.user_id == user_id)
    return list(
        session.scalars(query.order_by(CitizenCertificate.issued_at.desc(), CitizenCertificate.id.desc()))
    )


def certificate_dict(row: CitizenCertificate, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    state = "revoked" if row.revoked_at else ("expired" if row.not_after < now else "valid")
    return {
        "serial": row.serial,
        "subject": row.subject,
        "fingerprint": row.fingerprint,
        "not_before": row.not_before.isoformat(),
        "not_after": row.not_after.isoformat(),
        "state": state,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "revoke_reason": row.revoke_reason,
        "last_login_at": row.last_login_at.isoformat() if row.last_login_at else None,
    }


def revoke_certificate(
    session: Session, serial: str, *, actor: str, reason: str, owner_id: int | None = None
) -> CitizenCertificate:
    """Revoke a citizen certificate: it is listed on the next CRL and ends its assurance tokens.
    ``owner_id`` limits the revocation to that citizen's own certificates."""
    serial = serial.lower().removeprefix("0x")
    row = session.scalar(select(CitizenCertificate).where(CitizenCertificate.serial == serial))
    if row is None or (owner_id is not None and row.user_id != owner_id):
        raise IdentityError(404, "unknown_certificate", f"no certificate with serial {serial}", "serial")
    if row.revoked_at is None:
        row.revoked_at, row.revoke_reason = utcnow(), reason[:200] or "unspecified"
        audit.record(
            session, actor=actor, action="identity.certificate.revoke", target=f"cert:{serial}", reason=reason
        )
    return row


def current_crl(session: Session, settings: Settings) -> x509.CertificateRevocationList:
    """The CRL the city CA publishes now (``/pki/crl.der``), built from the revocations recorded."""
    rows = session.execute(
        select(CitizenCertificate.serial, CitizenCertificate.revoked_at).where(
            CitizenCertificate.revoked_at.is_not(None)
        )
    ).all()
    return pki.build_crl(
        pki.city_ca(settings.data_dir), [(int(serial, 16), when) for serial, when in rows if when is not None]
    )


# ---------------------------------------------------------------- certificate login


def new_challenge(session: Session, settings: Settings) -> LoginChallenge:
    """A one-time nonce for a certificate login (challenges gone stale an hour ago are cleared
    here, so the table holds only the last hour's)."""
    now = utcnow()
    session.execute(delete(LoginChallenge).where(LoginChallenge.expires_at < now - timedelta(hours=1)))
    challenge = LoginChallenge(
        nonce=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.identity_challenge_ttl_seconds),
    )
    session.add(challenge)
    session.flush()
    return challenge


def challenge_message(nonce: str) -> bytes:
    """The exact bytes a client signs: a fixed label keeps a login signature from meaning anything else."""
    return f"smartseoul-login:{nonce}".encode()


def _consume_challenge(session: Session, nonce: str) -> None:
    challenge = session.scalar(select(LoginChallenge).where(LoginChallenge.nonce == nonce).with_for_update())
    now = utcnow()
    if challenge is None or challenge.used_at is not None:
        raise IdentityError(
            400, "unknown_challenge", "the challenge is unknown or already used: ask for a new one", "nonce"
        )
    if challenge.expires_at < now:
        raise IdentityError(400, "challenge_expired", "the challenge expired: ask for a new one", "nonce")
    challenge.used_at = now


@dataclass(frozen=True)
class CertificateLogin:
    user: User
    certificate: CitizenCertificate
    token: str
    expires_at: datetime


def certificate_login(
    session: Session,
    settings: Settings,
    secret: str,
    *,
    nonce: str,
    certificate_pem: str,
    signature: str,
    signed_in_user_id: int | None,
    client: str = "",
) -> CertificateLogin:
    """Check a signed challenge the way a relying party must, then grant certificate assurance.

    Order of checks: the challenge (one use), the chain to the city root with validity dates and
    key usage, the CA's CRL, the signature over the challenge, and that the certificate is bound
    to an account (the signed-in one, if someone is signed in). Every refusal is audited."""
    try:
        _consume_challenge(session, nonce)
        certificate = pki.load_certificate(certificate_pem)
        ca = pki.city_ca(settings.data_dir)
        pki.check_chain(ca, certificate)
        pki.check_crl(ca, certificate, current_crl(session, settings))
        pki.check_signature(certificate, challenge_message(nonce), signature)
        row = session.scalar(
            select(CitizenCertificate).where(CitizenCertificate.fingerprint == pki.fingerprint(certificate))
        )
        if row is None:
            raise IdentityError(
                403, "not_bound", "this certificate is not registered to any citizen account", "certificate"
            )
        if signed_in_user_id is not None and row.user_id != signed_in_user_id:
            raise IdentityError(
                403, "other_account", "this certificate belongs to another account", "certificate"
            )
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            raise IdentityError(
                403, "account_inactive", "the account of this certificate is disabled", "certificate"
            )
    except pki.CertificateRefused as refusal:
        _audit_refusal(session, client, refusal.code)
        raise IdentityError(
            403 if refusal.code != "malformed" else 422,
            refusal.code,
            refusal.detail,
            "certificate" if refusal.code != "bad_signature" else "signature",
        ) from None
    except IdentityError as error:
        _audit_refusal(session, client, error.code)
        raise
    row.last_login_at = utcnow()
    audit.record(
        session,
        actor=user.username,
        action="identity.certificate.login",
        target=f"cert:{row.serial}",
        client=client,
    )
    token, expires = assurance_token(secret, user, row, settings.identity_assurance_ttl_seconds)
    return CertificateLogin(user, row, token, expires)


def _audit_refusal(session: Session, client: str, code: str) -> None:
    audit.record(
        session, actor="-", action="identity.certificate.login", outcome="denied", reason=code, client=client
    )


# ---------------------------------------------------------------- assurance tokens


def assurance_token(
    secret: str, user: User, row: CitizenCertificate, ttl_seconds: int
) -> tuple[str, datetime]:
    now = int(time.time())
    expires = now + min(ttl_seconds, int((row.not_after - utcnow()).total_seconds()))
    claims = {
        "sub": str(user.id),
        "typ": "assurance",
        "lvl": "certificate",
        "cert": row.serial,
        "iat": now,
        "exp": expires,
    }
    return jwt.encode(claims, secret, algorithm="HS256"), datetime.fromtimestamp(expires, tz=utcnow().tzinfo)


def assurance_of(session: Session, secret: str, user_id: int | None, token: str | None) -> tuple[str, str]:
    """The level a request holds and, below certificate, why not: ("certificate", "") when the
    token is valid for ``user_id`` and its certificate is still neither revoked nor expired."""
    if user_id is None:
        return "none", "not signed in"
    if not token:
        return "login", "no certificate login in this session"
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp", "typ", "cert"]}
        )
    except jwt.ExpiredSignatureError:
        return "login", "the certificate login expired: sign the challenge again"
    except jwt.PyJWTError:
        return "login", "the certificate login is invalid"
    if claims.get("typ") != "assurance" or claims.get("sub") != str(user_id):
        return "login", "the certificate login belongs to another account"
    row = session.scalar(select(CitizenCertificate).where(CitizenCertificate.serial == claims["cert"]))
    if row is None or row.revoked_at is not None:
        return "login", "the certificate was revoked"
    if row.not_after < utcnow():
        return "login", "the certificate expired"
    return "certificate", ""
