"""RADIUS accounting in the two forms a city's WiFi controllers produce it.

* The FreeRADIUS ``detail`` file: records separated by blank lines, each a date line followed by
  tab-indented ``Attribute = value`` lines. Used for batch imports of what the city's RADIUS
  servers already wrote.
* RFC 2866 Accounting-Request packets over UDP, answered with an Accounting-Response once the
  record is stored (a NAS retransmits until it gets one, so only stored records are answered).

Both yield :class:`AccountingRecord`; storing them is the service's job. Parsing never raises on
bad input from the network: it raises :class:`MalformedPacket` naming the byte offset, and the
listener logs it with the sender's address and carries on.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import re
import struct
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

log = logging.getLogger("smartseoul.wifi.radius")

ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
STATUS_TYPES = {1: "Start", 2: "Stop", 3: "Interim-Update"}
# attribute numbers of RFC 2865/2866/2869 that accounting records carry
USER_NAME, CALLED_STATION_ID, CALLING_STATION_ID = 1, 30, 31
ACCT_STATUS_TYPE, ACCT_INPUT_OCTETS, ACCT_OUTPUT_OCTETS = 40, 42, 43
ACCT_SESSION_ID, ACCT_SESSION_TIME = 44, 46
ACCT_INPUT_GIGAWORDS, ACCT_OUTPUT_GIGAWORDS, EVENT_TIMESTAMP = 52, 53, 55
TEXT_ATTRIBUTES = {USER_NAME, CALLED_STATION_ID, CALLING_STATION_ID, ACCT_SESSION_ID}
INTEGER_ATTRIBUTES = {
    ACCT_STATUS_TYPE,
    ACCT_INPUT_OCTETS,
    ACCT_OUTPUT_OCTETS,
    ACCT_SESSION_TIME,
    ACCT_INPUT_GIGAWORDS,
    ACCT_OUTPUT_GIGAWORDS,
    EVENT_TIMESTAMP,
}
HEADER = 20
MAX_PACKET = 4096
ZONES = {"UTC": UTC, "GMT": UTC, "KST": timezone(timedelta(hours=9))}
MAC = re.compile(
    r"^([0-9A-Fa-f]{2})[-:.]?([0-9A-Fa-f]{2})[-:.]?([0-9A-Fa-f]{2})[-:.]?"
    r"([0-9A-Fa-f]{2})[-:.]?([0-9A-Fa-f]{2})[-:.]?([0-9A-Fa-f]{2})"
)


class MalformedPacket(ValueError):
    """Bytes that are not a valid Accounting-Request; ``offset`` is where the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset


