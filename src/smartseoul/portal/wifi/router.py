"""HTTP API of public WiFi: hotspots and coverage for everyone, health, outages, usage and RADIUS
imports for staff, and the status-report endpoint the access controllers call with an API key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.portal.wifi import radius, service
from smartseoul.web.deps import client_address, get_platform, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/wifi", tags=["wifi"])
District = Annotated[str | None, Query(pattern=r"^\d{5}$")]
T = TypeVar("T")
MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_USAGE_DAYS = 366


async def run_in_session(platform: Platform, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one committed transaction off the event loop."""

    def run() -> T:
        with platform.db.session() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def publish(platform: Platform, events: list[Event]) -> None:
    for event in events:
        await platform.bus.publish(event)


class ReportIn(BaseModel):
    ap: str = Field(min_length=1, max_length=64, description="The access point's code or MAC address.")
    at: datetime | None = Field(None, description="When the AP measured this (UTC); default: now.")
    up: bool = Field(True, description="False when the controller reports the AP (or its radio) down.")
    clients: int = Field(0, ge=0, le=10_000)
    rx_bytes: int = Field(0, ge=0, le=2**62)
    tx_bytes: int = Field(0, ge=0, le=2**62)


class ReportsIn(BaseModel):
    reports: list[ReportIn] = Field(min_length=1, max_length=1000)


def _report(item: ReportIn, now: datetime) -> service.StatusReport:
    at = item.at or now
    if at.tzinfo is None:
        raise Problem(
            422, "Invalid report", "'at' needs a time zone (e.g. ...Z)", "invalid_input", field="at"
        )
    if at > now + timedelta(minutes=5):
        raise Problem(422, "Invalid report", "'at' is in the future", "invalid_input", field="at")
    return service.StatusReport(item.ap, at, item.up, item.clients, item.rx_bytes, item.tx_bytes)


@router.post("/reports", summary="A batch of access-point status reports (controller API key)")
async def post_reports(
    body: ReportsIn,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.REPORTER_ROLES)),
) -> dict[str, Any]:
    now = utcnow()
    reports = [_report(item, now) for item in body.reports]
    outcome = await run_in_session(platform, lambda session: service.ingest_reports(session, reports))
    await publish(platform, outcome.events)
    return {
        "accepted": outcome.accepted,
        "stale": outcome.stale,
        "unknown": outcome.unknown,
        "outages": sum(e.type == "portal.wifi.outage.v1" for e in outcome.events),
        "recoveries": sum(e.type == "portal.wifi.recovered.v1" for e in outcome.events),
    }


@router.get("/hotspots", summary="Working free WiFi hotspots (public), optionally in one district")
async def hotspots(request: Request, district: District = None) -> list[dict[str, Any]]:
    platform: Platform = request.app.state.platform

    def work(session: Session) -> list[dict[str, Any]]:
        found = service.list_access_points(session, district=district, working_only=True)
        return [
            {
                "code": ap.code,
                "lat": ap.lat,
                "lon": ap.lon,
                "ssids": list(ap.ssids),
                "district_code": ap.district_code,
                "facility_kind": facility.kind,
                "facility_ko": facility.name_ko,
                "facility_en": facility.name_en,
            }
            for ap, facility in found
        ]

    return await run_in_session(platform, work)


@router.get("/coverage", summary="Share of public facilities with working WiFi, city-wide and by district")
async def coverage(request: Request) -> dict[str, Any]:
    platform: Platform = request.app.state.platform

    def work(session: Session) -> dict[str, Any]:
        city, districts = service.coverage(session)
        return {
            "city": city.as_dict(),
            "districts": [{"district_code": code, **c.as_dict()} for code, c in districts.items()],
        }

    return await run_in_session(platform, work)


@router.get("/access-points", summary="The access-point registry with health (staff)")
async def access_points(
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.READ_ROLES)),
    district: District = None,
) -> list[dict[str, Any]]:
    def work(session: Session) -> list[dict[str, Any]]:
        return [service.ap_dict(ap, f) for ap, f in service.list_access_points(session, district=district)]

    return await run_in_session(platform, work)


