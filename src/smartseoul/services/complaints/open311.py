"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services, service definitions, requests
(POST with an api_key, GET with filters), one request, tokens; every resource as ``.json`` or ``.xml``.

Field names, shapes and the error format (``[{"code", "description"}]``, ``<errors><error>``) are
the spec's (wiki.open311.org/GeoReport_v2), so any Open311 client works unchanged. Parameters are
read by hand rather than by FastAPI's validation: a bad parameter must be an Open311 error with
the right status (400 bad input, 403 api_key, 404 unknown), never the platform's problem JSON.
Service names and descriptions follow the client's Accept-Language (Korean by default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.city.service import CityIndex
from smartseoul.core.bootstrap import Platform
from smartseoul.services.complaints import delivery, service
from smartseoul.services.complaints.events import ComplaintFiled
from smartseoul.services.complaints.models import Department, Service, ServiceRequest
from smartseoul.services.complaints.service import ComplaintError, Draft, Query
from smartseoul.web.i18n import choose_language

log = logging.getLogger("smartseoul.complaints.open311")
router = APIRouter(prefix="/open311/v2", tags=["open311"])
JURISDICTION = "seoul.go.kr"
FORMATS = {"json": "application/json", "xml": "text/xml"}
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00+09:00"
SEOUL = ZoneInfo("Asia/Seoul")
INDEX_KEY = "complaints.city_index"
DRAFT_FIELDS = (
    "description",
    "address_string",
    "address_id",
    "zipcode",
    "email",
    "first_name",
    "last_name",
    "phone",
    "device_id",
    "account_id",
    "media_url",
)


# ---------------------------------------------------------------- rendering


def w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(SEOUL).isoformat(timespec="seconds") if moment else None


def _xml_value(parent: ET.Element, name: str, value: Any, item: str = "") -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, list):
        for entry in value:
            _xml_value(node, item or "value", entry)
    elif isinstance(value, dict):
        for key, inner in value.items():
            child_item = {
                "values": "value",
                "attributes": "attribute",
                "endpoints": "endpoint",
                "formats": "format",
            }
            _xml_value(node, key, inner, child_item.get(key, ""))
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def to_xml(root: str, item: str, body: Any) -> bytes:
    """The spec's XML: a list becomes ``<root><item>...</item></root>``, a dict ``<root>...</root>``."""
    element = ET.Element(root)
    rows = body if isinstance(body, list) else None
    if rows is not None:
        for row in rows:
            _xml_value(element, item, row)
    else:
        for key, value in body.items():
            inner = {
                "values": "value",
                "attributes": "attribute",
                "endpoints": "endpoint",
                "formats": "format",
            }
            _xml_value(element, key, value, inner.get(key, ""))
    text: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>' + text


def respond(fmt: str, body: Any, root: str, item: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, body), status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(body, status_code=status)


def error_response(fmt: str, status: int, description: str) -> Response:
    return respond(fmt, [{"code": status, "description": description}], "errors", "error", status)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ComplaintError(404, f"format {fmt!r} is not offered: use .json or .xml", "format")
    return fmt


def busy(fmt: str) -> Response:
    """The database could not take the request in time (SQLite's one writer under a storm): a 503
    the client may retry, in the spec's error format, rather than a 500."""
    response = error_response(fmt, 503, "the service is busy: try again in a moment")
    response.headers["Retry-After"] = "1"
    return response


async def guarded(fmt: str, work: Callable[[], Any]) -> Response:
    """Run ``work`` (in the thread pool); a ComplaintError becomes an Open311 error document."""
    shown = fmt if fmt in FORMATS else "json"
    try:
        _format(fmt)
        result: Response = await run_in_threadpool(work)
        return result
    except ComplaintError as error:
        return error_response(shown, error.status, error.description)
    except OperationalError as error:
        log.warning("open311: database busy: %s", error.orig)
        return busy(shown)


def _check_jurisdiction(request: Request, form: dict[str, Any] | None = None) -> None:
    """Every endpoint checks this first, so it also refuses NUL characters anywhere in the query,
    the path or the form (PostgreSQL cannot store or compare them; SQLite would)."""
    texts = [*request.query_params.values(), *map(str, request.path_params.values()), *(form or {}).values()]
    if any("\x00" in str(text) for text in texts):
        raise ComplaintError(400, "a parameter contains a NUL character", "")
    given = (form or {}).get("jurisdiction_id") or request.query_params.get("jurisdiction_id")
    if given and given != JURISDICTION:
        raise ComplaintError(
            404,
            f"jurisdiction_id {given!r} not found: this endpoint serves {JURISDICTION}",
            "jurisdiction_id",
        )


def _lang(request: Request) -> str:
    platform: Platform = request.app.state.platform
    return choose_language(request, platform.settings.language)


