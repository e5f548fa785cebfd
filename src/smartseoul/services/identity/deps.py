"""``require_assurance(level)``: the dependency every step of a service puts in front of itself.

A refusal is a 401 (nobody signed in) or a 403 problem with ``code`` ``assurance_required``,
``needed`` and ``held`` levels and the reason the higher level is not held (expired certificate
login, revoked certificate...), so a page can send the citizen to the certificate login.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core.auth import AuthError, Principal
from smartseoul.services.identity import service
from smartseoul.web.deps import db_session, optional_principal, record_denial
from smartseoul.web.problems import Problem


@dataclass(frozen=True)
class Assured:
    """Who is asking and the assurance level they hold now."""

    principal: Principal | None
    level: str
    reason: str = ""


def presented_assurance(request: Request) -> str | None:
    return request.headers.get(service.ASSURANCE_HEADER) or request.cookies.get(service.ASSURANCE_COOKIE)


def assurance_for(request: Request, session: Session, principal: Principal | None) -> Assured:
    """The level this request holds (no refusal; pages use it to show what is possible)."""
    user_id = principal.id if principal is not None and principal.kind == "user" else None
    level, reason = service.assurance_of(
        session, request.app.state.platform.secret_key, user_id, presented_assurance(request)
    )
    return Assured(principal, level, reason)


def refuse(needed: str, held: Assured) -> Problem:
    return Problem(
        403,
        "Higher assurance needed",
        f"this step needs assurance '{needed}' (held: '{held.level}'): {held.reason}",
        "assurance_required",
        needed=needed,
        held=held.level,
        reason=held.reason,
        login_url="/services/pki",
    )


def check_level(
    request: Request, session: Session, principal: Principal | None, needed: str, roles: tuple[str, ...]
) -> Assured:
    """Refuse unless the principal holds ``needed`` (and, from ``login`` up, one of ``roles``)."""
    held = assurance_for(request, session, principal)
    if needed == "none":
        return held
    if principal is None:
        raise AuthError(401, "Authentication required", "log in or send a bearer token", "unauthenticated")
    if roles and not principal.has_any(*roles):
        record_denial(session, request, principal, f"needs one of {', '.join(roles)}")
        raise AuthError(403, "Forbidden", f"this needs one of the roles: {', '.join(roles)}", "forbidden")
    if service.rank(held.level) < service.rank(needed):
        record_denial(
            session, request, principal, f"assurance {needed} needed, held {held.level}: {held.reason}"
        )
        raise refuse(needed, held)
    return held


def require_assurance(level: str, *roles: str) -> Callable[..., Coroutine[Any, Any, Assured]]:
    """A dependency that lets through only a request holding assurance ``level`` (see module)."""
    if level not in service.LEVELS:
        raise ValueError(f"unknown assurance level {level!r}")
    needed_roles = roles or ("citizen",)

    async def dependency(
        request: Request,
        session: Session = Depends(db_session),
        principal: Principal | None = Depends(optional_principal),
    ) -> Assured:
        return await run_in_threadpool(check_level, request, session, principal, level, needed_roles)

    return dependency
