"""HTTP API and pages of the service catalogue and its channel-coverage report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartseoul.core.auth import Principal
from smartseoul.services.catalog import data, service
from smartseoul.services.catalog.models import ASSURANCE_LEVELS, CHANNELS
from smartseoul.services.identity.ui import civil_render
from smartseoul.web.deps import check_csrf, db_session, require, session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
pages = APIRouter(include_in_schema=False)
EDITORS = ("district_staff", "admin")
Code = Annotated[str, Path(pattern=r"^[A-Z0-9-]{2,32}$", description="Service code, e.g. CERT-LOCALTAX")]
Department = Annotated[
    str | None, Query(pattern=r"^[a-z]{2,32}$", description="Department key, e.g. finance")
]
Channel = Annotated[str | None, Query(pattern=r"^(web|mobile|tv|counter)$")]
District = Annotated[str | None, Query(pattern=r"^\d{5}$", description="A district code, e.g. 11230")]
Search = Annotated[str | None, Query(max_length=60)]


class ChannelsIn(BaseModel):
    channels: list[str] = Field(examples=[["web", "mobile", "counter"]], max_length=4)
    assurance: str | None = Field(None, description="none, login or certificate")


def _problem(error: service.CatalogError) -> Problem:
    extra: dict[str, Any] = {"field": error.field} if error.field else {}
    return Problem(error.status, "Refused", error.detail, error.code, **extra)


@router.get("/services", summary="The catalogue (filters: department, channel, district, q)")
def list_services(
    session: Session = Depends(db_session),
    department: Department = None,
    channel: Channel = None,
    district: District = None,
    q: Search = None,
) -> list[dict[str, Any]]:
    rows = service.list_services(session, department=department, channel=channel, district=district, query=q)
    return [service.service_dict(row) for row in rows]


@router.get("/services/{code}", summary="One service")
def get_service(code: Code, session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        return service.service_dict(service.get_service(session, code))
    except service.CatalogError as error:
        raise _problem(error) from None


@router.patch("/services/{code}", summary="Change the channels (and assurance) of a service (staff)")
def patch_service(
    code: Code,
    body: ChannelsIn,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require(*EDITORS)),
) -> dict[str, Any]:
    try:
        row = service.set_channels(
            session,
            code,
            body.channels,
            actor=principal.name,
            district_code=principal.district_code,
            is_admin=principal.has_any("admin"),
            assurance=body.assurance,
        )
    except service.CatalogError as error:
        raise _problem(error) from None
    session.commit()
    return service.service_dict(row)


@router.get(
    "/coverage", summary="Channel coverage: share of services fully doable on mobile, per year and department"
)
def coverage(session: Session = Depends(db_session)) -> dict[str, Any]:
    return service.coverage_dict(service.coverage(session))


@router.get("/coverage.csv", summary="The channel-coverage report as CSV")
def coverage_csv(session: Session = Depends(db_session)) -> Response:
    body = service.coverage_csv(service.coverage(session))
    return Response(
        body.encode("utf-8-sig"),  # with a BOM: Excel (what a Korean office opens it in) reads Hangul right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="channel-coverage.csv"'},
    )


# ---------------------------------------------------------------- pages


def _departments(lang: str) -> list[dict[str, str]]:
    return [{"key": key, "name": service.department_name(key, lang)} for key in data.DEPARTMENTS]


@pages.get("/services")
def browse(
    request: Request,
    session: Session = Depends(db_session),
    department: Department = None,
    channel: Channel = None,
    q: Search = None,
) -> Response:
    """The catalogue a citizen browses on a phone: search, department and channel filters."""
    lang = choose_language(request, request.app.state.platform.settings.language)
    principal = session_principal(request.app.state.platform, session, request)
    rows = service.list_services(session, department=department, channel=channel, query=q)
    return civil_render(
        request,
        "catalog/browse.html",
        principal=principal,
        rows=rows,
        departments=_departments(lang),
        department=department or "",
        channel=channel or "",
        q=q or "",
        channels=CHANNELS,
        may_edit=bool(principal and principal.has_any(*EDITORS)),
        department_name=lambda key: service.department_name(key, lang),
        district_names=_district_names(session, lang),
    )


def _district_names(session: Session, lang: str) -> dict[str, str]:
    from smartseoul.city.service import list_districts

    key = "name_ko" if lang == "ko" else "name_en"
    return {str(row["code"]): str(row[key]) for row in list_districts(session)}


@pages.get("/services/coverage")
def coverage_page(request: Request, session: Session = Depends(db_session)) -> Response:
    lang = choose_language(request, request.app.state.platform.settings.language)
    principal = session_principal(request.app.state.platform, session, request)
    report = service.coverage(session)
    years = sorted({row.year for row in report})
    table: dict[str, dict[int, service.CoverageRow]] = {}
    for row in report:
        table.setdefault(row.department, {})[row.year] = row
    return civil_render(
        request,
        "catalog/coverage.html",
        principal=principal,
        years=years,
        table=table,
        targets=data.PLAN_TARGETS,
        department_name=lambda key: service.department_name(key, lang),
    )


@pages.get("/services/catalog/{code}")
def edit_page(code: Code, request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *EDITORS)
    try:
        row = service.get_service(session, code)
    except service.CatalogError:
        raise Problem(404, "Unknown service", f"no service {code}", "unknown_service") from None
    return civil_render(
        request,
        "catalog/edit.html",
        principal=principal,
        row=row,
        channels=CHANNELS,
        levels=ASSURANCE_LEVELS,
        error=None,
    )


@pages.post("/services/catalog/{code}")
async def edit_submit(code: Code, request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *EDITORS)
    await check_csrf(request)
    form = await request.form()
    channels = [str(value) for value in form.getlist("channels")]
    assurance = str(form.get("assurance", "")) or None
    try:
        service.set_channels(
            session,
            code,
            channels,
            actor=principal.name,
            district_code=principal.district_code,
            is_admin=principal.has_any("admin"),
            assurance=assurance,
        )
    except service.CatalogError as error:
        if error.status == 404:
            raise _problem(error) from None
        row = service.get_service(session, code)
        return civil_render(
            request,
            "catalog/edit.html",
            status=error.status,
            principal=principal,
            row=row,
            channels=CHANNELS,
            levels=ASSURANCE_LEVELS,
            error=error.detail,
        )
    session.commit()
    return RedirectResponse(f"/services?q={code}", status_code=303)
