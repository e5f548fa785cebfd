"""RADIUS accounting as the city's controllers produce it: detail files and real RFC 2866 packets."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import struct
from datetime import UTC, datetime

import pytest

from conftest import run_async
from smartseoul.portal.wifi import radius

SECRET = b"testing123"
DETAIL = """Wed Dec  2 10:00:00 2026
\tAcct-Status-Type = Start
\tAcct-Session-Id = "5A1B-0001"
\tUser-Name = "kim@example.kr"
\tCalled-Station-Id = "02-5E-00-00-00-01:Seoul_Free_WiFi"
\tEvent-Timestamp = "Dec  2 2026 19:00:00 KST"
\tTimestamp = 1796205600

Wed Dec  2 11:00:00 2026
\tAcct-Status-Type = Stop
\tAcct-Session-Id = "5A1B-0001"
\tUser-Name = "kim@example.kr"
\tCalled-Station-Id = "025e00000001:Seoul_Secure"
\tAcct-Session-Time = 3600
\tAcct-Input-Octets = 100
\tAcct-Input-Gigawords = 1
\tAcct-Output-Octets = 2000
\tEvent-Timestamp = 1796209200

Wed Dec  2 11:05:00 2026
\tAcct-Status-Type = Accounting-On
\tAcct-Session-Id = "x"
"""


def test_a_detail_file_gives_its_records_with_gigawords_zones_and_the_ap_mac() -> None:
    found = list(radius.parse_detail(DETAIL.splitlines()))
    start, stop, bad = found
    assert isinstance(start, radius.AccountingRecord)
    assert isinstance(stop, radius.AccountingRecord)
    assert (start.status_type, start.session_id, start.user_name) == ("Start", "5A1B-0001", "kim@example.kr")
    assert (start.ap_mac, start.ssid) == ("02:5e:00:00:00:01", "Seoul_Free_WiFi")
    assert start.event_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 19:00 KST
    assert (stop.ap_mac, stop.ssid) == ("02:5e:00:00:00:01", "Seoul_Secure")
    assert stop.input_octets == 2**32 + 100
    assert (stop.output_octets, stop.session_time_s) == (2000, 3600)
    assert stop.event_at == datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert isinstance(bad, radius.MalformedRecord)
    assert bad.line == 20  # the third record's date line
    assert "Accounting-On" in str(bad)


def record(status: str = "Start", octets: int = 0) -> radius.AccountingRecord:
    return radius.AccountingRecord(
        status_type=status,
        session_id="S-42",
        user_name="lee",
        ap_mac="02:5e:00:00:00:07",
        ssid="Seoul_Free_WiFi",
        event_at=datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC),
        session_time_s=60,
        input_octets=octets,
        output_octets=5 * 2**32 + 9,
    )


def test_an_accounting_request_round_trips_and_its_authenticators_follow_rfc_2866() -> None:
    wire = radius.encode_request(
        7, radius.attributes_for(record("Stop", 12345), "02-5E-00-00-00-07:Seoul_Free_WiFi"), SECRET
    )
    packet = radius.decode_packet(wire)
    assert (packet.code, packet.identifier) == (4, 7)
    assert radius.request_authenticator_ok(packet, SECRET)
    assert not radius.request_authenticator_ok(packet, b"wrong")
    assert radius.record_from_packet(packet, datetime.now(UTC)) == record("Stop", 12345)

    answer = radius.accounting_response(packet, SECRET)
    assert answer[:4] == struct.pack("!BBH", 5, 7, 20)
    # written out here from RFC 2866 3, not with the code under test
    assert answer[4:] == hashlib.md5(answer[:4] + packet.authenticator + SECRET).digest()  # noqa: S324


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"\x04\x01\x00", 3),  # shorter than a header
        (b"\x04\x01\x00\x10" + bytes(16), 2),  # length field below 20
        (b"\x04\x01\x00\x40" + bytes(16), 2),  # length field beyond the datagram
        (b"\x04\x01\x00\x17" + bytes(16) + b"\x28\x09\x00", 21),  # attribute longer than the packet
        (b"\x04\x01\x00\x16" + bytes(16) + b"\x28\x01", 21),  # attribute length below 2
    ],
)
def test_malformed_packets_are_refused_naming_the_byte(data: bytes, offset: int) -> None:
    with pytest.raises(radius.MalformedPacket) as caught:
        radius.decode_packet(data)
    assert caught.value.offset == offset


def test_the_udp_listener_answers_stored_records_and_drops_bad_packets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stored: list[radius.AccountingRecord] = []

    async def store(found: list[radius.AccountingRecord]) -> None:
        stored.extend(found)

    async def scenario() -> tuple[list[bytes | None], int]:
        transport, protocol = await radius.serve("127.0.0.1", 0, SECRET, store)
        port = transport.get_extra_info("sockname")[1]
        good = radius.encode_request(
            9, radius.attributes_for(record(), "02-5E-00-00-00-07:Seoul_Free_WiFi"), SECRET
        )
        forged = radius.encode_request(10, radius.attributes_for(record(), "x"), b"not-the-secret")
        answers = []
        for datagram in (b"\xff\x00garbage", forged, good):
            answers.append(await asyncio.to_thread(_exchange, port, datagram))
        transport.close()
        return answers, protocol.dropped

    with caplog.at_level(logging.WARNING, logger="smartseoul.wifi.radius"):
        (garbage, forged, good), dropped = run_async(scenario())
    assert garbage is None
    assert forged is None
    assert dropped == 2
    assert good is not None
    assert good[0] == 5
    assert good[1] == 9
    assert good[4:20] == hashlib.md5(good[:4] + _request_authenticator(9) + SECRET).digest()  # noqa: S324
    assert stored == [record()]
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "from 127.0.0.1:" in messages
    assert "at byte" in messages
    assert "does not match the shared secret" in messages


def _request_authenticator(identifier: int) -> bytes:
    wire = radius.encode_request(
        identifier, radius.attributes_for(record(), "02-5E-00-00-00-07:Seoul_Free_WiFi"), SECRET
    )
    return wire[4:20]


def _exchange(port: int, datagram: bytes) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        sock.sendto(datagram, ("127.0.0.1", port))
        try:
            return sock.recv(4096)
        except TimeoutError:
            return None


def test_only_declared_access_controllers_may_send_accounting(caplog: pytest.LogCaptureFixture) -> None:
    """A correctly signed request from an address outside the client list is dropped unread."""
    stored: list[radius.AccountingRecord] = []

    async def store(found: list[radius.AccountingRecord]) -> None:
        stored.extend(found)

    async def scenario(clients: str) -> bytes | None:
        networks = radius.parse_networks(clients)
        transport, _ = await radius.serve("127.0.0.1", 0, SECRET, store, networks)
        port = transport.get_extra_info("sockname")[1]
        good = radius.encode_request(
            11, radius.attributes_for(record(), "02-5E-00-00-00-07:Seoul_Free_WiFi"), SECRET
        )
        answer = await asyncio.to_thread(_exchange, port, good)
        transport.close()
        return answer

    with caplog.at_level(logging.WARNING, logger="smartseoul.wifi.radius"):
        refused = run_async(scenario("10.20.0.0/16, 192.0.2.7"))
    assert refused is None
    assert stored == []
    assert "from 127.0.0.1:" in caplog.text
    assert "SMARTSEOUL_WIFI_RADIUS_CLIENTS" in caplog.text
    assert run_async(scenario("10.20.0.0/16, 127.0.0.0/8")) is not None
    assert stored == [record()]


@pytest.mark.parametrize("value", ["10.0.0.0/33", "city-hall", "10.0.0.1, nas.example"])
def test_a_client_list_that_is_not_addresses_is_refused_naming_the_entry(value: str) -> None:
    from pydantic import ValidationError

    from smartseoul.core.settings import Settings

    with pytest.raises(ValueError, match="is not an IP address or network"):
        radius.parse_networks(value)
    with pytest.raises(ValidationError, match="wifi_radius_clients"):
        Settings(wifi_radius_clients=value)
