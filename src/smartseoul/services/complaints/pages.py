"""Pages of complaints: ``/complaints/new`` (mobile-first: category, description, photo, a place on
the city map), ``/complaints/{id}`` (status and history; staff also update it and retry deliveries
there), ``/complaints/track`` (by token) and ``/complaints/staff`` (the district's queue, overdue
list, failed deliveries and the demo departments' inbox). The citizen's pages share the
civil-services layout (``civil_render``): the same bar and the large-text mode of this device."""

from __future__ import annotations

import secrets
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.services.complaints import delivery, service
from smartseoul.services.complaints.events import ComplaintFiled, ComplaintUpdated
from smartseoul.services.complaints.models import WORK_STATES, Delivery, Department, InboxItem, ServiceRequest
from smartseoul.services.complaints.open311 import city_index
from smartseoul.services.complaints.service import ComplaintError, Draft
from smartseoul.services.identity.ui import civil_render
from smartseoul.web.deps import check_csrf, db_session, session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
STAFF = ("district_staff", "admin")
MEDIA_DIR = "complaints-media"
MEDIA_NAME = r"^[A-Za-z0-9_-]{16,64}\.(jpg|png|webp)$"
SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def _lang(request: Request) -> str:
    platform: Platform = request.app.state.platform
    return choose_language(request, platform.settings.language)


def _categories(session: Session, lang: str) -> list[dict[str, Any]]:
    return [
        {
            "code": s.code,
            "name": s.name_ko if lang == "ko" else s.name_en,
            "sla_hours": s.sla_hours,
            "attributes": s.attributes,
        }
        for s in service.list_services(session)
    ]


def _principal(request: Request, session: Session) -> Principal | None:
    return session_principal(request.app.state.platform, session, request)


@router.get("/complaints/new")
def new_complaint(request: Request, session: Session = Depends(db_session)) -> Response:
    lang = _lang(request)
    return civil_render(
        request,
        "complaints/new.html",
        principal=_principal(request, session),
        categories=_categories(session, lang),
        values={},
        error=None,
    )


def media_kind(head: bytes) -> str | None:
    """The image type by its first bytes (never by the name or the declared type)."""
    for magic, kind in SIGNATURES.items():
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def store_photo(platform: Platform, data: bytes) -> str:
    """Check a photo's size and type, store it under the data directory; its media URL."""
    if len(data) > platform.settings.complaints_media_max_bytes:
        raise ComplaintError(
            413, f"the photo exceeds {platform.settings.complaints_media_max_bytes} bytes", "photo"
        )
    kind = media_kind(data[:16])
    if kind is None:
        raise ComplaintError(415, "the photo must be a JPEG, PNG or WebP image", "photo")
    folder = platform.settings.data_dir / MEDIA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{kind}"
    (folder / name).write_bytes(data)
    return f"/complaints/media/{name}"


@router.post("/complaints/new")
async def submit_complaint(request: Request, session: Session = Depends(db_session)) -> Response:
    """The page's form (multipart, CSRF-checked): file, then show the status page."""
    platform: Platform = request.app.state.platform
    await check_csrf(request)
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    attributes: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key.startswith("attribute[") and key.endswith("]") and isinstance(value, str):
            attributes.setdefault(key[10:-1], []).append(value)
    photo = form.get("photo")
    data = await photo.read() if isinstance(photo, UploadFile) else b""
    principal = await run_in_threadpool(_principal, request, session)

    def work() -> tuple[int, str, ComplaintFiled]:
        media_url = store_photo(platform, data) if data else ""
        draft = Draft(
            service_code=values.get("service_code", ""),
            lat=values.get("lat"),
            lon=values.get("long"),
            description=values.get("description", ""),
            address_string=values.get("address_string", ""),
            email=values.get("email", ""),
            phone=values.get("phone", ""),
            media_url=media_url,
            attributes=attributes,
            user_id=principal.id if principal and principal.kind == "user" else None,
        )
        if not draft.description.strip():
            raise ComplaintError(400, "describe the problem", "description")
        filed = service.file_request(session, draft, index=city_index(platform))
        session.commit()
        owner = session.get(Department, filed.department_id)
        event = ComplaintFiled(
            request_id=filed.id,
            service_code=filed.service_code,
            district_code=filed.district_code,
            department=owner.code if owner else "",
        )
        return filed.id, filed.token, event

    try:
        request_id, token, event = await run_in_threadpool(work)
    except ComplaintError as error:
        status = error.status if error.status in (413, 415) else 422
        return civil_render(
            request,
            "complaints/new.html",
            status=status,
            principal=principal,
            categories=_categories(session, _lang(request)),
            values=values,
            error=error,
        )
    delivery.wake(platform)
    await platform.bus.publish(event)
    return RedirectResponse(f"/complaints/{request_id}?token={quote(token)}&filed=1", status_code=303)


@router.get("/complaints/media/{name}")
def media(request: Request, name: Annotated[str, Path(pattern=MEDIA_NAME)]) -> Response:
    platform: Platform = request.app.state.platform
    path: FilePath = platform.settings.data_dir / MEDIA_DIR / name
    if not path.is_file():
        return render(request, "error.html", status=404, message="complaints_photo_missing")
    return FileResponse(path, media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]])


