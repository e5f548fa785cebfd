"""The service catalogue and the plan's measure: the share of services fully doable on mobile."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy.orm import Session

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.services.catalog import service
from smartseoul.services.catalog.data import mobile_years


def test_the_demo_catalogue_meets_the_plans_mobile_shares(db: Session) -> None:
    assert service.load_demo(db) == 108
    assert service.load_demo(db) == 0  # idempotent
    overall = {row.year: row for row in service.coverage(db) if not row.department}
    assert overall[2011].services == 108
    assert (overall[2012].share, overall[2013].share, overall[2014].share) == (37.0, 62.0, 100.0)
    assert overall[2011].share < overall[2012].share
    departments = {row.department for row in service.coverage(db) if row.department}
    assert {"finance", "welfare", "district"} <= departments
    assert len(service.list_services(db, district="11230")) == 73 + 7  # city-wide + Gangnam's own


def test_mobile_years_follow_any_target_exactly() -> None:
    codes = [f"S{i:03d}" for i in range(200)]
    years = mobile_years(codes, {2012: 50, 2014: 100})
    assert sum(1 for year in years.values() if year <= 2012) == 100
    assert len(years) == 200
    assert max(years.values()) == 2014


def test_a_staff_edit_moves_the_measure(db: Session) -> None:
    service.load_demo(db)
    before = {row.year: row.mobile for row in service.coverage(db) if not row.department}
    service.set_channels(
        db, "CERT-LOCALTAX", ["web", "counter"], actor="admin", district_code=None, is_admin=True
    )
    after = {row.year: row.mobile for row in service.coverage(db) if not row.department}
    assert after[2014] == before[2014] - 1
    edited = service.set_channels(
        db, "CERT-LOCALTAX", ["mobile", "web"], actor="admin", district_code=None, is_admin=True
    )
    assert edited.mobile_since is not None
    assert edited.mobile_since >= 2026
    with pytest.raises(service.CatalogError) as refused:
        service.set_channels(db, "ADM-MOVE", ["fax"], actor="admin", district_code=None, is_admin=True)
    assert refused.value.field == "channels"


def _headers(
    client: Any, platform: Platform, name: str, roles: list[str], district: str | None = None
) -> dict[str, str]:
    account = make_account(platform.db, name, roles, district_code=district)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def test_the_catalogue_api_filters_edits_and_exports(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        service.load_demo(session)
    mobile = client.get("/api/v1/catalog/services", params={"channel": "mobile"}).json()
    assert len(mobile) == 108
    assert all(row["fully_mobile"] for row in mobile)
    tv_finance = client.get(
        "/api/v1/catalog/services", params={"channel": "tv", "department": "welfare"}
    ).json()
    assert tv_finance
    assert all("tv" in row["channels"] and row["department"] == "welfare" for row in tv_finance)
    assert client.get("/api/v1/catalog/services", params={"q": "납세"}).json()[0]["code"] == "CERT-LOCALTAX"
    bad = client.get("/api/v1/catalog/services", params={"channel": "fax"})
    assert bad.status_code == 422
    assert client.get("/api/v1/catalog/services/NOPE").status_code == 404
    # district staff edit their own district's services only; citizens not at all
    gangnam = _headers(client, platform, "staff.gangnam", ["district_staff"], "11230")
    own = client.patch(
        "/api/v1/catalog/services/D11230-GYM", json={"channels": ["web", "counter"]}, headers=gangnam
    )
    assert own.status_code == 200
    assert own.json()["mobile_since"] is None
    other = client.patch("/api/v1/catalog/services/D11010-GYM", json={"channels": ["web"]}, headers=gangnam)
    assert other.status_code == 403
    assert other.json()["code"] == "not_your_district"
    invalid = client.patch("/api/v1/catalog/services/D11230-GYM", json={"channels": ["fax"]}, headers=gangnam)
    assert invalid.status_code == 422
    assert invalid.json()["field"] == "channels"
    citizen = _headers(client, platform, "cat.citizen", ["citizen"])
    assert (
        client.patch(
            "/api/v1/catalog/services/D11230-GYM", json={"channels": ["web"]}, headers=citizen
        ).status_code
        == 403
    )
    assert client.patch("/api/v1/catalog/services/D11230-GYM", json={"channels": ["web"]}).status_code == 401
    report = client.get("/api/v1/catalog/coverage").json()
    shares = {row["year"]: row["share"] for row in report["overall"]}
    assert shares[2013] == 62.0
    assert shares[2014] == round(100 * 107 / 108, 1)
    exported = client.get("/api/v1/catalog/coverage.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    whole = {row["year"]: row for row in rows if not row["department"]}
    assert whole["2012"]["share_percent"] == "37.0"
    assert whole["2012"]["target_percent"] == "37"
    finance = [row for row in rows if row["department"] == "finance"]
    assert finance
    assert finance[0]["department_ko"] == "재무국"


def test_the_catalogue_pages_render(client: Any, platform: Platform) -> None:
    with platform.db.session() as session:
        service.load_demo(session)
    browse = client.get("/services", params={"department": "finance"})
    assert browse.status_code == 200
    assert "CERT-LOCALTAX" in browse.text
    assert "ADM-MOVE" not in browse.text
    coverage = client.get("/services/coverage")
    assert coverage.status_code == 200
    assert "62.0%" in coverage.text
    assert "37.0%" in coverage.text
    assert client.get("/services/catalog/CERT-LOCALTAX", follow_redirects=False).status_code == 303
