"""The planner's HTTP API as the console and other systems use it, refusals included."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry

PLANS = "/api/v1/placement/plans"
SMALL = {"cameras": 12, "radius_m": 300, "cell_m": 400, "candidates": 120, "per_year": 5}


def bearer(
    client: Any, platform: Platform, username: str, roles: list[str], district: str | None = None
) -> dict[str, str]:
    account = make_account(platform.db, username, roles, district_code=district)
    return {"Authorization": f"Bearer {token_for(client, account)}"}


def denials(platform: Platform, actor: str) -> list[AuditEntry]:
    with platform.db.session() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "access.denied", AuditEntry.actor == actor)
            )
        )


def test_operator_plans_and_reads_the_plan_back(client: Any, platform: Platform) -> None:
    headers = bearer(client, platform, "op.lee", ["operator"])
    made = client.post(PLANS, json=SMALL, headers=headers)
    assert made.status_code == 201, made.text
    plan = made.json()
    assert plan["status"] == "done"
    assert plan["solver_status"] == "optimal"
    assert len(plan["sites"]) == 12
    assert [y["cameras_installed"] for y in plan["years"]] == [5, 10, 12]
    assert plan["objective"] <= plan["bound"] + 1e-6
    assert plan["figures"]["covered_share_after"] > plan["figures"]["covered_share_before"]
    again = client.get(f"{PLANS}/{plan['id']}", headers=headers)
    assert again.status_code == 200
    assert again.json()["sites"] == plan["sites"]
    listed = client.get(PLANS, headers=headers).json()
    assert [p["id"] for p in listed] == [plan["id"]]
    assert "sites" not in listed[0]


def test_bad_and_infeasible_requests_are_refused_naming_the_parameter(
    client: Any, platform: Platform
) -> None:
    headers = bearer(client, platform, "op.park", ["operator"])
    zero = client.post(PLANS, json={**SMALL, "radius_m": 0}, headers=headers)
    assert zero.status_code == 422
    assert zero.headers["content-type"].startswith("application/problem+json")
    assert "radius_m" in zero.json()["detail"]
    budget = client.post(PLANS, json={"cameras": 50, "mode": "equity", "target_ratio": 2}, headers=headers)
    assert budget.status_code == 422
    body = budget.json()
    assert body["parameter"] == "cameras"
    assert "needs at least" in body["detail"]
    too_many = client.post(PLANS, json={**SMALL, "cameras": 500}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["parameter"] == "cameras"
    for weights in ({"population": 0}, {"population": 0, "incidents": 1}):  # no demand at all
        no_demand = client.post(PLANS, json={**SMALL, "weights": weights}, headers=headers)
        assert no_demand.status_code == 422
        assert no_demand.json()["parameter"] == "weights"
    unknown_field = client.post(PLANS, json={**SMALL, "radius": 100}, headers=headers)
    assert unknown_field.status_code == 422
    malformed = client.post(
        PLANS, content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert client.get(PLANS, headers=headers).json() == []  # nothing half-written
    assert client.get(f"{PLANS}/999", headers=headers).status_code == 404


def test_roles_and_districts_are_enforced_and_refusals_audited(client: Any, platform: Platform) -> None:
    citizen = bearer(client, platform, "citizen.choi", ["citizen"])
    assert client.post(PLANS, json=SMALL, headers=citizen).status_code == 403
    assert client.get(PLANS, headers=citizen).status_code == 403
    assert len(denials(platform, "citizen.choi")) == 2
    assert client.post(PLANS, json=SMALL).status_code == 401

    staff = bearer(client, platform, "dobong.staff", ["district_staff"], district="11100")
    elsewhere = client.post(PLANS, json={**SMALL, "districts": ["11230"]}, headers=staff)
    assert elsewhere.status_code == 403
    assert "11230" in denials(platform, "dobong.staff")[0].reason
    own = client.post(PLANS, json={**SMALL, "candidates": 50}, headers=staff)
    assert own.status_code == 201, own.text
    assert {site["district_code"] for site in own.json()["sites"]} == {"11100"}
    assert own.json()["parameters"]["districts"] == ["11100"]


def test_large_plans_are_solved_in_the_background(client: Any, platform: Platform) -> None:
    platform.settings.placement_sync_max_sites = 100
    headers = bearer(client, platform, "op.jung", ["operator"])
    queued = client.post(PLANS, json={**SMALL, "candidates": 300}, headers=headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    location = queued.headers["location"]
    done = client.get(location, headers=headers).json()  # the test client ran the background task
    assert done["status"] == "done"
    assert len(done["sites"]) == 12
