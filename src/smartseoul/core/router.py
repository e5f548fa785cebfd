"""The platform's own API: tokens, accounts, API keys, the audit ledger and the live stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit, auth
from smartseoul.core.auth import AuthError, Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import event_types
from smartseoul.core.models import ROLES, User
from smartseoul.web.deps import client_address, db_session, get_platform, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["platform"])
STREAM_ROLES = ("admin", "operator", "dispatcher", "auditor")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    district_code: str | None
    active: bool
    mfa_enabled: bool
    locked: bool
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    roles: list[str] = Field(min_length=1, max_length=len(ROLES))
    display_name: str = Field("", max_length=128)
    district_code: str | None = Field(None, pattern=r"^\d{5}$")


class UserPatch(BaseModel):
    roles: list[str] | None = Field(None, min_length=1, max_length=len(ROLES))
    active: bool | None = None


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    role: str


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        roles=user.role_names,
        district_code=user.district_code,
        active=user.active,
        mfa_enabled=user.totp_enabled,
        locked=bool(user.locked_until and user.locked_until > utcnow()),
        created_at=user.created_at,
    )


def login(
    platform: Platform, session: Session, request: Request, username: str, password: str, otp: str | None
) -> auth.LoginResult:
    """Rate-limit, authenticate, and keep the audit rows and failure counts even when refused."""
    client = client_address(request)
    if not platform.login_limiter.allow(client):
        audit.record(
            session,
            actor=username[:128] or "-",
            action="auth.login",
            outcome="denied",
            client=client,
            reason="rate limited",
        )
        session.commit()
        raise AuthError(429, "Too many attempts", "wait a minute before trying again", "rate_limited")
    try:
        return auth.authenticate(
            session,
            username=username,
            password=password,
            otp=otp,
            client=client,
            max_failures=platform.settings.login_max_failures,
            lockout_seconds=platform.settings.login_lockout_seconds,
        )
    except AuthError:
        session.commit()
        raise


@router.post("/auth/token", response_model=TokenOut, summary="Exchange credentials for a bearer token")
def issue_token(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    otp: Annotated[str | None, Form(max_length=16)] = None,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
) -> TokenOut:
    result = login(platform, session, request, username, password, otp)
    if result.mfa_enrolment_required:
        session.commit()
        raise AuthError(
            403,
            "MFA enrolment required",
            "this role needs a TOTP authenticator: log in on the web page once to enrol",
            "mfa_enrolment_required",
        )
    ttl = platform.settings.token_ttl_seconds
    return TokenOut(
        access_token=auth.issue_token(
            result.user, secret=platform.secret_key, ttl_seconds=ttl, purpose="access"
        ),
        expires_in=ttl,
    )


@router.get("/auth/me", response_model=dict[str, Any], summary="Who the token belongs to")
def me(principal: Principal = Depends(require())) -> dict[str, Any]:
    return {
        "kind": principal.kind,
        "name": principal.name,
        "roles": sorted(principal.roles),
        "district_code": principal.district_code,
    }


@router.get("/users", response_model=list[UserOut], summary="All accounts (admin)")
def list_users(
    session: Session = Depends(db_session), _: Principal = Depends(require("admin"))
) -> list[UserOut]:
    return [user_out(u) for u in session.scalars(select(User).order_by(User.username))]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add an account (admin)")
def add_user(
    body: UserIn, session: Session = Depends(db_session), principal: Principal = Depends(require("admin"))
) -> UserOut:
    user = auth.create_user(
        session,
        username=body.username,
        password=body.password,
        roles=body.roles,
        actor=principal.name,
        display_name=body.display_name,
        district_code=body.district_code,
    )
    return user_out(user)


@router.patch("/users/{username}", response_model=UserOut, summary="Change roles or (de)activate (admin)")
def patch_user(
    username: str,
    body: UserPatch,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require("admin")),
) -> UserOut:
    user = auth.get_user(session, username)
    if user is None:
        raise Problem(404, "Unknown user", f"no account named {username!r}", "unknown_user")
    if body.roles is not None:
        auth.set_roles(session, user, body.roles, actor=principal.name)
    if body.active is not None:
        auth.set_active(session, user, body.active, actor=principal.name)
    return user_out(user)


@router.post("/api-keys", status_code=201, summary="Create an API key for a device or integration (admin)")
def add_api_key(
    body: ApiKeyIn, session: Session = Depends(db_session), principal: Principal = Depends(require("admin"))
) -> dict[str, str]:
    key = auth.create_api_key(session, name=body.name, role=body.role, actor=principal.name)
    return {"api_key": key, "note": "shown once; only its hash is stored"}


@router.delete("/api-keys/{prefix}", status_code=204, summary="Revoke an API key (admin)")
def revoke_api_key(
    prefix: str, session: Session = Depends(db_session), principal: Principal = Depends(require("admin"))
) -> None:
    if not auth.revoke_api_key(session, prefix, actor=principal.name):
        raise Problem(404, "Unknown API key", f"no active key with prefix {prefix!r}", "unknown_api_key")


@router.get("/audit", summary="The audit ledger, newest first (auditor)")
def read_audit(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    reason: Annotated[str, Query(max_length=500, description="Why the ledger is read (recorded)")] = "",
    session: Session = Depends(db_session),
    principal: Principal = Depends(require("auditor")),
) -> list[dict[str, Any]]:
    rows = audit.entries(session, limit=limit, before_id=before_id, action=action, actor=actor)
    audit.record(
        session,
        actor=principal.name,
        action="audit.read",
        reason=reason,
        client=client_address(request),
        details={"filters": {"action": action, "actor": actor}},
    )
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "reason": r.reason,
            "outcome": r.outcome,
            "client": r.client,
            "details": r.details,
            "hash": r.hash,
        }
        for r in rows
    ]


@router.get("/audit/verify", summary="Check the hash chain of the ledger (auditor)")
def verify_audit(
    session: Session = Depends(db_session), principal: Principal = Depends(require("auditor"))
) -> dict[str, Any]:
    result = audit.verify(session)
    audit.record(
        session,
        actor=principal.name,
        action="audit.verify",
        outcome="ok" if result.ok else "broken",
        details={"checked": result.checked},
    )
    return {
        "ok": result.ok,
        "checked": result.checked,
        "broken_at": result.broken_at,
        "problem": result.problem,
    }


@router.get("/events/types", summary="Every event type this process knows")
def list_event_types() -> list[dict[str, Any]]:
    return [{"type": name, "schema": cls.model_json_schema()} for name, cls in sorted(event_types().items())]


@router.get(
    "/stream/events",
    summary="Live platform events as Server-Sent Events (control room)",
    response_class=StreamingResponse,
)
async def stream_events(
    request: Request,
    platform: Platform = Depends(get_platform),
    _: Principal = Depends(require(*STREAM_ROLES)),
) -> StreamingResponse:
    hub = request.app.state.stream_hub
    return StreamingResponse(
        hub.listen(request.headers.get("last-event-id")),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