class MalformedRecord(ValueError):
    """A detail-file record that lacks what an accounting record needs; ``line`` is its first line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class AccountingRecord:
    """One accounting record, whatever it came in. ``user_name`` is hashed before it is stored."""

    status_type: str
    session_id: str
    user_name: str
    ap_mac: str
    ssid: str
    event_at: datetime
    session_time_s: int = 0
    input_octets: int = 0
    output_octets: int = 0


def split_called_station(value: str) -> tuple[str, str]:
    """``00-11-22-33-44-55:Seoul_Free_WiFi`` -> (``00:11:22:33:44:55``, ``Seoul_Free_WiFi``).

    Controllers write the AP's MAC with dashes, colons or nothing between the octets, and the SSID
    after a colon (the IEEE 802.1X RADIUS usage guidelines, RFC 3580)."""
    match = MAC.match(value.strip())
    if not match:
        return "", value.strip()
    mac = ":".join(part.lower() for part in match.groups())
    rest = value.strip()[match.end() :]
    return mac, rest[1:] if rest.startswith(":") else rest


def _record(
    values: dict[str, str | int], fallback_at: datetime | None, where: int, raise_as: type[Exception]
) -> AccountingRecord:
    status = values.get("Acct-Status-Type")
    if isinstance(status, int):
        status = STATUS_TYPES.get(status, "")
    if status not in STATUS_TYPES.values():
        raise _problem(raise_as, f"Acct-Status-Type {status!r} is not Start, Stop or Interim-Update", where)
    session_id = str(values.get("Acct-Session-Id", "")).strip()
    if not session_id or len(session_id) > 64:
        raise _problem(raise_as, "Acct-Session-Id is missing or longer than 64 characters", where)
    mac, ssid = split_called_station(str(values.get("Called-Station-Id", "")))
    event_at = _timestamp(values.get("Event-Timestamp")) or fallback_at
    if event_at is None:
        raise _problem(raise_as, "no Event-Timestamp", where)

    def counter(octets: str, gigawords: str) -> int:
        return int(values.get(gigawords, 0) or 0) * 2**32 + int(values.get(octets, 0) or 0)

    return AccountingRecord(
        status_type=str(status),
        session_id=session_id,
        user_name=str(values.get("User-Name", "")),
        ap_mac=mac,
        ssid=ssid[:64],
        event_at=event_at,
        session_time_s=int(values.get("Acct-Session-Time", 0) or 0),
        input_octets=counter("Acct-Input-Octets", "Acct-Input-Gigawords"),
        output_octets=counter("Acct-Output-Octets", "Acct-Output-Gigawords"),
    )


def _problem(kind: type[Exception], message: str, where: int) -> Exception:
    return kind(message, where)


def _timestamp(value: str | int | None) -> datetime | None:
    """Event-Timestamp as FreeRADIUS prints it (``"Dec  2 2026 10:00:00 KST"``) or as seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or str(value).isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    text = " ".join(str(value).split())
    stamp, _, zone = text.rpartition(" ")
    if zone not in ZONES:
        stamp, zone = text, "UTC"
    try:
        return datetime.strptime(stamp, "%b %d %Y %H:%M:%S").replace(tzinfo=ZONES[zone]).astimezone(UTC)
    except ValueError:
        return None


# ---------------------------------------------------------------- detail files


def _detail_value(raw: str) -> str | int:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"')
    return int(raw) if raw.isdigit() else raw


