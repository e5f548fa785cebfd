"""Plans stored for review, with the registry's cameras fixed (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.models import AuditEntry
from smartseoul.safety.cctv.service import add_cameras
from smartseoul.safety.placement import demand, planner, service

JONGNO = "11010"
REQUEST = planner.PlanRequest(
    cameras=8, radius_m=300, cell_m=400, candidates=60, districts=(JONGNO,), per_year=5
)


def _camera(number: int, lat: float, lon: float) -> dict[str, object]:
    return {
        "code": f"T-{number}",
        "site": f"T-{number}",
        "name": f"test camera {number}",
        "owner": "Jongno-gu office",
        "purpose": "crime",
        "lat": lat,
        "lon": lon,
        "district_code": JONGNO,
    }


def test_empty_registry_falls_back_to_the_2016_counts(db: Session) -> None:
    existing = service.existing_cameras(db)
    assert existing.source == "district_stats_2016"
    assert int(existing.counts.sum()) == 29_477


def test_plan_is_stored_with_its_sites_and_audited(db: Session) -> None:
    grid = demand.city_grid(REQUEST.cell_m)
    cells = [i for i in range(grid.size) if grid.codes[grid.district[i]] == JONGNO][:3]
    add_cameras(db, [_camera(n, float(grid.lat[i]), float(grid.lon[i])) for n, i in enumerate(cells)])
    prepared = service.prepare(db, REQUEST)
    existing = prepared[2]
    assert existing.source == "registry"
    assert int(existing.counts.sum()) == 3
    plan = service.save_plan(db, REQUEST, service.compute(REQUEST, prepared), "planner.kim")
    db.expunge_all()

    stored = service.get_plan(db, plan.id)
    assert stored is not None
    body = service.plan_dict(stored)
    assert body["status"] == "done"
    assert body["solver_status"] == "optimal"
    assert body["gap"] == 0.0
    assert [site["rank"] for site in body["sites"]] == list(range(1, 9))
    assert {site["district_code"] for site in body["sites"]} == {JONGNO}
    assert [year["cameras_installed"] for year in body["years"]] == [5, 8]
    # the three registry cameras each cover their own cell (3 of Jongno's)
    assert body["figures"]["covered_share_before"] == pytest.approx(3 / body["figures"]["cells"], abs=1e-6)
    assert body["figures"]["covered_share_after"] > body["figures"]["covered_share_before"]
    assert service.request_from(stored.parameters) == REQUEST
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "placement.plan")).one()
    assert (entry.actor, entry.target) == ("planner.kim", f"placement_plan:{plan.id}")
    assert [p.id for p in service.list_plans(db)] == [plan.id]
