"""OwnTracks phones over HTTP (`POST /api/v1/owntracks`) and over MQTT on the real Mosquitto."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import func, select

from conftest import make_account, require_service
from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform
from smartseoul.tracking import consent, service
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.models import Position
from smartseoul.tracking.mqtt import subscribe_forever


def _register(platform: Platform, identifier: str) -> None:
    with platform.db.session() as session:
        person = service.add_person(
            session, display_name="최유나", category="dementia", actor="test", birth_date=date(1944, 2, 2)
        )
        son = make_account(session, f"son.{identifier.replace('/', '.')}", ["guardian"])
        son_user = auth.get_user(session, son.username)
        assert son_user is not None
        service.add_guardian(session, person, son_user.id, relation="son", actor="test")
        consent.give(
            session,
            person,
            given_by="guardian",
            guardian_user_id=son_user.id,
            recorded_by="test",
            written_record="dementia care consent form 2026-041",
        )
        service.register_device(session, identifier, "owntracks", actor="test", person_id=person.id)


def _location(lat: float = 37.5172, lon: float = 127.0473) -> bytes:
    return json.dumps(
        {
            "_type": "location",
            "lat": lat,
            "lon": lon,
            "tst": int(time.time()),
            "acc": 12,
            "batt": 55,
            "tid": "YN",
        }
    ).encode()


def _positions(platform: Platform) -> int:
    with platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Position)) or 0)


def test_owntracks_http(client: Any, platform: Platform) -> None:
    _register(platform, "grandma/phone")
    headers = {"X-Limit-U": "grandma", "X-Limit-D": "phone", "Content-Type": "application/json"}
    accepted = client.post("/api/v1/owntracks", content=_location(), headers=headers)
    assert accepted.status_code == 200
    assert accepted.json() == []
    unknown = client.post(
        "/api/v1/owntracks", content=_location(), headers={**headers, "X-Limit-D": "tablet"}
    )
    assert unknown.status_code == 403
    assert unknown.json()["code"] == "unknown_device"
    malformed = client.post(
        "/api/v1/owntracks", content=b'{"_type": "location", "lat": "north"', headers=headers
    )
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    unnamed = client.post("/api/v1/owntracks", content=_location())
    assert unnamed.status_code == 400
    assert _positions(platform) == 1


@pytest.mark.anyio
async def test_owntracks_over_mqtt(platform: Platform) -> None:
    require_service("mqtt")
    user = f"u{uuid.uuid4().hex[:8]}"
    _register(platform, f"{user}/phone")
    ready = asyncio.Event()
    task = asyncio.create_task(subscribe_forever("mqtt://127.0.0.1:1883", Ingestor(platform), ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        async with aiomqtt.Client("127.0.0.1", 1883) as phone:
            await phone.publish(f"owntracks/{user}/phone", b"not json", qos=1)
            await phone.publish(f"owntracks/{user}/phone", _location(), qos=1)
        deadline = time.monotonic() + 10
        while _positions(platform) < 1:
            assert time.monotonic() < deadline, "the MQTT position never arrived"
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    with platform.db.session() as session:
        stored = session.scalars(select(Position)).one()
    assert (stored.lat, stored.lon, stored.protocol) == (37.5172, 127.0473, "owntracks")
