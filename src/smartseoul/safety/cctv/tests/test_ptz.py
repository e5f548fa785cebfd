"""PTZ over ONVIF against a simulated camera, and the cameras aimed at a new incident."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.events import Event, GenericEvent
from smartseoul.core.models import AuditEntry
from smartseoul.safety.cctv import aiming
from smartseoul.safety.cctv.onvif import OnvifError, OnvifPtzClient, PtzPosition
from smartseoul.safety.cctv.tests.helpers import JUNG_CENTRE, add_camera, offset
from smartseoul.safety.cctv.tests.onvif_camera import SimulatedOnvifCamera


def test_absolute_move_preset_and_status_over_soap() -> None:
    with SimulatedOnvifCamera("ptzadmin", "s3cret-Pw") as camera:
        client = OnvifPtzClient(camera.url, "ptzadmin", "s3cret-Pw", "Profile_1")
        client.absolute_move(PtzPosition(0.5, -0.25, 0.4))
        assert client.status() == PtzPosition(0.5, -0.25, 0.4)
        client.goto_preset("gate")
        assert client.status() == PtzPosition(-0.5, -0.2, 0.3)
        assert camera.state.calls == ["AbsoluteMove", "GetStatus", "GotoPreset", "GetStatus"]


def test_a_wrong_password_or_profile_is_a_clear_error() -> None:
    with SimulatedOnvifCamera("ptzadmin", "s3cret-Pw") as camera:
        with pytest.raises(OnvifError, match="not authorized"):
            OnvifPtzClient(camera.url, "ptzadmin", "wrong", "Profile_1").absolute_move(PtzPosition(0, 0, 0))
        with pytest.raises(OnvifError, match="no such profile"):
            OnvifPtzClient(camera.url, "ptzadmin", "s3cret-Pw", "Other").goto_preset("1")
        assert (camera.state.pan, camera.state.tilt) == (0.0, 0.0)
    with pytest.raises(OnvifError, match="no answer"):
        OnvifPtzClient(camera.url, "ptzadmin", "s3cret-Pw", "Profile_1", timeout=0.5).status()


def test_a_ptz_camera_east_of_a_spot_pans_west_and_tilts_down(db: Session) -> None:
    spot = JUNG_CENTRE
    with SimulatedOnvifCamera("ptzadmin", "s3cret-Pw") as device:
        camera = add_camera(
            db,
            at=offset(*spot, north_m=0, east_m=50),
            direction_deg=0.0,
            fov_deg=60.0,
            range_m=100.0,
            ptz=True,
            mount_height_m=5.0,
            onvif_url=device.url,
            onvif_username="ptzadmin",
            onvif_password="s3cret-Pw",
            onvif_profile="Profile_1",
        )
        result = aiming.aim_at(db, *spot, actor="test")
        assert result.ptz_camera_ids == result.moved_by_onvif == [camera.id]
        # the spot lies due west (270 degrees) of a camera whose home is north: pan -90 degrees
        assert device.state.pan == pytest.approx(-0.5, abs=0.01)
        assert device.state.tilt == pytest.approx(-5.71 / 90, abs=0.01)  # atan(5 m / 50 m) down
        assert device.state.zoom == pytest.approx(0.5, abs=0.01)
    assert camera.pan_deg == pytest.approx(-90.0, abs=1.0)
    moves = db.scalars(select(AuditEntry).where(AuditEntry.action == "cctv.ptz.move")).all()
    assert [(m.target, m.outcome) for m in moves] == [(f"camera:{camera.id}", "ok")]


def test_an_incident_gets_its_cameras_once_and_the_event_says_how_they_were_turned(
    platform: Platform,
) -> None:
    spot = JUNG_CENTRE
    with platform.db.session() as session:
        fixed = add_camera(session, at=offset(*spot, north_m=-20, east_m=0), direction_deg=0.0).id
        ptz = add_camera(
            session, at=offset(*spot, north_m=40, east_m=0), direction_deg=0.0, ptz=True, range_m=100.0
        ).id
    received: list[Event] = []

    async def scenario() -> None:
        await platform.start()
        try:

            async def collect(event: Event) -> None:
                received.append(event)

            await platform.bus.subscribe("safety.cameras.aimed.v1", collect)
            opened = GenericEvent(
                event_type="safety.incident.opened.v1",
                payload={
                    "incident_id": 77,
                    "source": "citizen",
                    "kind": "assault",
                    "priority": 1,
                    "lat": spot[0],
                    "lon": spot[1],
                },
            )
            await platform.bus.publish(opened)
            await platform.bus.publish(opened)  # redelivered: aimed once only
            without_place = GenericEvent(
                event_type="safety.incident.opened.v1", payload={"incident_id": 78, "lat": None, "lon": None}
            )
            await platform.bus.publish(without_place)
            import asyncio

            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
        finally:
            await platform.close()

    run_async(scenario())
    assert len(received) == 1
    data: dict[str, Any] = received[0].data()
    assert (data["incident_id"], data["camera_ids"], data["ptz_camera_ids"]) == (77, [fixed, ptz], [ptz])
    assert data["moved_by_onvif"] == []  # no ONVIF endpoint: turned in the registry only
