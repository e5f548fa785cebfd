"""Incidents as demand: kept once per incident from the bus, and drawing cameras to where they happen."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import func, select

from conftest import run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import GenericEvent
from smartseoul.safety.placement import demand, planner
from smartseoul.safety.placement.incidents import incident_points, on_incident_opened
from smartseoul.safety.placement.models import IncidentPoint

MYEONGDONG = (37.5637, 126.9838)


def opened(incident_id: int, lat: Any, lon: Any) -> GenericEvent:
    payload = {"incident_id": incident_id, "source": "operator", "kind": "assault", "priority": 2}
    payload.update({"lat": lat, "lon": lon, "district_code": None, "title": "assault reported"})
    return GenericEvent(event_type="safety.incident.opened.v1", payload=payload)


def test_each_incident_with_a_place_is_kept_once(platform: Platform) -> None:
    first = opened(501, *MYEONGDONG)
    run_async(on_incident_opened(platform, first))
    run_async(on_incident_opened(platform, first))  # redelivered
    run_async(on_incident_opened(platform, opened(501, *MYEONGDONG)))  # another event, same incident
    run_async(on_incident_opened(platform, opened(502, None, None)))  # no place
    run_async(on_incident_opened(platform, opened(503, "north", 126.9)))  # malformed
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IncidentPoint)) == 1
        assert incident_points(session) == [MYEONGDONG]


def test_incident_weight_draws_cameras_to_where_incidents_happen() -> None:
    request = planner.PlanRequest(
        cameras=1,
        radius_m=300,
        cell_m=400,
        candidates=2000,
        weights=demand.Weights(population=0, incidents=1),
    )
    made = planner.plan(request, planner.Existing.from_points([]), incidents=[MYEONGDONG]).outcome
    site = demand.to_xy([made.sites[0]["lat"]], [made.sites[0]["lon"]])
    incident = demand.to_xy([MYEONGDONG[0]], [MYEONGDONG[1]])
    assert float(np.linalg.norm(site - incident)) < 300 + 400  # within reach of the incident's cells
    assert made.figures["covered_share_after"] > 0.5