@router.get("/complaints/track")
def track(
    request: Request,
    session: Session = Depends(db_session),
    token: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A citizen's receipt: the token given when filing leads to the status page."""
    try:
        found = service.by_token(session, token.strip())
    except ComplaintError:
        return civil_render(
            request,
            "complaints/track.html",
            status=404 if token else 200,
            principal=_principal(request, session),
            token=token,
            missing=bool(token),
        )
    return RedirectResponse(f"/complaints/{found.id}?token={quote(found.token)}", status_code=303)


def _inbox(session: Session, district: str | None) -> list[tuple[InboxItem, Department]]:
    statement = select(InboxItem, Department).join(Department, Department.id == InboxItem.department_id)
    if district:
        statement = statement.where(Department.district_code == district)
    return [(item, dept) for item, dept in session.execute(statement.order_by(InboxItem.id.desc()).limit(20))]


def _failed(session: Session, district: str | None) -> list[ServiceRequest]:
    statement = select(ServiceRequest).where(ServiceRequest.delivery_state == "failed")
    if district:
        statement = statement.where(ServiceRequest.district_code == district)
    return list(session.scalars(statement.order_by(ServiceRequest.id.desc()).limit(50)))


@router.get("/complaints/staff")
def staff(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *STAFF)
    district = principal.district_code if not principal.has_any("admin") else None
    if not principal.has_any("admin") and not district:
        raise InvalidInput("this account is not attached to a district")
    lang = _lang(request)
    rows = service.queue(session, district, "open", limit=100)
    names = {c["code"]: c["name"] for c in _categories(session, lang)}
    return render(
        request,
        "complaints/staff.html",
        principal=principal,
        district=district,
        counts=service.counts(session, district),
        rows=rows,
        overdue=service.overdue(session, district)[:50],
        failed=_failed(session, district),
        inbox=_inbox(session, district),
        names=names,
        now=utcnow(),
    )


def _may_manage(principal: Principal | None, row: ServiceRequest) -> bool:
    if principal is None or not principal.has_any(*STAFF):
        return False
    return principal.has_any("admin") or principal.district_code == row.district_code


@router.get("/complaints/{request_id:int}")
def status_page(
    request: Request,
    request_id: int,
    session: Session = Depends(db_session),
    filed: Annotated[int, Query(ge=0, le=1)] = 0,
    token: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Anyone may see a complaint's public status (Open311 publishes it too; no contact details)."""
    principal = _principal(request, session)
    try:
        row = service.get_request(session, request_id)
    except ComplaintError:
        return render(request, "error.html", status=404, principal=principal, message="complaints_not_found")
    lang = _lang(request)
    category = service.get_service(session, row.service_code)
    departments = service.departments_by_id(
        session, [row.department_id] + [d.department_id for d in service.deliveries_of(session, row.id)]
    )
    return civil_render(
        request,
        "complaints/status.html",
        principal=principal,
        row=row,
        category=category.name_ko if lang == "ko" else category.name_en,
        owner=departments.get(row.department_id),
        updates=service.updates_of(session, row.id),
        deliveries=service.deliveries_of(session, row.id),
        departments=departments,
        overdue=service.is_overdue(row),
        manage=_may_manage(principal, row),
        mine=principal is not None and principal.kind == "user" and principal.id == row.user_id,
        states=WORK_STATES,
        filed=bool(filed),
        token=token if token == row.token else "",
    )


@router.post("/complaints/{request_id:int}/update")
async def staff_update(request: Request, request_id: int, session: Session = Depends(db_session)) -> Response:
    """A staff form: change the state and/or add a note; the citizen is told."""
    platform: Platform = request.app.state.platform
    principal = await run_in_threadpool(page_principal, request, session, *STAFF)
    await check_csrf(request)
    form = await request.form()

    def work() -> ComplaintUpdated:
        row = service.get_request(session, request_id)
        if not _may_manage(principal, row):
            raise ComplaintError(404, f"no complaint {request_id} in your district", "request_id")
        service.update_status(
            session,
            row,
            actor=principal.name,
            work_state=str(form.get("work_state") or "") or None,
            note=str(form.get("note") or ""),
        )
        session.commit()
        return ComplaintUpdated(request_id=row.id, status=row.status, work_state=row.work_state)

    try:
        event = await run_in_threadpool(work)
    except ComplaintError as error:
        raise InvalidInput(f"{error.field}: {error.description}") from None
    delivery.wake(platform)
    await platform.bus.publish(event)
    return RedirectResponse(f"/complaints/{request_id}", status_code=303)


@router.post("/complaints/deliveries/{delivery_id:int}/retry")
async def staff_retry(request: Request, delivery_id: int, session: Session = Depends(db_session)) -> Response:
    platform: Platform = request.app.state.platform
    principal = await run_in_threadpool(page_principal, request, session, *STAFF)
    await check_csrf(request)

    def work() -> int:
        found = session.get(Delivery, delivery_id)
        if found is None:
            raise InvalidInput(f"no delivery {delivery_id}")
        row = service.get_request(session, found.request_id)
        if not _may_manage(principal, row):
            raise InvalidInput(f"no delivery {delivery_id} in your district")
        delivery.retry(session, delivery_id, actor=principal.name)
        session.commit()
        return row.id

    request_id = await run_in_threadpool(work)
    delivery.wake(platform)
    return RedirectResponse(f"/complaints/{request_id}", status_code=303)