def parse_detail(lines: Iterable[str]) -> Iterator[AccountingRecord | MalformedRecord]:
    """Each record of a FreeRADIUS detail file, or a :class:`MalformedRecord` naming its line.

    A bad record is handed back rather than raised, so one corrupt record never stops an import."""
    values: dict[str, str | int] = {}
    header = ""
    start = 0
    for number, line in enumerate([*lines, ""], start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            if values:
                yield _detail_record(values, header, start)
            values, header = {}, ""
            continue
        if line[0] not in " \t":
            if values:  # a header with no blank line before it: close the previous record
                yield _detail_record(values, header, start)
                values = {}
            start = number
            header = line
            continue
        name, equals, raw = line.strip().partition("=")
        if equals:
            values[name.strip()] = _detail_value(raw)
    return


def _detail_record(
    values: dict[str, str | int], header: str, start: int
) -> AccountingRecord | MalformedRecord:
    fallback = None if "Event-Timestamp" in values else _header_time(header)
    try:
        return _record(values, fallback, start, MalformedRecord)
    except MalformedRecord as error:
        return error


def _header_time(line: str) -> datetime | None:
    """The date line (``Wed Dec  2 10:00:00 2026``), read as UTC: a fallback only."""
    try:
        return datetime.strptime(" ".join(line.split()), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


# ---------------------------------------------------------------- RFC 2866 packets


@dataclass(frozen=True)
class Packet:
    code: int
    identifier: int
    authenticator: bytes
    attributes: list[tuple[int, bytes]]
    raw: bytes


def decode_packet(data: bytes) -> Packet:
    """Split a RADIUS packet into its header and attributes, checking every length."""
    if len(data) < HEADER:
        raise MalformedPacket(f"packet of {len(data)} bytes is shorter than the 20-byte header", len(data))
    code, identifier, length = struct.unpack("!BBH", data[:4])
    if length < HEADER or length > MAX_PACKET:
        raise MalformedPacket(f"length field {length} is outside 20..4096", 2)
    if length > len(data):
        raise MalformedPacket(f"length field {length} is longer than the {len(data)} bytes received", 2)
    attributes: list[tuple[int, bytes]] = []
    offset = HEADER
    while offset < length:
        if offset + 2 > length:
            raise MalformedPacket("attribute header cut short", offset)
        kind, size = data[offset], data[offset + 1]
        if size < 2 or offset + size > length:
            raise MalformedPacket(f"attribute {kind} has a bad length {size}", offset + 1)
        attributes.append((kind, data[offset + 2 : offset + size]))
        offset += size
    return Packet(code, identifier, data[4:20], attributes, data[:length])


def request_authenticator_ok(packet: Packet, secret: bytes) -> bool:
    """RFC 2866 3: MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret)."""
    expected = hashlib.md5(packet.raw[:4] + bytes(16) + packet.raw[20:] + secret, usedforsecurity=False)
    return hmac.compare_digest(expected.digest(), packet.authenticator)


def accounting_response(packet: Packet, secret: bytes) -> bytes:
    """Accounting-Response with no attributes; its authenticator is
    MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret)."""
    header = struct.pack("!BBH", ACCOUNTING_RESPONSE, packet.identifier, HEADER)
    digest = hashlib.md5(header + packet.authenticator + secret, usedforsecurity=False).digest()
    return header + digest


def encode_request(identifier: int, attributes: list[tuple[int, bytes]], secret: bytes) -> bytes:
    """An Accounting-Request as a NAS sends it (used by tests, the simulator and the benchmark)."""
    body = b"".join(struct.pack("!BB", kind, len(value) + 2) + value for kind, value in attributes)
    header = struct.pack("!BBH", ACCOUNTING_REQUEST, identifier, HEADER + len(body))
    digest = hashlib.md5(header + bytes(16) + body + secret, usedforsecurity=False).digest()
    return header + digest + body


def attributes_for(record: AccountingRecord, called_station: str) -> list[tuple[int, bytes]]:
    """The wire attributes of ``record`` (the inverse of :func:`record_from_packet`)."""
    status = {name: number for number, name in STATUS_TYPES.items()}[record.status_type]

    def integer(kind: int, value: int) -> tuple[int, bytes]:
        return kind, struct.pack("!I", value % 2**32)

    return [
        integer(ACCT_STATUS_TYPE, status),
        (ACCT_SESSION_ID, record.session_id.encode()),
        (USER_NAME, record.user_name.encode()),
        (CALLED_STATION_ID, called_station.encode()),
        integer(ACCT_SESSION_TIME, record.session_time_s),
        integer(ACCT_INPUT_OCTETS, record.input_octets),
        integer(ACCT_OUTPUT_OCTETS, record.output_octets),
        integer(ACCT_INPUT_GIGAWORDS, record.input_octets // 2**32),
        integer(ACCT_OUTPUT_GIGAWORDS, record.output_octets // 2**32),
        integer(EVENT_TIMESTAMP, int(record.event_at.timestamp())),
    ]


NAMES = {
    USER_NAME: "User-Name",
    CALLED_STATION_ID: "Called-Station-Id",
    ACCT_STATUS_TYPE: "Acct-Status-Type",
    ACCT_INPUT_OCTETS: "Acct-Input-Octets",
    ACCT_OUTPUT_OCTETS: "Acct-Output-Octets",
    ACCT_SESSION_ID: "Acct-Session-Id",
    ACCT_SESSION_TIME: "Acct-Session-Time",
    ACCT_INPUT_GIGAWORDS: "Acct-Input-Gigawords",
    ACCT_OUTPUT_GIGAWORDS: "Acct-Output-Gigawords",
    EVENT_TIMESTAMP: "Event-Timestamp",
}


def record_from_packet(packet: Packet, received_at: datetime) -> AccountingRecord:
    """The accounting record an Accounting-Request carries (unknown attributes are ignored)."""
    values: dict[str, str | int] = {}
    offset = HEADER
    for kind, value in packet.attributes:
        if kind in INTEGER_ATTRIBUTES:
            if len(value) != 4:
                raise MalformedPacket(f"integer attribute {kind} is {len(value)} bytes, not 4", offset)
            values[NAMES[kind]] = struct.unpack("!I", value)[0]
        elif kind in TEXT_ATTRIBUTES and kind in NAMES:
            try:
                values[NAMES[kind]] = value.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedPacket(f"attribute {kind} is not UTF-8", offset) from None
        offset += len(value) + 2
    return _record(values, received_at, HEADER, MalformedPacket)


# ---------------------------------------------------------------- the UDP listener

StoreMany = Callable[[list[AccountingRecord]], Awaitable[object]]


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
LOCAL_ONLY = "127.0.0.1/32,::1/128"


def parse_networks(value: str) -> Networks:
    """The allowed senders from "10.1.0.0/16, 192.0.2.7": a bare address is a /32 (or /128)."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(f"{entry!r} is not an IP address or network: {error}") from None
    return tuple(networks)


def _allowed(host: str, networks: Networks) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class AccountingProtocol(asyncio.DatagramProtocol):
    """Answers an Accounting-Request only after ``store`` kept it; drops (and logs) anything else.

    Only declared access controllers may send (``clients``), as a RADIUS server's client list
    works: the shared secret alone is weak (MD5 over a guessable header), and a sender outside the
    list is dropped before its packet is even read.
    Requests that arrive while a store is running wait and are stored together in the next one:
    one transaction per batch, not per packet, so a burst costs a few commits."""

    def __init__(self, secret: bytes, store: StoreMany, clients: Networks | None = None) -> None:
        self.secret = secret
        self.store = store
        self.clients = parse_networks(LOCAL_ONLY) if clients is None else clients
        self.transport: Any = None  # the loop's datagram transport (not a DatagramTransport subclass)
        self.pending: list[tuple[Packet, AccountingRecord, Any]] = []
        self.flushing: asyncio.Task[None] | None = None
        self.answered = 0
        self.dropped = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        source = f"{addr[0]}:{addr[1]}"
        if not _allowed(str(addr[0]), self.clients):
            self.dropped += 1
            log.warning("RADIUS packet from %s dropped: not in SMARTSEOUL_WIFI_RADIUS_CLIENTS", source)
            return
        try:
            packet = decode_packet(data)
            if packet.code != ACCOUNTING_REQUEST:
                raise MalformedPacket(f"code {packet.code} is not Accounting-Request (4)", 0)
            if not request_authenticator_ok(packet, self.secret):
                raise MalformedPacket("Request Authenticator does not match the shared secret", 4)
            record = record_from_packet(packet, datetime.now(UTC))
        except MalformedPacket as error:
            self.dropped += 1
            log.warning("RADIUS packet from %s dropped: %s", source, error)
            return
        self.pending.append((packet, record, addr))
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                await self.store([record for _, record, _ in batch])
            except Exception:  # the NAS will retransmit: no answer means "not stored"
                log.exception("%d RADIUS records could not be stored", len(batch))
                continue
            for packet, _, addr in batch:
                if self.transport is not None:
                    self.transport.sendto(accounting_response(packet, self.secret), addr)
                    self.answered += 1


async def serve(
    host: str, port: int, secret: bytes, store: StoreMany, clients: Networks | None = None
) -> tuple[asyncio.BaseTransport, AccountingProtocol]:
    """Start the listener (only ``clients`` may send; default: this machine); close the returned
    transport to stop it."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: AccountingProtocol(secret, store, clients), local_addr=(host, port)
    )
    return transport, protocol
