"""Accounts, passwords, TOTP, tokens and API keys.

Passwords are argon2id hashes; MFA (TOTP) is mandatory for the roles that see protected data or
run the control room (admin, operator, dispatcher, auditor). Bearer tokens and sessions are
HMAC-signed JWTs that carry the account's ``token_version``, so changing roles or locking an
account invalidates every token already issued. API keys are stored as SHA-256 only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.core.models import MFA_ROLES, ROLES, ApiKey, User, UserRole

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 10
TOTP_ISSUER = "Smart Seoul"
_hasher = PasswordHasher()
# Verifying against this keeps the time of an unknown-user login equal to a wrong-password one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AuthError(Exception):
    """A refused authentication or authorisation, with the HTTP status it maps to."""

    def __init__(self, status: int, title: str, detail: str, code: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code


class InvalidInput(ValueError):
    """A user-supplied value (username, password, role) that breaks a rule."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request: a person or an API key."""

    kind: str  # "user" or "api_key"
    id: int
    name: str
    roles: frozenset[str]
    district_code: str | None = None
    token_id: str = ""

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_username(username: str) -> str:
    if not USERNAME.match(username):
        raise InvalidInput("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'")
    return username


def validate_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters")
    if username and username.lower() in password.lower():
        raise InvalidInput("password: must not contain the username")
    return password


def validate_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise InvalidInput(f"roles: choose from {', '.join(ROLES)} (got {', '.join(unknown) or 'none'})")
    return sorted(set(roles))


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    actor: str,
    display_name: str = "",
    district_code: str | None = None,
) -> User:
    """Add an account; the ledger records who created it with which roles."""
    validate_username(username)
    validate_password(password, username)
    roles = validate_roles(roles)
    if get_user(session, username) is not None:
        raise InvalidInput(f"username: {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        district_code=district_code,
        roles=[UserRole(role=role) for role in roles],
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        target=f"user:{username}",
        details={"roles": roles, "district_code": district_code},
    )
    return user


def set_roles(session: Session, user: User, roles: list[str], *, actor: str) -> None:
    """Replace the roles; tokens issued before stop working."""
    roles = validate_roles(roles)
    before = user.role_names
    user.roles = [UserRole(role=role) for role in roles]
    user.token_version += 1
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.roles",
        target=f"user:{user.username}",
        details={"before": before, "after": roles},
    )


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    user.active = active
    user.token_version += 1
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        target=f"user:{user.username}",
    )


