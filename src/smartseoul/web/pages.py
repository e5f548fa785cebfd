"""Server-rendered pages: login with TOTP, MFA enrolment, the console, user admin, the audit ledger."""

from __future__ import annotations

import base64
import io
import secrets
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.city import service as city
from smartseoul.core import audit, auth
from smartseoul.core.auth import AuthError, InvalidInput, Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import ROLES, User
from smartseoul.core.plugin import NavLink
from smartseoul.core.router import login
from smartseoul.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    client_address,
    db_session,
    get_platform,
    record_denial,
    session_principal,
)
from smartseoul.web.i18n import LANG_COOKIE, LANGUAGES, catalogue, choose_language, translate

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("smartseoul.web").joinpath("templates")))
SEOUL = ZoneInfo("Asia/Seoul")
templates.env.filters["seoul"] = lambda value: value.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M:%S KST")
ENROL_COOKIE = "ss_enrol"
CONSOLE_ROLES = ("admin", "operator", "dispatcher", "auditor", "district_staff")


CORE_NAV = (
    NavLink("/console", "nav_console", CONSOLE_ROLES),
    NavLink("/app", "app_persons", ("guardian",)),
    NavLink("/admin/users", "nav_admin", ("admin",)),
    NavLink("/audit", "nav_audit", ("auditor",)),
)


@cache
def nav_links() -> tuple[NavLink, ...]:
    """The top bar: the platform's own pages, then each domain's, in the order domains are listed."""
    from smartseoul.domains import plugins

    return CORE_NAV + tuple(link for plugin in plugins() for link in plugin.nav)


class PageRedirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render with the language, the CSRF token and the signed-in person available to every template."""
    platform: Platform = request.app.state.platform
    lang = choose_language(request, platform.settings.language)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    context.setdefault("principal", None)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": lambda key: translate(lang, key),
            "csrf_token": csrf,
            "languages": LANGUAGES,
            "i18n": catalogue(lang),
            "nav_links": nav_links(),
            **context,
        },
        status_code=status,
    )
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=platform.settings.secure_cookies
        )
    return response


def _districts_by_name(request: Request, session: Session) -> list[dict[str, Any]]:
    """The districts in the reader's alphabetical order (가나다 in Korean, A-Z in English)."""
    lang = choose_language(request, request.app.state.platform.settings.language)
    key = "name_ko" if lang == "ko" else "name_en"
    return sorted(city.list_districts(session), key=lambda d: str(d[key]))


def _safe_next(target: str | None, default: str = "/console") -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def landing_for(roles: frozenset[str] | list[str]) -> str:
    """Where a person starts: the control room for staff, the guardian app for guardians."""
    if set(roles) & set(CONSOLE_ROLES):
        return "/console"
    if "citizen" in roles and "guardian" not in roles:
        return "/services/my"
    return "/app" if "guardian" in roles else "/console"


def page_principal(request: Request, session: Session, *roles: str) -> Principal:
    """The signed-in person, or a redirect to the login page; a lacking role is a 403 page."""
    platform: Platform = request.app.state.platform
    principal = session_principal(platform, session, request)
    if principal is None:
        raise PageRedirect(f"/login?next={quote(request.url.path)}")
    if roles and not principal.has_any(*roles):
        record_denial(session, request, principal, f"page needs one of {', '.join(roles)}")
        raise AuthError(
            403, "Forbidden", f"this page needs one of the roles: {', '.join(roles)}", "forbidden"
        )
    return principal


def _set_session(response: Response, platform: Platform, user: User) -> None:
    token = auth.issue_token(
        user, secret=platform.secret_key, ttl_seconds=platform.settings.session_ttl_seconds, purpose="session"
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=platform.settings.secure_cookies,
        max_age=platform.settings.session_ttl_seconds,
    )
    response.delete_cookie(ENROL_COOKIE)


@router.get("/")
def home(request: Request, session: Session = Depends(db_session)) -> Response:
    signed_in = session_principal(request.app.state.platform, session, request)
    # a visitor without an account is a citizen: the city's portal is their front door
    return RedirectResponse(landing_for(signed_in.roles) if signed_in else "/portal", status_code=303)


@router.get("/lang/{lang}")
def set_language(lang: str, request: Request) -> Response:
    target = _safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next, default=""), error=None)