@router.get("/outages", summary="Outages, newest first (staff)")
async def list_outages(
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.READ_ROLES)),
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    found = await run_in_session(
        platform, lambda session: service.outages(session, open_only=open_only, limit=limit)
    )
    return [
        {
            **o,
            "started_at": o["started_at"].isoformat(),
            "ended_at": o["ended_at"] and o["ended_at"].isoformat(),
        }
        for o in found
    ]


@router.get("/usage", summary="Sessions, unique users and traffic per Seoul day (staff)")
async def usage(
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.READ_ROLES)),
    since: date | None = None,
    until: date | None = None,
    by: Literal["ap", "facility", "district", "city"] = "district",
) -> list[dict[str, Any]]:
    last = until or service.today_seoul()
    first = since or last - timedelta(days=6)
    if first > last:
        raise Problem(422, "Invalid period", "'since' is after 'until'", "invalid_input", field="since")
    if (last - first).days >= MAX_USAGE_DAYS:
        raise Problem(422, "Invalid period", "at most 366 days at once", "invalid_input", field="since")
    rows = await run_in_session(platform, lambda session: service.usage(session, first, last, by))
    return [row.as_dict() for row in rows]


@router.post(
    "/accounting/import",
    summary="Import a FreeRADIUS detail file (text body); records already stored are skipped",
)
async def import_accounting(
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("admin", "operator")),
) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise Problem(
            422, "Empty file", "send the detail file as the request body", "invalid_input", field="body"
        )
    if len(raw) > MAX_IMPORT_BYTES:
        raise Problem(413, "File too large", "import at most 8 MiB at once", "too_large", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(
            422, "Not UTF-8", f"byte {error.start} is not UTF-8", "invalid_input", field="body"
        ) from None
    secret = platform.secret_key

    def work(session: Session) -> dict[str, Any]:
        records, malformed = [], []
        for item in radius.parse_detail(text.splitlines()):
            if isinstance(item, radius.MalformedRecord):
                malformed.append(str(item))
            else:
                records.append(item)
        result = service.store_accounting(session, records, secret, source="file")
        result.malformed = malformed
        audit.record(
            session,
            actor=principal.name,
            action="wifi.accounting.import",
            target="wifi:accounting",
            client=client_address(request),
            details={"stored": result.stored, "duplicates": result.duplicates, "malformed": len(malformed)},
        )
        return result.as_dict()

    return await run_in_session(platform, work)


class AccessPointIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    mac: str = Field(pattern=r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
    facility_id: int = Field(ge=1, le=2**31 - 1)
    lat: float = Field(ge=33.0, le=39.0)
    lon: float = Field(ge=124.0, le=132.0)
    ssids: list[str] = Field(default=["Seoul_Free_WiFi", "Seoul_Secure"], min_length=1, max_length=8)
    backhaul: Literal["city_fibre", "carrier"] = "city_fibre"
    vendor: str = Field("", max_length=64)


class StatusIn(BaseModel):
    status: Literal["active", "maintenance", "retired"]


@router.post("/access-points", status_code=201, summary="Register an access point (staff)")
async def add_access_point(
    body: AccessPointIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("admin", "operator")),
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        try:
            ap = service.add_access_point(
                session,
                code=body.code,
                mac=body.mac,
                facility_id=body.facility_id,
                lat=body.lat,
                lon=body.lon,
                ssids=body.ssids,
                backhaul=body.backhaul,
                vendor=body.vendor,
            )
        except service.RegistryError as error:
            raise Problem(error.status, "Refused", str(error), "invalid_input", field=error.field) from None
        audit.record(
            session,
            actor=principal.name,
            action="wifi.ap.add",
            target=f"wifi_ap:{ap.code}",
            client=client_address(request),
        )
        return service.ap_dict(ap)

    return await run_in_session(platform, work)


@router.post("/access-points/{code}/status", summary="Put an access point in or out of service (staff)")
async def set_status(
    code: Annotated[str, Path(min_length=1, max_length=64)],
    body: StatusIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require("admin", "operator")),
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        try:
            ap = service.access_point(session, code)
        except service.UnknownAccessPoint:
            raise Problem(404, "Not found", f"access point {code}", "not_found") from None
        ap.status = body.status
        session.flush()
        audit.record(
            session,
            actor=principal.name,
            action="wifi.ap.status",
            target=f"wifi_ap:{ap.code}",
            details={"status": body.status},
            client=client_address(request),
        )
        return service.ap_dict(ap)

    return await run_in_session(platform, work)
