"""The SOS workflow on the tracking side: a guardian acknowledges an SOS, asks to "find now"
(the connected watch is told to report at once), and the guardian's live stream of alarms."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from conftest import make_account, run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.bus import InProcessBus
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.tracking.commands import DeviceLinks, locate_now_command
from smartseoul.tracking.events import AlarmRaised
from smartseoul.tracking.guardian_stream import GuardianFanout
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.listeners import TcpProtocol, start_tcp
from smartseoul.tracking.models import Alarm, Device, FindNowRequest, LocationProvision
from smartseoul.tracking.protocols.watch import WatchDecoder
from smartseoul.tracking.tests.test_app_api import _bearer, _person


def _events(platform: Platform, type_name: str) -> list[Any]:
    assert isinstance(platform.bus, InProcessBus)
    return [event for _, event in platform.bus.log if event.type == type_name]


def _sos(platform: Platform, person_id: int) -> int:
    with platform.db.session() as session:
        device_id = session.scalar(select(Device.id).where(Device.person_id == person_id))
        alarm = Alarm(device_id=device_id, kind="sos", raised_at=utcnow())
        session.add(alarm)
        session.commit()
        return alarm.id


def test_a_guardian_acknowledges_an_sos_once_and_the_desk_is_told(client: Any, platform: Platform) -> None:
    child = _person(platform, "mother.ack", "한지우", "8800000301")
    other = _person(platform, "father.ack", "서민준", "8800000302")
    alarm = _sos(platform, child)
    url = f"/api/v1/tracking/persons/{child}/alarms/{alarm}/acknowledge"

    first = client.post(url, headers=_bearer(client, "mother.ack"))
    assert first.status_code == 200, first.text
    assert first.json()["acknowledged_at"] is not None
    assert first.json()["acknowledged_by"] == "mother.ack (guardian)"
    again = client.post(url, headers=_bearer(client, "mother.ack"))
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    announced = _events(platform, "tracking.alarm.acknowledged.v1")
    assert [(e.alarm_id, e.person_id, e.role) for e in announced] == [(alarm, child, "guardian")]

    # another guardian, another person's alarm, or an alarm under the wrong person: 404, audited
    stranger = client.post(url, headers=_bearer(client, "father.ack"))
    assert stranger.status_code == 404
    assert stranger.json()["type"].endswith("unknown_alarm")
    wrong_person = client.post(
        f"/api/v1/tracking/persons/{other}/alarms/{alarm}/acknowledge", headers=_bearer(client, "father.ack")
    )
    assert wrong_person.status_code == 404
    with platform.db.session() as session:
        denials = session.scalars(
            select(AuditEntry.target).where(AuditEntry.actor == "father.ack", AuditEntry.outcome == "denied")
        ).all()
        assert len(denials) == 2
        assert (
            session.scalar(select(Alarm.acknowledged_by).where(Alarm.id == alarm)) == "mother.ack (guardian)"
        )


def test_find_now_asks_the_connected_watch_and_logs_an_emergency_provision(
    client: Any, platform: Platform
) -> None:
    child = _person(platform, "mother.find", "한지우", "8800000311")
    _person(platform, "father.find", "서민준", "8800000312")
    links = client.app.state.platform.cache.setdefault("tracking.device_links", DeviceLinks())
    ingest = Ingestor(platform)
    received: list[bytes] = []

    async def scenario() -> dict[str, Any]:
        server = await start_tcp(TcpProtocol("watch", 0, WatchDecoder), "127.0.0.1", ingest, links)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        fix_time = (utcnow() - timedelta(minutes=4)).strftime("%d%m%y,%H%M%S")
        frame = f"UD,{fix_time},A,37.5665,N,126.9780,E,0,0,0,9,100,80,0,0,00000000,0,0"
        writer.write(f"[3G*8800000311*{len(frame):04X}*{frame}]".encode())
        await writer.drain()
        await ingest.drain()
        while not links.connected("8800000311"):  # noqa: ASYNC110 (the listener notes it after storing)
            await asyncio.sleep(0.01)
        response = await asyncio.to_thread(
            client.post,
            f"/api/v1/tracking/persons/{child}/find-now",
            json={"reason": "아이가 연락이 안 돼요"},
            headers=_bearer(client, "mother.find"),
        )
        received.append(await asyncio.wait_for(reader.read(100), 5))
        writer.close()
        server.close()
        await server.wait_closed()
        return {"status": response.status_code, "body": response.json()}

    outcome = run_async(scenario())
    assert outcome["status"] == 201, outcome
    body = outcome["body"]
    assert body["devices_asked"] == ["8800000311"]
    assert body["position"]["lat"] == 37.5665
    assert 200 < body["position_age_s"] < 300
    assert received == [b"[3G*8800000311*0002*CR]"]
    announced = _events(platform, "tracking.findnow.requested.v1")
    assert [(e.person_id, e.device_asked) for e in announced] == [(child, True)]
    with platform.db.session() as session:
        provision = session.scalars(
            select(LocationProvision).where(LocationProvision.person_id == child, LocationProvision.emergency)
        ).one()
        assert provision.what == "find now (emergency)"
        assert provision.purpose == "아이가 연락이 안 돼요"
        assert session.scalar(select(FindNowRequest.requested_by)) == "mother.find"

    refused = client.post(
        f"/api/v1/tracking/persons/{child}/find-now",
        json={"reason": "just looking"},
        headers=_bearer(client, "father.find"),
    )
    assert refused.status_code == 404
    assert (
        client.post(
            f"/api/v1/tracking/persons/{child}/find-now",
            json={"reason": ""},
            headers=_bearer(client, "mother.find"),
        ).status_code
        == 422
    )


def test_only_watches_have_a_locate_now_command() -> None:
    assert locate_now_command("watch", "123", "SG") == b"[SG*123*0002*CR]"
    assert locate_now_command("gt06", "123", None) is None


def test_the_guardian_stream_carries_only_their_persons_alarms_and_no_coordinates() -> None:
    async def scenario() -> list[str]:
        bus = InProcessBus()
        fanout = GuardianFanout(bus)
        stream = fanout.listen([7])
        chunks = [await anext(stream)]
        for person, kind in ((8, "sos"), (7, "low_battery"), (7, "sos")):
            await bus.publish(
                AlarmRaised(
                    alarm_id=len(chunks),
                    kind=kind,
                    device_id=1,
                    person_id=person,
                    district_code="11680",
                    lat=37.5,
                    lon=127.0,
                    position_is_last_known=False,
                    position_age_s=None,
                    emergency=kind == "sos",
                )
            )
        chunks.append(await asyncio.wait_for(anext(stream), 5))
        chunks.append(await asyncio.wait_for(anext(stream), 5))
        await stream.aclose()
        await fanout.stop()
        return chunks

    chunks = run_async(scenario())
    assert chunks[0].startswith("retry:")
    assert '"kind": "low_battery"' in chunks[1]
    assert '"kind": "sos"' in chunks[2]
    assert '"emergency": true' in chunks[2]
    assert all('"person_id": 7' in chunk for chunk in chunks[1:])
    assert not any("37.5" in chunk or "127.0" in chunk for chunk in chunks)


def test_the_guardian_stream_needs_a_guardian(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "op.stream", ["operator"])
    from conftest import token_for

    response = client.get(
        "/api/v1/stream/guardian", headers={"Authorization": f"Bearer {token_for(client, operator)}"}
    )
    assert response.status_code == 403


def test_a_closed_connection_forgets_only_its_own_devices() -> None:
    class Writer:
        def is_closing(self) -> bool:
            return False

        def write(self, data: bytes) -> None:
            raise AssertionError("no command expected")

    async def scenario() -> tuple[bool, bool, bool]:
        links = DeviceLinks()
        old, new, other = Writer(), Writer(), Writer()
        links.remember("111", "watch", old, "3G")  # type: ignore[arg-type]
        links.remember("111", "watch", new, "3G")  # type: ignore[arg-type]  # reconnected
        links.remember("222", "watch", other, "3G")  # type: ignore[arg-type]
        links.forget(old)  # type: ignore[arg-type]  # the stale connection closes late
        kept = links.connected("111")
        links.forget(new)  # type: ignore[arg-type]
        return kept, links.connected("111"), links.connected("222")

    assert run_async(scenario()) == (True, False, True)