def service_dict(row: Service, lang: str) -> dict[str, Any]:
    return {
        "service_code": row.code,
        "service_name": row.name_ko if lang == "ko" else row.name_en,
        "description": (row.description_ko if lang == "ko" else row.description_en) or None,
        "metadata": bool(row.attributes),
        "type": "realtime",
        "keywords": ", ".join(row.keywords),
        "group": row.group,
    }


def definition_dict(row: Service) -> dict[str, Any]:
    return {
        "service_code": row.code,
        "attributes": [
            {
                "variable": bool(a.get("variable", True)),
                "code": a["code"],
                "datatype": a["datatype"],
                "required": bool(a.get("required", False)),
                "datatype_description": a.get("datatype_description") or None,
                "order": a["order"],
                "description": a["description"],
                "values": [{"key": v["key"], "name": v["name"]} for v in a.get("values", [])],
            }
            for a in row.attributes
        ],
    }


def request_dict(
    row: ServiceRequest, services: dict[str, Service], departments: dict[int, Department], lang: str
) -> dict[str, Any]:
    """One service request as Open311 shows it (no contact details: those are for staff only)."""
    category = services.get(row.service_code)
    owner = departments.get(row.department_id)
    return {
        "service_request_id": str(row.id),
        "status": row.status,
        "status_notes": row.status_notes or None,
        "service_name": (category.name_ko if lang == "ko" else category.name_en) if category else None,
        "service_code": row.service_code,
        "description": row.description or None,
        "agency_responsible": (owner.name_ko if lang == "ko" else owner.name_en) if owner else None,
        "service_notice": service.service_notice(row) or None,
        "requested_datetime": w3c(row.requested_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": w3c(row.expected_at),
        "address": row.address or None,
        "address_id": row.address_id or None,
        "zipcode": row.zipcode or None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.media_url or None,
    }


def requests_body(session: Session, rows: list[ServiceRequest], lang: str) -> list[dict[str, Any]]:
    services = {s.code: s for s in session.query(Service)}
    departments = service.departments_by_id(session, [r.department_id for r in rows])
    return [request_dict(r, services, departments, lang) for r in rows]


def absolute_media(request: Request, url: str) -> str:
    """A media_url the platform stores (``/complaints/media/...``) made absolute for clients."""
    return str(request.base_url).rstrip("/") + url if url.startswith("/") else url


# ---------------------------------------------------------------- endpoints


def _session(request: Request) -> Any:
    platform: Platform = request.app.state.platform
    return platform.db.session()


def city_index(platform: Platform) -> CityIndex:
    """The district polygons in memory, loaded once per process (routing is point in polygon)."""
    found = platform.cache.get(INDEX_KEY)
    if not isinstance(found, CityIndex):
        with platform.db.session() as session:
            found = CityIndex.from_session(session)
        platform.cache[INDEX_KEY] = found
    return found


@router.get("/discovery.{fmt}", summary="Open311 discovery: where the endpoint is and what it speaks")
async def discovery(request: Request, fmt: str) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2"

    def work() -> Response:
        body = {
            "changeset": CHANGESET,
            "contact": "Smart Seoul 120 Dasan Call Center, https://seoul.go.kr",
            "key_service": "smartseoul open311 key create NAME (ask the city's platform administrators)",
            "endpoints": [
                {
                    "specification": SPEC_URL,
                    "url": base,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": list(FORMATS.values()),
                }
            ],
        }
        return respond(fmt, body, "discovery", "")

    return await guarded(fmt, work)


@router.get("/services.{fmt}", summary="Open311: the service list (complaint categories)")
async def services(request: Request, fmt: str) -> Response:
    def work() -> Response:
        _check_jurisdiction(request)
        with _session(request) as session:
            body = [service_dict(s, _lang(request)) for s in service.list_services(session)]
        return respond(fmt, body, "services", "service")

    return await guarded(fmt, work)


@router.get("/services/{code}.{fmt}", summary="Open311: a service definition (its attributes)")
async def service_definition(request: Request, code: str, fmt: str) -> Response:
    def work() -> Response:
        _check_jurisdiction(request)
        with _session(request) as session:
            body = definition_dict(service.get_service(session, code))
        return respond(fmt, body, "service_definition", "")

    return await guarded(fmt, work)


def _attributes(form: dict[str, list[str]]) -> dict[str, list[str]]:
    """``attribute[CODE]=value`` (and ``attribute[CODE][]`` for multi-value lists)."""
    found: dict[str, list[str]] = {}
    for key, values in form.items():
        if key.startswith("attribute[") and "]" in key:
            code = key[len("attribute[") : key.index("]")]
            found.setdefault(code, []).extend(values)
    return found


async def _read_form(request: Request) -> dict[str, list[str]]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            raise ComplaintError(400, "the body is not valid JSON", "body") from None
        if not isinstance(data, dict):
            raise ComplaintError(400, "the JSON body must be an object", "body")
        return {
            str(k): [str(v) for v in (v if isinstance(v, list) else [v]) if v is not None]
            for k, v in data.items()
        }
    form = await request.form()
    merged: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            merged.setdefault(key, []).append(value)
    for key, value in request.query_params.multi_items():
        merged.setdefault(key, [value])
    return merged


@router.post("/requests.{fmt}", summary="Open311: file a service request (needs an api_key)")
async def post_request(request: Request, fmt: str) -> Response:
    platform: Platform = request.app.state.platform
    shown = fmt if fmt in FORMATS else "json"
    try:
        _format(fmt)
        form = await _read_form(request)
    except ComplaintError as error:
        return error_response(shown, error.status, error.description)
    single = {key: values[0] for key, values in form.items() if values}

    def work() -> tuple[Response, ComplaintFiled]:
        _check_jurisdiction(request, single)
        draft = Draft(
            service_code=single.get("service_code", ""),
            lat=single.get("lat"),
            lon=single.get("long", single.get("lon")),
            attributes=_attributes(form),
        )
        for name in DRAFT_FIELDS:
            setattr(draft, name, single.get(name, ""))
        index = city_index(platform)
        with _session(request) as session:
            key = service.check_key(session, single.get("api_key", ""))
            draft.client_key_id = key.id
            filed = service.file_request(session, draft, index=index)
            body = [
                {
                    "service_request_id": str(filed.id),
                    "token": filed.token,
                    "service_notice": service.service_notice(filed),
                    "account_id": filed.account_id or None,
                }
            ]
            owner = session.get(Department, filed.department_id)
            event = ComplaintFiled(
                request_id=filed.id,
                service_code=filed.service_code,
                district_code=filed.district_code,
                department=owner.code if owner else "",
            )
        return respond(fmt, body, "service_requests", "request", 201), event

    try:
        response, event = await run_in_threadpool(work)
    except ComplaintError as error:
        return error_response(shown, error.status, error.description)
    except OperationalError as error:
        log.warning("open311 POST: database busy: %s", error.orig)
        return busy(shown)
    delivery.wake(platform)
    await platform.bus.publish(event)
    return response


def _listing(request: Request) -> Query:
    params = request.query_params
    query = Query()
    ids = params.get("service_request_id", "")
    if ids:
        try:
            query.ids = [int(part) for part in ids.split(",") if part.strip()]
        except ValueError:
            raise ComplaintError(
                400, "service_request_id must be numbers separated by commas", "service_request_id"
            ) from None
    codes = params.get("service_code", "")
    query.service_codes = [c.strip() for c in codes.split(",") if c.strip()]
    statuses = [s.strip() for s in params.get("status", "").split(",") if s.strip()]
    if any(s not in ("open", "closed") for s in statuses):
        raise ComplaintError(400, "status must be open, closed or both (comma separated)", "status")
    query.statuses = statuses
    if params.get("start_date"):
        query.start = service.parse_w3c(params["start_date"], "start_date")
    if params.get("end_date"):
        query.end = service.parse_w3c(params["end_date"], "end_date")
    return query


@router.get(
    "/requests.{fmt}", summary="Open311: service requests (filters: ids, service_code, status, dates)"
)
async def get_requests(request: Request, fmt: str) -> Response:
    def work() -> Response:
        _check_jurisdiction(request)
        query = _listing(request)
        with _session(request) as session:
            rows = service.query_requests(session, query)
            body = requests_body(session, rows, _lang(request))
        for row in body:
            row["media_url"] = absolute_media(request, row["media_url"]) if row["media_url"] else None
        return respond(fmt, body, "service_requests", "request")

    return await guarded(fmt, work)


@router.get("/requests/{request_id}.{fmt}", summary="Open311: one service request")
async def get_request(request: Request, request_id: str, fmt: str) -> Response:
    def work() -> Response:
        _check_jurisdiction(request)
        with _session(request) as session:
            row = service.get_request(session, request_id)
            body = requests_body(session, [row], _lang(request))
        for item in body:
            item["media_url"] = absolute_media(request, item["media_url"]) if item["media_url"] else None
        return respond(fmt, body, "service_requests", "request")

    return await guarded(fmt, work)


@router.get("/tokens/{token}.{fmt}", summary="Open311: the service_request_id a token became")
async def get_token(request: Request, token: str, fmt: str) -> Response:
    def work() -> Response:
        _check_jurisdiction(request)
        with _session(request) as session:
            row = service.by_token(session, token)
            body = [{"service_request_id": str(row.id), "token": row.token}]
        return respond(fmt, body, "service_requests", "request")

    return await guarded(fmt, work)
