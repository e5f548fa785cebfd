"""From decoded frames to stored positions and alarms: refusals, consent, SOS without a fix."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.tracking import consent, service
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.models import Alarm, Device, LocationProvision, Position, ProtectedPerson
from smartseoul.tracking.protocols import Fix, Message

pytestmark = pytest.mark.anyio
SEOUL_CITY_HALL = (37.5663, 126.9779)


def _setup(platform: Platform, identifier: str, *, with_consent: bool = True) -> int:
    with platform.db.session() as session:
        person = service.add_person(
            session,
            display_name="박지민",
            category="intellectual_disability",
            actor="test",
            birth_date=date(1990, 1, 1),
        )
        if with_consent:
            consent.give(session, person, given_by="person", recorded_by="test")
        service.register_device(session, identifier, "watch", actor="test", person_id=person.id)
        return person.id


def _message(
    identifier: str,
    *,
    lat: float | None = SEOUL_CITY_HALL[0],
    lon: float | None = SEOUL_CITY_HALL[1],
    valid: bool = True,
    age_s: float = 5,
    alarms: tuple[str, ...] = (),
    source: str = "gps",
) -> Message:
    fix = Fix(time=utcnow() - timedelta(seconds=age_s), lat=lat, lon=lon, valid=valid, source=source)  # type: ignore[arg-type]
    return Message(
        "watch", identifier, "alarm" if alarms else "position", 0, fix=fix, alarms=alarms, battery_pct=80
    )


async def _events(platform: Platform, pattern: str) -> list[Event]:
    seen: list[Event] = []

    async def collect(event: Event) -> None:
        seen.append(event)

    await platform.bus.subscribe(pattern, collect)
    return seen


def _count(platform: Platform, model: Any) -> int:
    with platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_unregistered_device_is_refused_and_nothing_is_stored(
    platform: Platform, caplog: Any
) -> None:
    refused = await _events(platform, "tracking.device.refused.v1")
    ingestor = Ingestor(platform)
    with caplog.at_level(logging.WARNING):
        assert await ingestor.accept(_message("999999999999999"), "10.0.0.7:5000") is False
    assert _count(platform, Position) == 0
    assert "unregistered device 999999999999999" in caplog.text
    await asyncio.sleep(0.05)
    assert [e.identifier for e in refused] == ["999999999999999"]  # type: ignore[attr-defined]


async def test_a_position_is_stored_and_announced(platform: Platform) -> None:
    received = await _events(platform, "tracking.positions.received.v1")
    person_id = _setup(platform, "861234560000001")
    assert await Ingestor(platform).accept(_message("861234560000001"))
    with platform.db.session() as session:
        stored = session.scalars(select(Position)).one()
        assert (stored.lat, stored.lon, stored.valid, stored.source) == (*SEOUL_CITY_HALL, True, "gps")
    await asyncio.sleep(0.05)
    [announced] = received[0].positions  # type: ignore[attr-defined]
    assert (announced.person_id, announced.lat, announced.valid) == (person_id, SEOUL_CITY_HALL[0], True)


async def test_no_fix_is_stored_as_no_fix_never_as_gps(platform: Platform) -> None:
    _setup(platform, "861234560000002")
    ingestor = Ingestor(platform)
    await ingestor.accept(_message("861234560000002", lat=0.0, lon=0.0, valid=True))
    await ingestor.accept(_message("861234560000002", lat=37.5, lon=127.0, valid=False))
    await ingestor.accept(_message("861234560000002", lat=None, lon=None, valid=False, source="cell"))
    with platform.db.session() as session:
        rows = session.scalars(select(Position).order_by(Position.id)).all()
    assert [(r.valid, r.source) for r in rows] == [(False, "none"), (False, "none"), (False, "cell")]


async def test_without_consent_positions_are_not_kept_but_sos_still_gets_through(platform: Platform) -> None:
    alarms = await _events(platform, "tracking.alarm.raised.v1")
    _setup(platform, "861234560000003", with_consent=False)
    await Ingestor(platform).accept(_message("861234560000003", alarms=("sos",)))
    assert _count(platform, Position) == 0
    assert _count(platform, Alarm) == 1
    await asyncio.sleep(0.05)
    assert alarms[0].emergency is True  # type: ignore[attr-defined]


async def test_sos_without_a_fix_carries_the_last_known_position_and_its_age(platform: Platform) -> None:
    alarms = await _events(platform, "tracking.alarm.raised.v1")
    _setup(platform, "861234560000004")
    ingestor = Ingestor(platform)
    await ingestor.accept(_message("861234560000004", age_s=120))
    ingestor._last_fix.clear()  # a restarted process: the last fix must come from the database
    await ingestor.accept(
        _message("861234560000004", lat=0.0, lon=0.0, valid=False, age_s=0, alarms=("sos",))
    )
    with platform.db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
    assert (alarm.lat, alarm.lon, alarm.position_is_last_known) == (*SEOUL_CITY_HALL, True)
    assert alarm.position_age_s is not None
    assert 100 < alarm.position_age_s < 200
    await asyncio.sleep(0.05)
    assert "last known position" in alarms[0].summary("en")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"age_s": -7200}, "in the future"),
        ({"age_s": 40 * 86400}, "more than 30 days old"),
        ({"lat": 123.0}, "latitude 123.0 out of range"),
    ],
)
async def test_absurd_frames_are_dropped_with_the_device_and_reason(
    platform: Platform, caplog: Any, kwargs: dict[str, Any], reason: str
) -> None:
    _setup(platform, "861234560000005")
    with caplog.at_level(logging.WARNING):
        await Ingestor(platform).accept(_message("861234560000005", **kwargs))
    assert _count(platform, Position) == 0
    assert "861234560000005" in caplog.text
    assert reason in caplog.text


async def test_concurrent_frames_are_committed_together_and_none_is_lost(platform: Platform) -> None:
    _setup(platform, "861234560000006")
    ingestor = Ingestor(platform, batch_size=64)
    await asyncio.gather(*(ingestor.accept(_message("861234560000006", age_s=i)) for i in range(300)))
    assert _count(platform, Position) == 300
    assert ingestor.stored == 300


async def test_stored_positions_cannot_be_altered(platform: Platform) -> None:
    _setup(platform, "861234560000007")
    await Ingestor(platform).accept(_message("861234560000007"))
    with pytest.raises(DBAPIError, match="append-only"), platform.db.session() as session:
        session.execute(text("UPDATE tracking_positions SET lat = 0"))


async def test_reading_positions_is_a_recorded_provision(platform: Platform) -> None:
    person_id = _setup(platform, "861234560000008")
    await Ingestor(platform).accept(_message("861234560000008"))
    with platform.db.session() as session:
        device = service.get_device(session, "861234560000008")
        rows = service.device_positions(
            session,
            device,
            reader="officer.kim",
            reader_role="operator",
            purpose="missing person report 2026-331",
        )
    assert rows[0].lat == SEOUL_CITY_HALL[0]
    with platform.db.session() as session:
        provision = session.scalars(select(LocationProvision)).one()
    assert (provision.person_id, provision.recipient, provision.purpose) == (
        person_id,
        "officer.kim",
        "missing person report 2026-331",
    )


async def test_retention_purges_old_positions_but_keeps_the_provision_records(platform: Platform) -> None:
    from smartseoul.tracking.retention import purge

    _setup(platform, "861234560000009")
    ingestor = Ingestor(platform)
    await ingestor.accept(_message("861234560000009", age_s=20 * 86400))
    await ingestor.accept(_message("861234560000009", age_s=60))
    with platform.db.session() as session:
        device = service.get_device(session, "861234560000009")
        service.device_positions(
            session, device, reader="auditor.lim", reader_role="auditor", purpose="check"
        )
    assert await asyncio.to_thread(purge, platform, 10) == 1
    assert _count(platform, Position) == 1
    assert _count(platform, LocationProvision) == 1


async def _settled(ingestor: Ingestor) -> None:
    """Wait for the background re-read of stale devices, if one was started."""
    task = ingestor._refresh_task
    if task is not None:
        await task


async def test_a_consent_withdrawn_elsewhere_stops_storage_once_the_device_facts_are_read_again(
    platform: Platform,
) -> None:
    person_id = _setup(platform, "861234560000011")
    _setup(platform, "861234560000012")
    ingestor = Ingestor(platform, cache_seconds=0.2)
    for identifier in ("861234560000011", "861234560000012"):
        assert await ingestor.accept(_message(identifier))
    with platform.db.session() as session:  # another process (the guardian app) withdraws
        person = session.get(ProtectedPerson, person_id)
        assert person is not None
        consent.withdraw(session, person, actor="guardian")
    await asyncio.sleep(0.25)
    await ingestor.accept(_message("861234560000011"))  # stale facts: stored, and a re-read starts
    await _settled(ingestor)
    await ingestor.accept(_message("861234560000011"))  # the re-read facts: no consent, not kept
    await ingestor.accept(_message("861234560000012"))  # the other device still has its consent
    with platform.db.session() as session:
        per_device = dict(
            session.execute(select(Position.device_id, func.count()).group_by(Position.device_id)).all()
        )
    assert sorted(per_device.values()) == [2, 2]


async def test_a_device_removed_elsewhere_is_refused_after_the_re_read(platform: Platform) -> None:
    _setup(platform, "861234560000013")
    ingestor = Ingestor(platform, cache_seconds=0.2)
    assert await ingestor.accept(_message("861234560000013"))
    with platform.db.session() as session:
        session.execute(
            update(Device).where(Device.identifier == "861234560000013").values(identifier="retired-13")
        )
    await asyncio.sleep(0.25)
    assert await ingestor.accept(_message("861234560000013"))  # stale facts, one last time
    await _settled(ingestor)
    assert await ingestor.accept(_message("861234560000013")) is False
