"""The device listeners over real sockets: a kids' watch over TCP, a phone over OsmAnd HTTP.

Frames are built with the current time (positions older than 30 days are dropped by design);
their layout is the one of the real captures in captures/watch.tsv.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from smartseoul.core.bootstrap import Platform
from smartseoul.tracking import consent, service
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.listeners import TcpProtocol, handle_stream, start_osmand, start_tcp
from smartseoul.tracking.models import Alarm, Position
from smartseoul.tracking.protocols import Message
from smartseoul.tracking.protocols.watch import WatchDecoder

pytestmark = pytest.mark.anyio
WATCH_ID = "8800000015"


def watch_frame(content: str, device: str = WATCH_ID, vendor: str = "3G") -> bytes:
    return f"[{vendor}*{device}*{len(content.encode()):04X}*{content}]".encode()


def ud(lat: float, lon: float, valid: str = "A") -> str:
    now = datetime.now(UTC)
    return (
        f"UD,{now:%d%m%y},{now:%H%M%S},{valid},{lat:.6f},N,{lon:.6f},E,0.00,0.0,0.0,9,100,85,0,0,00000000,0,0"
    )


def al_without_fix() -> str:
    now = datetime.now(UTC)
    return f"AL,{now:%d%m%y},{now:%H%M%S},V,0.000000,N,0.000000,E,0.00,0.0,0.0,0,100,81,0,0,00010000,0,0"


def _register(platform: Platform, identifier: str, protocol: str) -> None:
    with platform.db.session() as session:
        person = service.add_person(
            session,
            display_name="이서준",
            category="intellectual_disability",
            actor="test",
            birth_date=date(1988, 4, 4),
        )
        consent.give(session, person, given_by="person", recorded_by="test")
        service.register_device(session, identifier, protocol, actor="test", person_id=person.id)


@pytest.fixture
async def watch_port(platform: Platform) -> AsyncIterator[int]:
    ingestor = Ingestor(platform)
    server = await start_tcp(TcpProtocol("watch", 0, WatchDecoder), "127.0.0.1", ingestor)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def _exchange(port: int, chunks: list[bytes], expect_reply: bool = True) -> tuple[bytes, bool]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.01)
    reply = b""
    if expect_reply:
        reply = await asyncio.wait_for(reader.readuntil(b"]"), 5)
    writer.write_eof()
    closed = await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    return reply, closed


def _count(platform: Platform, model: Any) -> int:
    with platform.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_watch_heartbeat_is_answered_and_split_positions_are_stored(
    platform: Platform, watch_port: int
) -> None:
    _register(platform, WATCH_ID, "watch")
    position = watch_frame(ud(37.5663, 126.9779))
    heartbeat = watch_frame("LK,0,0,87")
    stream = position + heartbeat
    reply, _ = await _exchange(watch_port, [stream[:7], stream[7:40], stream[40:]])
    assert reply == b"[3G*8800000015*0002*LK]"
    with platform.db.session() as session:
        stored = session.scalars(select(Position)).one()
    assert (round(stored.lat or 0, 4), round(stored.lon or 0, 4), stored.valid) == (37.5663, 126.9779, True)


async def test_an_sos_without_a_fix_is_stored_as_an_alarm(platform: Platform, watch_port: int) -> None:
    _register(platform, WATCH_ID, "watch")
    reply, _ = await _exchange(watch_port, [watch_frame(al_without_fix())])
    assert reply == b"[3G*8800000015*0002*AL]"
    with platform.db.session() as session:
        alarm = session.scalars(select(Alarm)).one()
    assert alarm.kind == "sos"
    assert alarm.lat is None  # no fix and no earlier position: said, not invented
    assert _count(platform, Position) == 1
    with platform.db.session() as session:
        assert session.scalars(select(Position)).one().valid is False


async def test_garbage_is_logged_with_its_offset_and_the_connection_goes_on(
    platform: Platform, watch_port: int, caplog: Any
) -> None:
    _register(platform, WATCH_ID, "watch")
    with caplog.at_level(logging.WARNING):
        reply, _ = await _exchange(watch_port, [b"\x00\xffGARBAGE" + watch_frame("LK,0,0,50")])
    assert reply == b"[3G*8800000015*0002*LK]"
    assert "at byte 0" in caplog.text


async def test_an_unknown_watch_is_refused_and_disconnected(platform: Platform, watch_port: int) -> None:
    reply, closed = await _exchange(
        watch_port, [watch_frame(ud(37.5, 127.0), device="1234567890")], expect_reply=False
    )
    assert reply == b""
    assert closed
    assert _count(platform, Position) == 0


async def test_osmand_http(platform: Platform) -> None:
    _register(platform, "phone-77", "osmand")
    server = await start_osmand(0, "127.0.0.1", Ingestor(platform))
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        stamp = int(datetime.now(UTC).timestamp())
        requests = [
            f"/?id=phone-77&lat=37.5512&lon=126.9882&timestamp={stamp}&batt=64",
            f"/?id=stranger&lat=37.5&lon=127.0&timestamp={stamp}",
            "/?lat=37.5&lon=127.0",
        ]
        statuses = []
        for target in requests:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            statuses.append(int(head.split(b" ")[1]))
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert statuses == [200, 403, 400]
    with platform.db.session() as session:
        stored = session.scalars(select(Position)).one()
    assert (stored.lat, stored.battery_pct, stored.protocol) == (37.5512, 64, "osmand")


class _HeldCommits:
    """An ingestor stand-in whose positions stay uncommitted until the test commits them: the
    listener's promise (no answer before the commit, reading goes on meanwhile) made visible."""

    def __init__(self) -> None:
        self.taken: list[Message] = []
        self.commits: list[asyncio.Future[None]] = []
        self.arrived = asyncio.Event()

    async def submit(self, message: Message, client: str) -> tuple[bool, asyncio.Future[None] | None]:
        self.taken.append(message)
        self.arrived.set()
        if message.alarms or message.fix is None:
            return True, None
        commit: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.commits.append(commit)
        return True, commit

    async def until_taken(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.taken) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def held() -> AsyncIterator[tuple[_HeldCommits, asyncio.StreamReader, asyncio.StreamWriter]]:
    ingest = _HeldCommits()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_stream(reader, writer, WatchDecoder(), ingest.submit)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        yield ingest, reader, writer
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_an_sos_is_taken_while_earlier_positions_wait_and_answers_keep_their_order(
    held: tuple[_HeldCommits, asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    ingest, reader, writer = held
    writer.write(watch_frame(ud(37.5663, 126.9779)) + watch_frame("LK,0,0,87"))
    await ingest.until_taken(2)
    writer.write(watch_frame(al_without_fix()))
    await ingest.until_taken(3)  # the SOS reached the ingestor although the position is not stored
    assert ingest.taken[2].alarms == ("sos",)
    with pytest.raises(TimeoutError):  # the heartbeat is not answered before its position is stored
        await asyncio.wait_for(reader.readuntil(b"]"), 0.3)
    ingest.commits[0].set_result(None)
    first = await asyncio.wait_for(reader.readuntil(b"]"), 5)
    second = await asyncio.wait_for(reader.readuntil(b"]"), 5)
    assert (first, second) == (b"[3G*8800000015*0002*LK]", b"[3G*8800000015*0002*AL]")


async def test_a_failed_commit_closes_the_connection_without_an_answer(
    held: tuple[_HeldCommits, asyncio.StreamReader, asyncio.StreamWriter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest, reader, writer = held
    writer.write(watch_frame(ud(37.5663, 126.9779)) + watch_frame("LK,0,0,87"))
    await ingest.until_taken(2)
    with caplog.at_level(logging.ERROR, logger="smartseoul.tracking.listeners"):
        ingest.commits[0].set_exception(RuntimeError("database gone"))
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, the heartbeat unanswered
    assert "positions from 127.0.0.1" in caplog.text
