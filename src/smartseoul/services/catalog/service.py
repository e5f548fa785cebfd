"""The service catalogue: list, look up, edit channels, and the channel-coverage report.

"Fully doable on mobile" means the service is offered on the mobile channel; ``mobile_since``
records the year that became true. The coverage report is the plan's target measure: the share
of services fully doable on mobile at the end of each year, city-wide and per department.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.services.catalog import data
from smartseoul.services.catalog.models import ASSURANCE_LEVELS, CHANNELS, CatalogService

REPORT_FIRST_YEAR = 2011


class CatalogError(Exception):
    def __init__(self, status: int, code: str, detail: str, field: str = "") -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


def load_demo(session: Session) -> int:
    """Load the demo catalogue (idempotent: services already there are left as staff edited them)."""
    existing = set(session.scalars(select(CatalogService.code)))
    seeds = data.services()
    years = data.mobile_years([seed.code for seed in seeds])
    added = 0
    for seed in seeds:
        if seed.code in existing:
            continue
        channels = ["web", "mobile"] + (["tv"] if seed.tv else []) + (["counter"] if seed.counter else [])
        session.add(
            CatalogService(
                code=seed.code,
                name_ko=seed.name_ko,
                name_en=seed.name_en,
                department=seed.department,
                district_code=seed.district_code,
                channels=channels,
                assurance=seed.assurance,
                fee_krw=seed.fee_krw,
                processing_days=seed.days,
                owner=data.DEPARTMENTS[seed.department][0],
                mobile_since=years[seed.code],
                updated_by="seed",
            )
        )
        added += 1
    session.flush()
    return added


def department_name(key: str, lang: str) -> str:
    ko, en = data.DEPARTMENTS.get(key, (key, key))
    return ko if lang == "ko" else en


def list_services(
    session: Session,
    *,
    department: str | None = None,
    channel: str | None = None,
    district: str | None = None,
    query: str | None = None,
) -> list[CatalogService]:
    """Services matching every filter given; ``district`` keeps city-wide ones too."""
    statement = select(CatalogService)
    if department:
        statement = statement.where(CatalogService.department == department)
    if district:
        statement = statement.where(
            (CatalogService.district_code == district) | CatalogService.district_code.is_(None)
        )
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(
            func.lower(CatalogService.name_ko).like(like)
            | func.lower(CatalogService.name_en).like(like)
            | func.lower(CatalogService.code).like(like)
        )
    rows = list(session.scalars(statement.order_by(CatalogService.department, CatalogService.code)))
    return [row for row in rows if channel in row.channels] if channel else rows


def get_service(session: Session, code: str) -> CatalogService:
    row = session.scalar(select(CatalogService).where(CatalogService.code == code))
    if row is None:
        raise CatalogError(404, "unknown_service", f"no service {code}", "code")
    return row


def assurance_of(session: Session, code: str, default: str) -> str:
    """The assurance a service needs according to the catalogue (``default`` if it is not listed)."""
    level = session.scalar(select(CatalogService.assurance).where(CatalogService.code == code))
    return level or default


def fee_of(session: Session, code: str, default: int) -> int:
    """The fee of a service according to the catalogue (``default`` if it is not listed)."""
    fee = session.scalar(select(CatalogService.fee_krw).where(CatalogService.code == code))
    return default if fee is None else int(fee)


def service_dict(row: CatalogService) -> dict[str, Any]:
    return {
        "code": row.code,
        "name_ko": row.name_ko,
        "name_en": row.name_en,
        "department": row.department,
        "district_code": row.district_code,
        "channels": [channel for channel in CHANNELS if channel in row.channels],
        "assurance": row.assurance,
        "fee_krw": row.fee_krw,
        "processing_days": row.processing_days,
        "owner": row.owner,
        "mobile_since": row.mobile_since,
        "fully_mobile": "mobile" in row.channels,
        "updated_at": row.updated_at.isoformat(),
        "updated_by": row.updated_by,
    }


def set_channels(
    session: Session,
    code: str,
    channels: list[str],
    *,
    actor: str,
    district_code: str | None,
    is_admin: bool,
    assurance: str | None = None,
) -> CatalogService:
    """Staff change where a service is offered. District staff edit their own district's services
    only; adding mobile stamps this year as ``mobile_since``, removing it clears the year."""
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown or not channels:
        raise CatalogError(
            422,
            "invalid_channels",
            f"channels: choose from {', '.join(CHANNELS)} (got {', '.join(unknown) or 'none'})",
            "channels",
        )
    if assurance is not None and assurance not in ASSURANCE_LEVELS:
        raise CatalogError(
            422, "invalid_assurance", f"assurance: one of {', '.join(ASSURANCE_LEVELS)}", "assurance"
        )
    row = get_service(session, code)
    if not is_admin and (row.district_code is None or row.district_code != district_code):
        raise CatalogError(
            403, "not_your_district", "district staff edit only their own district's services", "code"
        )
    before = list(row.channels)
    row.channels = [channel for channel in CHANNELS if channel in channels]
    if "mobile" in row.channels and row.mobile_since is None:
        row.mobile_since = utcnow().year
    if "mobile" not in row.channels:
        row.mobile_since = None
    if assurance is not None:
        row.assurance = assurance
    row.updated_at, row.updated_by = utcnow(), actor
    audit.record(
        session,
        actor=actor,
        action="catalog.service.update",
        target=f"service:{code}",
        details={"before": before, "after": row.channels},
    )
    session.flush()
    return row


@dataclass(frozen=True)
class CoverageRow:
    year: int
    department: str  # "" for the whole catalogue
    services: int
    mobile: int

    @property
    def share(self) -> float:
        return round(100 * self.mobile / self.services, 1) if self.services else 0.0


def coverage(session: Session, years: list[int] | None = None) -> list[CoverageRow]:
    """Share of services fully doable on mobile at the end of each year: the whole catalogue
    first, then each department. The years run from 2011 to this year unless given."""
    rows = session.execute(
        select(CatalogService.department, CatalogService.mobile_since, CatalogService.channels)
    ).all()
    span = years or list(range(REPORT_FIRST_YEAR, utcnow().year + 1))
    departments = sorted({department for department, _, _ in rows})
    report: list[CoverageRow] = []
    for scope in ["", *departments]:
        chosen = [
            (since, channels) for department, since, channels in rows if not scope or department == scope
        ]
        for year in span:
            mobile = sum(
                1
                for since, channels in chosen
                if since is not None and since <= year and "mobile" in channels
            )
            report.append(CoverageRow(year, scope, len(chosen), mobile))
    return report


def coverage_dict(report: list[CoverageRow]) -> dict[str, Any]:
    overall = [row for row in report if not row.department]
    by_department: dict[str, list[dict[str, Any]]] = {}
    for row in report:
        if row.department:
            by_department.setdefault(row.department, []).append(
                {"year": row.year, "services": row.services, "mobile": row.mobile, "share": row.share}
            )
    return {
        "measure": "share of services fully doable on mobile (percent, end of year)",
        "targets": {str(year): share for year, share in data.PLAN_TARGETS.items()},
        "overall": [
            {"year": row.year, "services": row.services, "mobile": row.mobile, "share": row.share}
            for row in overall
        ],
        "departments": by_department,
    }


def coverage_csv(report: list[CoverageRow]) -> str:
    """The report as CSV (one row per year and scope; ``department`` empty = whole catalogue)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["year", "department", "department_ko", "services", "mobile", "share_percent", "target_percent"]
    )
    for row in report:
        target = data.PLAN_TARGETS.get(row.year, "") if not row.department else ""
        name = department_name(row.department, "ko") if row.department else ""
        writer.writerow(
            [row.year, row.department, name, row.services, row.mobile, f"{row.share:.1f}", target]
        )
    return buffer.getvalue()
