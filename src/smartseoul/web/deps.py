"""Request dependencies every domain router uses: the platform, a session, who is asking.

A request is authenticated by, in order: a bearer token or API key in ``Authorization``, an
``X-API-Key`` header, or the page session cookie. Cookie-authenticated requests that change
something must carry the CSRF token (double-submit: cookie ``ss_csrf`` equal to the
``X-CSRF-Token`` header or the ``csrf_token`` form field).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core import audit, auth
from smartseoul.core.auth import AuthError, Principal
from smartseoul.core.bootstrap import Platform

SESSION_COOKIE = "ss_session"
CSRF_COOKIE = "ss_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def db_session(platform: Platform = Depends(get_platform)) -> Iterator[Session]:
    with platform.db.session() as session:
        yield session


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _principal_from_bearer(platform: Platform, session: Session, value: str) -> Principal:
    if value.startswith(auth.API_KEY_PREFIX + "_"):
        return auth.check_api_key(session, value)
    claims = auth.read_token(value, secret=platform.secret_key, purpose="access")
    return auth.principal_for(auth.user_from_claims(session, claims), claims.get("jti", ""))


def session_principal(platform: Platform, session: Session, request: Request) -> Principal | None:
    """The person behind the page session cookie, or None (expired or absent cookie)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        claims = auth.read_token(cookie, secret=platform.secret_key, purpose="session")
        return auth.principal_for(auth.user_from_claims(session, claims), claims.get("jti", ""))
    except AuthError:
        return None


async def check_csrf(request: Request) -> None:
    """Refuse a cookie-authenticated change that lacks the matching CSRF token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    presented = request.headers.get("x-csrf-token", "")
    if not presented and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        presented = str((await request.form()).get("csrf_token", ""))
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise AuthError(
            403, "CSRF check failed", "the form or request lacks a valid CSRF token", "csrf_failed"
        )


async def optional_principal(request: Request, session: Session = Depends(db_session)) -> Principal | None:
    """Who is asking, if anyone. The transaction is committed here so that a long response
    (an event stream) holds no database lock, and a refusal stays in the ledger.

    The database work runs in the thread pool, never on the event loop: SQLite's write lock is
    taken at BEGIN, and a loop blocked waiting for it could not run the teardown (session close)
    of the request that holds it, a deadlock until the busy timeout."""
    platform = request.app.state.platform
    try:
        principal, by_cookie = await run_in_threadpool(_identify, request, platform, session)
        if by_cookie:
            await check_csrf(request)
    except AuthError as error:
        await run_in_threadpool(record_denial, session, request, None, error.code)
        raise
    await run_in_threadpool(session.commit)
    return principal


def _identify(request: Request, platform: Platform, session: Session) -> tuple[Principal | None, bool]:
    """The principal, and whether it came from the page session cookie (which needs CSRF)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthError(
                401, "Invalid credentials", "use 'Authorization: Bearer <token>'", "token_invalid"
            )
        return _principal_from_bearer(platform, session, value.strip()), False
    api_key = request.headers.get("x-api-key")
    if api_key:
        return auth.check_api_key(session, api_key), False
    principal = session_principal(platform, session, request)
    return principal, principal is not None


def record_denial(session: Session, request: Request, principal: Principal | None, reason: str) -> None:
    """Write the refusal to the ledger and commit at once: the request itself will be rolled back."""
    audit.record(
        session,
        actor=principal.name if principal else "-",
        action="access.denied",
        target=f"{request.method} {request.url.path}",
        outcome="denied",
        client=client_address(request),
        reason=reason,
    )
    session.commit()


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets through only a principal holding one of ``roles`` (any, if none)."""

    async def dependency(
        request: Request,
        session: Session = Depends(db_session),
        principal: Principal | None = Depends(optional_principal),
    ) -> Principal:
        if principal is None:
            raise AuthError(
                401, "Authentication required", "log in or send a bearer token", "unauthenticated"
            )
        if roles and not principal.has_any(*roles):
            await run_in_threadpool(
                record_denial, session, request, principal, f"needs one of {', '.join(roles)}"
            )
            raise AuthError(403, "Forbidden", f"this needs one of the roles: {', '.join(roles)}", "forbidden")
        return principal

    return dependency


# The camera ids of a video wall's tiles (at most 16: a 4x4 wall), as ``?ids=1,2,3``; anything
# else is a 422. Read with :func:`parse_ids`.
WallCameraIds = Annotated[
    str,
    Query(pattern=r"^\d{1,10}(,\d{1,10}){0,15}$", description="Camera ids of the tiles, comma separated."),
]


def parse_ids(text: str) -> list[int]:
    """The ids of a checked ``ids`` parameter, in order, each once."""
    return list(dict.fromkeys(int(part) for part in text.split(",")))