# ---------------------------------------------------------------- TOTP


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def check_totp(user: User, secret: str, code: str) -> bool:
    """Accept the current code or its neighbours once; a code already used is refused."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step, now_step - 1, now_step + 1):
        if step > user.totp_last_step and hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def enable_totp(session: Session, user: User, secret: str, code: str, *, client: str = "") -> bool:
    """Finish enrolment: the first valid code proves the authenticator holds the secret."""
    if not check_totp(user, secret, code):
        audit.record(session, actor=user.username, action="mfa.enrol", outcome="denied", client=client)
        return False
    user.totp_secret = secret
    user.totp_enabled = True
    audit.record(session, actor=user.username, action="mfa.enrol", client=client)
    return True


# ---------------------------------------------------------------- login


@dataclass
class LoginResult:
    user: User
    mfa_enrolment_required: bool


def _deny(session: Session, username: str, client: str, reason: str) -> AuthError:
    audit.record(
        session,
        actor=username or "-",
        action="auth.login",
        outcome="denied",
        client=client,
        reason=reason,
    )
    return AuthError(401, "Login failed", "wrong username, password or code", "invalid_credentials")


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    otp: str | None,
    client: str,
    max_failures: int,
    lockout_seconds: int,
) -> LoginResult:
    """Check password and TOTP, count failures, lock after too many; every outcome is audited."""
    user = get_user(session, username.strip().lower())
    if user is None:
        check_password(_DUMMY_HASH, password)
        raise _deny(session, username, client, "unknown user")
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        audit.record(
            session,
            actor=user.username,
            action="auth.login",
            outcome="denied",
            client=client,
            reason="account locked",
        )
        raise AuthError(423, "Account locked", "too many failed logins; try again later", "locked")
    if not user.active or not check_password(user.password_hash, password):
        _count_failure(user, max_failures, lockout_seconds)
        raise _deny(session, user.username, client, "inactive" if not user.active else "bad password")
    if user.totp_enabled:
        if not otp:
            # The password was right: the ledger shows the attempt stopped at the second factor.
            audit.record(
                session,
                actor=user.username,
                action="auth.login",
                outcome="denied",
                client=client,
                reason="code required",
            )
            raise AuthError(
                401, "Code required", "enter the 6-digit code from your authenticator", "otp_required"
            )
        if not check_totp(user, user.totp_secret or "", otp):
            _count_failure(user, max_failures, lockout_seconds)
            raise _deny(session, user.username, client, "bad otp")
    user.failed_logins = 0
    user.locked_until = None
    enrolment = user.needs_mfa and not user.totp_enabled
    audit.record(
        session,
        actor=user.username,
        action="auth.login",
        client=client,
        details={"mfa": user.totp_enabled, "enrolment_pending": enrolment},
    )
    return LoginResult(user, enrolment)


def _count_failure(user: User, max_failures: int, lockout_seconds: int) -> None:
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until = utcnow() + timedelta(seconds=lockout_seconds)
        user.failed_logins = 0


def principal_for(user: User, token_id: str = "") -> Principal:
    return Principal("user", user.id, user.username, frozenset(user.role_names), user.district_code, token_id)


# ---------------------------------------------------------------- tokens


def issue_token(user: User, *, secret: str, ttl_seconds: int, purpose: str) -> str:
    """A signed token for ``purpose`` ("access", "session" or "enrol")."""
    now = int(time.time())
    claims = {
        "sub": str(user.id),
        "name": user.username,
        "ver": user.token_version,
        "typ": purpose,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(token: str, *, secret: str, purpose: str) -> dict[str, Any]:
    """The claims of a valid token; raises AuthError for expired, forged or misused ones."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp", "typ", "ver"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthError(401, "Token expired", "log in again", "token_expired") from None
    except jwt.PyJWTError:
        raise AuthError(
            401, "Invalid token", "the token is malformed or its signature is wrong", "token_invalid"
        ) from None
    if claims.get("typ") != purpose:
        raise AuthError(401, "Invalid token", f"this token is not a {purpose} token", "token_invalid")
    return claims


def user_from_claims(session: Session, claims: dict[str, Any]) -> User:
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.active or user.token_version != claims["ver"]:
        raise AuthError(
            401, "Token revoked", "the account changed since this token was issued", "token_revoked"
        )
    return user


# ---------------------------------------------------------------- API keys

API_KEY_PREFIX = "ssk"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, *, name: str, role: str, actor: str, owner: User | None = None) -> str:
    """Make a key and return it once in clear; only its hash is kept."""
    validate_roles([role])
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            name=name,
            prefix=prefix,
            key_hash=_digest(secret),
            role=role,
            owner_id=owner.id if owner else None,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="apikey.create",
        target=f"apikey:{prefix}",
        details={"name": name, "role": role},
    )
    return f"{API_KEY_PREFIX}_{prefix}_{secret}"


def check_api_key(session: Session, presented: str) -> Principal:
    parts = presented.split("_", 2)
    invalid = AuthError(401, "Invalid API key", "the API key is unknown or revoked", "api_key_invalid")
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        raise invalid
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, _digest(parts[2])):
        raise invalid
    key.last_used_at = utcnow()
    return Principal("api_key", key.id, f"apikey:{key.name}", frozenset({key.role}))


def revoke_api_key(session: Session, prefix: str, *, actor: str) -> bool:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    audit.record(session, actor=actor, action="apikey.revoke", target=f"apikey:{prefix}")
    return True


# ---------------------------------------------------------------- rate limiting


@dataclass
class RateLimiter:
    """A sliding window per client; protects login from brute force before lockout kicks in."""

    limit: int
    window_seconds: float = 60.0
    _hits: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window_seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > 100_000:
            self._hits.clear()
        return True


def mfa_required_for(roles: list[str]) -> bool:
    return bool(MFA_ROLES.intersection(roles))
