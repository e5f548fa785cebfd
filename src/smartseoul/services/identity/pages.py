"""Citizen pages: sign-up, "my services" (where a citizen lands), my certificate, large text."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import User
from smartseoul.services.identity import service
from smartseoul.services.identity.deps import assurance_for
from smartseoul.services.identity.router import set_session_cookie
from smartseoul.services.identity.ui import LARGE_TEXT_COOKIE, civil_render
from smartseoul.web.deps import check_csrf, client_address, db_session, get_platform
from smartseoul.web.pages import page_principal

router = APIRouter(include_in_schema=False)
MY_PAGE = "/services/my"


def _safe_next(target: str) -> str:
    return (
        target if target.startswith("/") and not target.startswith("//") and "\\" not in target else MY_PAGE
    )


@router.get("/services/large-text")
def toggle_large_text(request: Request, on: int = 1, next: str = MY_PAGE) -> Response:
    """Turn large text on or off on this device (remembered for a year)."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LARGE_TEXT_COOKIE, "1" if on else "0", max_age=365 * 86400, samesite="lax")
    return response


@router.get("/services/signup")
def signup_page(request: Request) -> Response:
    return civil_render(request, "identity/signup.html", error=None, field="", form={})


@router.post("/services/signup")
async def signup_submit(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    await check_csrf(request)
    raw = await request.form()
    form = {
        key: str(raw.get(key, ""))[:1024] for key in ("username", "password", "password2", "display_name")
    }
    consent = raw.get("consent") == "yes"

    def attempt() -> User:
        if form["password"] != form["password2"]:
            raise service.IdentityError(
                422, "password_mismatch", "password: the two passwords differ", "password2"
            )
        with platform.db.session() as session:
            user = service.sign_up(
                session,
                username=form["username"].strip().lower()[:64],
                password=form["password"],
                display_name=form["display_name"],
                consent=consent,
                client=client_address(request),
            )
            session.commit()
            session.refresh(user)
            session.expunge(user)
            return user

    try:
        user = await run_in_threadpool(attempt)
    except service.IdentityError as error:
        kept = {"username": form["username"][:64], "display_name": form["display_name"][:64]}
        return civil_render(
            request,
            "identity/signup.html",
            status=error.status,
            error=error.detail,
            field=error.field,
            form=kept,
        )
    response = RedirectResponse(MY_PAGE, status_code=303)
    set_session_cookie(response, platform, user)
    return response


@router.get("/services/my")
def my_services(request: Request, session: Session = Depends(db_session)) -> Response:
    """Where a citizen lands: assurance held, shortcuts to documents, certificate, catalogue."""
    principal = page_principal(request, session, "citizen")
    user = session.get(User, principal.id)
    held = assurance_for(request, session, principal)
    from smartseoul.services.certificates import service as documents

    return civil_render(
        request,
        "identity/my.html",
        principal=principal,
        user=user,
        held=held,
        certificates=[
            service.certificate_dict(row) for row in service.certificates_of(session, principal.id)
        ],
        documents=documents.documents_of(session, principal.id)[:5],
    )


@router.get("/services/pki")
def my_certificate(request: Request, session: Session = Depends(db_session)) -> Response:
    """Get a citizen certificate (saved to the device) and sign in with it (WebCrypto)."""
    principal = page_principal(request, session, "citizen")
    held = assurance_for(request, session, principal)
    return civil_render(
        request,
        "identity/pki.html",
        principal=principal,
        held=held,
        certificates=[
            service.certificate_dict(row) for row in service.certificates_of(session, principal.id)
        ],
    )