@router.post("/login")
async def login_submit(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    await check_csrf(request)
    form = await request.form()
    username, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
    otp, target = str(form.get("otp", ""))[:16] or None, _safe_next(str(form.get("next", "")), default="")

    def attempt() -> Any:
        # in the thread pool: the password hash is slow, and the loop must never wait for a lock
        with platform.db.session() as session:
            return login(platform, session, request, username, password, otp)

    try:
        result = await run_in_threadpool(attempt)
        user = result.user
    except AuthError as error:
        messages = {
            "locked": "login_locked",
            "rate_limited": "login_rate_limited",
            "otp_required": "otp_required",
        }
        return render(
            request,
            "login.html",
            status=error.status if error.status != 423 else 403,
            next=target,
            error=messages.get(error.code, "login_failed"),
            username=username,
        )
    if result.mfa_enrolment_required:
        response = RedirectResponse("/mfa/enrol", status_code=303)
        token = auth.issue_token(user, secret=platform.secret_key, ttl_seconds=600, purpose="enrol")
        response.set_cookie(
            ENROL_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=platform.settings.secure_cookies,
            max_age=600,
        )
        return response
    response = RedirectResponse(target or landing_for(user.role_names), status_code=303)
    _set_session(response, platform, user)
    return response


@router.post("/logout")
async def logout(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    await check_csrf(request)

    def record() -> None:
        with platform.db.session() as session:
            principal = session_principal(platform, session, request)
            if principal is not None:
                audit.record(
                    session, actor=principal.name, action="auth.logout", client=client_address(request)
                )

    await run_in_threadpool(record)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _enrolling_user(request: Request, platform: Platform, session: Session) -> User:
    token = request.cookies.get(ENROL_COOKIE, "")
    if not token:
        raise PageRedirect("/login")
    try:
        claims = auth.read_token(token, secret=platform.secret_key, purpose="enrol")
        return auth.user_from_claims(session, claims)
    except AuthError:
        raise PageRedirect("/login") from None


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _enrol_page(request: Request, user: User, error: str | None = None, status: int = 200) -> HTMLResponse:
    secret = user.totp_secret or ""
    uri = auth.provisioning_uri(user, secret)
    return render(request, "enrol.html", status=status, qr=_qr_svg(uri), secret=secret, uri=uri, error=error)


@router.get("/mfa/enrol")
def enrol_page(
    request: Request, platform: Platform = Depends(get_platform), session: Session = Depends(db_session)
) -> Response:
    user = _enrolling_user(request, platform, session)
    if not user.totp_secret or user.totp_enabled:
        user.totp_secret = auth.new_totp_secret()
        user.totp_enabled = False
    return _enrol_page(request, user)


@router.post("/mfa/enrol")
async def enrol_submit(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    await check_csrf(request)
    code = str((await request.form()).get("otp", ""))[:16]
    with platform.db.session() as session:
        user = _enrolling_user(request, platform, session)
        if not user.totp_secret or not auth.enable_totp(
            session, user, user.totp_secret, code, client=client_address(request)
        ):
            return _enrol_page(request, user, error="enrol_failed", status=400)
    response = RedirectResponse("/console", status_code=303)
    _set_session(response, platform, user)
    return response


@router.get("/console")
def console(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *CONSOLE_ROLES)
    districts = _districts_by_name(request, session)
    return render(request, "console.html", principal=principal, districts=districts)


@router.get("/admin/users")
def admin_users(
    request: Request,
    session: Session = Depends(db_session),
    message: str | None = None,
    error: str | None = None,
) -> Response:
    principal = page_principal(request, session, "admin")
    users = session.scalars(select(User).order_by(User.username)).all()
    districts = _districts_by_name(request, session)
    lang = choose_language(request, request.app.state.platform.settings.language)
    return render(
        request,
        "admin_users.html",
        principal=principal,
        users=users,
        roles=ROLES,
        districts=districts,
        district_names={d["code"]: d["name_ko"] if lang == "ko" else d["name_en"] for d in districts},
        message=message,
        error=error,
    )


@router.post("/admin/users")
async def admin_add_user(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    await check_csrf(request)
    form = await request.form()
    with platform.db.session() as session:
        principal = page_principal(request, session, "admin")
        try:
            auth.create_user(
                session,
                username=str(form.get("username", "")).strip().lower(),
                password=str(form.get("password", "")),
                roles=[str(r) for r in form.getlist("roles")],
                actor=principal.name,
                display_name=str(form.get("display_name", ""))[:128],
                district_code=str(form.get("district_code") or "") or None,
            )
        except InvalidInput as error:
            session.rollback()
            return RedirectResponse(f"/admin/users?error={quote(str(error))}", status_code=303)
    return RedirectResponse("/admin/users?message=user_added", status_code=303)


@router.post("/admin/users/{username}")
async def admin_update_user(
    username: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    await check_csrf(request)
    form = await request.form()
    with platform.db.session() as session:
        principal = page_principal(request, session, "admin")
        user = auth.get_user(session, username)
        if user is None:
            return RedirectResponse("/admin/users?error=unknown+user", status_code=303)
        try:
            if "active" in form:
                auth.set_active(session, user, form.get("active") == "1", actor=principal.name)
            else:
                auth.set_roles(session, user, [str(r) for r in form.getlist("roles")], actor=principal.name)
        except InvalidInput as error:
            session.rollback()
            return RedirectResponse(f"/admin/users?error={quote(str(error))}", status_code=303)
    return RedirectResponse("/admin/users?message=roles_saved", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request, session: Session = Depends(db_session), verify: bool = False, action: str | None = None
) -> Response:
    principal = page_principal(request, session, "auditor")
    rows = audit.entries(session, limit=200, action=action or None)
    result = audit.verify(session) if verify else None
    audit.record(
        session,
        actor=principal.name,
        action="audit.read",
        client=client_address(request),
        details={"page": True, "verify": verify},
    )
    return render(request, "audit.html", principal=principal, rows=rows, result=result, action=action or "")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def install(app: Any) -> None:
    """Pages answer a redirect to the login page, and a readable error page instead of JSON."""
    from smartseoul.web import problems

    async def on_redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageRedirect)
        return RedirectResponse(exc.location, status_code=303)

    async def on_auth(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthError)
        if _wants_html(request):
            # the signed-in person keeps the navigation (and the way to log out) on the error page
            platform: Platform = request.app.state.platform
            with platform.db.session() as session:
                principal = session_principal(platform, session, request)
            csrf = exc.code == "csrf_failed"
            message, hint = ("csrf_failed", None) if csrf else ("forbidden", "forbidden_hint")
            return render(
                request,
                "error.html",
                status=exc.status,
                message=message,
                hint=hint,
                detail=exc.detail if hint else None,
                principal=principal,
            )
        return await problems.on_auth(request, exc)

    app.add_exception_handler(PageRedirect, on_redirect)
    app.add_exception_handler(AuthError, on_auth)
