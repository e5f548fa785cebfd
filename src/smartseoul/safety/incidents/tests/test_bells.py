"""Emergency bells: a press on the real Mosquitto broker opens an incident with the bell's cameras,
a silent bell becomes a fault, a broken message or an unknown bell is ignored without harm, and
the intercom follows its state machine."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import require_service, run_async
from smartseoul.core.auth import InvalidInput
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.safety.incidents import bells, mqtt
from smartseoul.safety.incidents.events import BellPressed, IncidentOpened
from smartseoul.safety.incidents.models import Bell, Incident

GWANGHWAMUN = (37.5759, 126.9769)  # Jongno-gu


def _bell(session: Session, bell_id: str = "B-TEST-1", cameras: list[int] | None = None) -> Bell:
    return bells.add_bell(
        session, bell_id, *GWANGHWAMUN, actor="test", camera_ids=cameras or [11, 12], name="광화문 1"
    )


def test_a_press_opens_an_urgent_incident_with_the_bells_cameras(db: Session, tmp_path: Any) -> None:
    from conftest import make_settings

    settings = make_settings(tmp_path)
    bell = _bell(db)
    assert bell.district_code == "11010"
    events = bells.press(db, settings, bell.id)
    pressed = next(e for e in events if isinstance(e, BellPressed))
    opened = next(e for e in events if isinstance(e, IncidentOpened))
    incident = db.get(Incident, opened.incident_id)
    assert incident is not None
    assert incident.priority == 1
    assert incident.source == "bell"
    assert incident.camera_ids == [11, 12]
    assert pressed.camera_ids == [11, 12]
    # pressing again a few seconds later is the same emergency, not a second one
    again = bells.press(db, settings, bell.id, utcnow() + timedelta(seconds=5))
    assert not any(isinstance(e, IncidentOpened) for e in again)
    assert incident.alarm_count == 2


def test_bad_registrations_are_refused_with_the_field(db: Session) -> None:
    with pytest.raises(InvalidInput, match="bell id"):
        bells.add_bell(db, "no spaces allowed", *GWANGHWAMUN, actor="test")
    with pytest.raises(InvalidInput, match="lat/lon"):
        bells.add_bell(db, "B-X", 95.0, 126.9, actor="test")
    with pytest.raises(InvalidInput, match="district"):
        bells.add_bell(db, "B-X", *GWANGHWAMUN, actor="test", district_code="11230")
    _bell(db)
    with pytest.raises(InvalidInput, match="exists already"):
        _bell(db)


def test_a_silent_bell_becomes_a_fault_once_and_a_heartbeat_heals_it(db: Session, tmp_path: Any) -> None:
    from conftest import make_settings

    settings = make_settings(tmp_path)
    bell = _bell(db)
    bell.last_heartbeat_at = utcnow() - timedelta(seconds=settings.incidents_bell_heartbeat_s + 5)
    events = bells.check_heartbeats(db, settings)
    assert [e.kind for e in events if isinstance(e, IncidentOpened)] == ["bell_fault"]
    assert bell.status == "fault"
    assert bell.fault_reason == "missing heartbeat"
    assert bells.check_heartbeats(db, settings) == []  # once, not every pass
    bells.heartbeat(db, bell.id)
    assert bell.status == "ok"


def test_the_intercom_follows_its_state_machine(db: Session) -> None:
    _bell(db)
    talk = bells.request_intercom(db, "B-TEST-1", "op")
    with pytest.raises(bells.IntercomError, match="already in intercom session"):
        bells.request_intercom(db, "B-TEST-1", "op2")
    with pytest.raises(bells.IntercomError, match="is requested; 'connect' is not possible"):
        bells.move_intercom(db, talk, "connect", "op")
    assert bells.move_intercom(db, talk, "ring", "bell").state == "ringing"
    assert bells.move_intercom(db, talk, "connect", "bell").state == "connected"
    assert bells.move_intercom(db, talk, "end", "op", "caller safe").state == "ended"
    assert talk.ringing_at
    assert talk.connected_at
    assert talk.ended_at
    assert talk.end_reason == "caller safe"
    with pytest.raises(bells.IntercomError):
        bells.move_intercom(db, talk, "end", "op")
    # the bell is free again
    assert bells.request_intercom(db, "B-TEST-1", "op").state == "requested"
    mute = bells.add_bell(db, "B-MUTE", *GWANGHWAMUN, actor="test", has_intercom=False)
    with pytest.raises(bells.IntercomError, match="has no intercom"):
        bells.request_intercom(db, mute.id, "op")


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("smartseoul/bells/B-TEST-1/press", b"not json", "not JSON"),
        ("smartseoul/bells/B-TEST-1/press", b"[1, 2]", "JSON object"),
        ("smartseoul/bells/B-TEST-1/press", b'{"at": "yesterday"}', "ISO 8601"),
        ("smartseoul/bells/B-TEST-1/explode", b"{}", "unexpected topic"),
        ("smartseoul/bells/B-NOBODY/press", b"{}", "unknown bell"),
    ],
)
def test_malformed_messages_and_unknown_bells_are_logged_and_ignored(
    platform: Platform, caplog: pytest.LogCaptureFixture, topic: str, payload: bytes, reason: str
) -> None:
    with platform.db.session() as session:
        _bell(session)
    with caplog.at_level(logging.WARNING, logger="smartseoul.incidents.mqtt"):
        assert run_async(mqtt.handle(platform, topic, payload)) == []
    assert reason in caplog.text
    with platform.db.session() as session:
        assert session.scalars(select(Incident)).all() == []
    # the next good message still works
    assert run_async(mqtt.handle(platform, "smartseoul/bells/B-TEST-1/press", b"{}"))


def test_a_press_on_the_real_broker_opens_an_incident_and_the_bad_messages_do_not(platform: Platform) -> None:
    require_service("mqtt")
    with platform.db.session() as session:
        _bell(session, "B-MQTT-1")

    async def scenario() -> list[Event]:
        seen: list[Event] = []
        arrived = asyncio.Event()

        async def on_event(event: Event) -> None:
            seen.append(event)
            if isinstance(event, IncidentOpened):
                arrived.set()

        subscription = await platform.bus.subscribe("safety.>", on_event)
        ready = asyncio.Event()
        task = asyncio.create_task(mqtt.subscribe_forever(platform, "mqtt://127.0.0.1:1883", ready))
        try:
            await asyncio.wait_for(ready.wait(), 10)
            async with aiomqtt.Client("127.0.0.1", 1883, identifier="test-bell-B-MQTT-1") as bell:
                await bell.publish("smartseoul/bells/B-NOBODY/press", b"{}", qos=1)
                await bell.publish("smartseoul/bells/B-MQTT-1/press", b"garbage", qos=1)
                await bell.publish("smartseoul/bells/B-MQTT-1/press", b"{}", qos=1)
                await asyncio.wait_for(arrived.wait(), 10)
        finally:
            task.cancel()
            await subscription.stop()
        return seen

    seen = run_async(scenario())
    assert [e.type for e in seen if e.type.startswith("safety.bell")] == ["safety.bell.pressed.v1"]
    with platform.db.session() as session:
        (incident,) = session.scalars(select(Incident)).all()
        assert incident.bell_id == "B-MQTT-1"
        assert incident.priority == 1
