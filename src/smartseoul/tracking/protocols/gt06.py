"""GT06 (Concox and its many clones): the binary protocol of most cheap GPS trackers and kids' watches.

Frame layout (all integers big-endian)::

    78 78 | len(1) | type(1) | content | serial(2) | crc(2) | 0d 0a      len counts type .. crc
    79 79 | len(2) | type(1) | content | serial(2) | crc(2) | 0d 0a      the "extended" form

The CRC is CRC-ITU (CRC-16/X-25) over ``len .. serial``. Traccar does not check it; we do, because a
position that is wrong in one bit is worse than a position that is missing: a child's location
shown a few kilometres off sends people to the wrong place. A frame whose CRC fails is dropped
alone: its length and its ``0d 0a`` stop bytes are intact, so the boundaries are trustworthy and
the next frame starts right after it. Only when the stop bytes are not where the length says
do we distrust the boundaries, and then skip to the next ``78 78``/``79 79``.

Identity: a connection starts with a login frame (0x01) carrying the IMEI in BCD; every later
frame on that connection is attributed to it. A position before any login cannot be attributed,
and is refused (``FrameError("no login yet")``) rather than guessed.

Times in GT06 frames are UTC (the login may carry a time-zone field; it is reported in
``extra["timezone_offset_min"]`` but not applied, as the protocol documents the times as GMT).

Alarm codes (the "alarm/language" byte of status packets), as Traccar maps them today (see
:data:`ALARM_CODES`)::

    0x01 sos            0x02 power_cut       0x03, 0x09 vibration
    0x04 geofence_enter 0x05 geofence_exit   0x06 overspeed
    0x0e, 0x0f, 0x19 low_battery             0x0c, 0x13, 0x25 tamper
    0x18 removal        0x23 fall
    (0x11 power off, 0x14 door, 0x1a/0x28 braking, 0x1b/0x2a/0x2b/0x2e cornering, 0x29 acceleration,
     0x2c accident, 0x30 jamming have no normalised name: they go to ``extra["device_alarms"]``)

The terminal-information byte of status packets carries an alarm state in bits 3..5:
1 vibration, 2 power_cut, 3 low_battery, 4 sos, 6 geofence (direction unknown: extra only),
7 removal. The voltage-level byte is 0..6 (0 = no power, 6 = full; percent = level * 100 / 6);
some devices put a percentage (7..100) there instead, which is taken as is.

What is decoded: login 0x01; GPS reports 0x10/0x11/0x12/0x22 (and the look-alikes 0x1A, 0x1E,
0x2D, 0x31, 0x34, 0x37, 0xA0, 0xA3, 0x24 of length 0x2E); heartbeats 0x13 and 0x23; alarm packets
0x16/0x26/0x27/0xA4 (GPS + cell + status) and 0x19/0xA5 (cell + status); JC100 alarms 0x95;
cell-only and Wi-Fi-only reports (0x18, 0x24, 0x28, 0x2E, 0xA1 / 0x17, 0x69, 0x2C, 0xA2, 0xF3) as a
Fix with source "cell"/"wifi", no coordinates and ``valid=False``; and, extended, the text
position of 0x21, AZ735 0x32/0x33 and the modular 0x70. Anything else is ``kind="other"``.
Replies are ``78 78 05 <type> <serial> <crc> 0d 0a`` for login, heartbeats and alarm packets (the
device retransmits or drops the link without them), ``79 79`` for AZ735, and the UTC time for a
time request (0x8A).

The stream: bytes before a frame start are reported as one FrameError naming their offset once
the next start is seen (so how TCP cut the stream never changes what is reported); a ``78 78``
inside garbage whose length would swallow the real frames behind it is unmasked as soon as a
complete frame with a good CRC appears inside it; a buffer that reaches 64 KiB without a frame
is discarded. :meth:`Gt06Decoder.finish` reports what is left when the connection ends.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from datetime import UTC, datetime

from smartseoul.tracking.protocols import Fix, FrameError, Kind, Message, Source
from smartseoul.tracking.protocols.buffered import AbsurdValue, BufferedDecoder, _utcnow, checked_time

PROTOCOL = "gt06"
# A declared length above this is not a GT06 frame (the largest real ones, photo chunks, are ~1 KiB);
# without a cap a corrupted length would stall the connection until 64 KiB had arrived.
MAX_FRAME = 4096
START_SHORT = b"\x78\x78"
START_LONG = b"\x79\x79"
STOP = b"\r\n"

ALARM_CODES: dict[int, str] = {
    0x01: "sos",
    0x02: "power_cut",
    0x03: "vibration",
    0x09: "vibration",
    0x04: "geofence_enter",
    0x05: "geofence_exit",
    0x06: "overspeed",
    0x0E: "low_battery",
    0x0F: "low_battery",
    0x19: "low_battery",
    0x0C: "tamper",
    0x13: "tamper",
    0x25: "tamper",
    0x18: "removal",
    0x23: "fall",
}
OTHER_ALARM_CODES: dict[int, str] = {
    0x11: "power_off",
    0x14: "door",
    0x1A: "braking",
    0x28: "braking",
    0x1B: "cornering",
    0x2A: "cornering",
    0x2B: "cornering",
    0x2E: "cornering",
    0x29: "acceleration",
    0x2C: "accident",
    0x30: "jamming",
}
# Bits 3..5 of the terminal-information byte.
STATUS_ALARMS: dict[int, str] = {1: "vibration", 2: "power_cut", 3: "low_battery", 4: "sos", 7: "removal"}
# JC100 dash cameras (type 0x95) have their own alarm codes.
JC100_ALARMS: dict[int, str] = {0x80: "vibration", 0x87: "overspeed"}
JC100_OTHER: dict[int, str] = {
    0x90: "acceleration",
    0x91: "braking",
    0x92: "cornering",
    0x93: "accident",
}

MSG_LOGIN = 0x01
MSG_STATUS = 0x13
MSG_HEARTBEAT_GK310 = 0x23
MSG_TIME_REQUEST = 0x8A
MSG_JC100_ALARM = 0x95
MSG_GPS_MODULAR = 0x70
# Frames that open with the 18-byte GPS block; what follows (cells, ignition, odometer) is not needed.
GPS_FIRST = frozenset({0x10, 0x11, 0x12, 0x22, 0x37, 0x2D, 0x31, 0x1A, 0x1E, 0xA0, 0xA3})
# GPS + cell + status: the alarm packets.
GPS_LBS_STATUS = frozenset({0x16, 0x26, 0x27, 0xA4})
# Cell + status, no GPS.
LBS_STATUS = frozenset({0x19, 0xA5})
# Binary date, then cell towers (0x2C, 0xA2 add Wi-Fi access points).
LBS_MULTI = frozenset({0x18, 0x24, 0x28, 0x2E, 0xA1})
LBS_WIFI = frozenset({0x2C, 0xA2})
# BCD time, then Wi-Fi access points (0xF3 has a binary time).
WIFI_BCD = frozenset({0x17, 0x69})
MSG_WIFI_4 = 0xF3
# Types the device waits an acknowledgement for (it retransmits, or drops the link, without one).
ACKED = frozenset(
    {MSG_LOGIN, MSG_STATUS, MSG_HEARTBEAT_GK310, 0x16, 0x26, 0x27, 0x19, 0xA4, 0xA5, MSG_JC100_ALARM}
)
ACKED_EXTENDED = frozenset({0x32, 0x33})

_LOCATION_TEXT = re.compile(
    r"Current position!Lat:([NS])(\d+\.\d+),Lon:([EW])(\d+\.\d+),Course:(\d+\.\d+),Speed:(\d+\.\d+),"
    r"DateTime:(\d{4})-(\d\d)-(\d\d) +(\d\d):(\d\d):(\d\d)"
)


def _crc_table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value >> 1) ^ 0x8408 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc_itu(data: bytes) -> int:
    """CRC-ITU as GT06 uses it: CRC-16/X-25 (poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def build_frame(msg_type: int, serial: int, content: bytes = b"", *, extended: bool = False) -> bytes:
    """A frame as the server sends it (acks, time answers): same framing and CRC as the device's."""
    length = 5 + len(content)
    head = START_LONG + length.to_bytes(2, "big") if extended else START_SHORT + bytes([length])
    body = head[2:] + bytes([msg_type]) + content + (serial & 0xFFFF).to_bytes(2, "big")
    return head[:2] + body + crc_itu(body).to_bytes(2, "big") + STOP


class _Short(Exception):
    """The content ended before a field it must hold."""


_Absurd = AbsurdValue


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise _Short
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)


_time = checked_time


def _binary_time(raw: bytes, what: str) -> datetime | None:
    """YY MM DD hh mm ss as binary bytes; all zeros (a device that never had a fix) is no time."""
    if not any(raw):
        return None
    return _time(2000 + raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], what)


def _bcd_digits(raw: bytes) -> str | None:
    text = raw.hex()
    return text if text.isdigit() else None


def _bcd_time(raw: bytes, what: str) -> datetime | None:
    digits = _bcd_digits(raw)
    if digits is None:
        raise _Absurd(f"{what}: not BCD ({raw.hex()})")
    if not int(digits):
        return None
    values = [int(digits[i : i + 2]) for i in range(0, 12, 2)]
    return _time(2000 + values[0], values[1], values[2], values[3], values[4], values[5], what)


def _read_gps(
    r: _Reader, *, satellites: bool = True, speed: bool = True, extra: dict[str, object]
) -> Fix | None:
    """The GPS block: date, [satellites], lat, lon, [speed], course/status word.

    Coordinates are unsigned 1/1,800,000 degree (1/30000 minute); the hemisphere is in the
    course/status word: bit 10 set = north, bit 11 set = west, bit 12 = GPS positioned,
    bits 0..9 = course. No fix is returned for a zeroed date (the device has no time yet).
    """
    when = _binary_time(r.take(6), "GPS time")
    sats = r.u8() & 0x0F if satellites else None
    lat = r.uint(4) / 1_800_000
    lon = r.uint(4) / 1_800_000
    kmh = float(r.u8()) if speed else None
    flags = r.u16()
    if lat > 90:
        raise _Absurd(f"latitude {lat:.6f} out of range")
    if lon > 180:
        raise _Absurd(f"longitude {lon:.6f} out of range")
    course = flags & 0x03FF
    if course > 360:
        raise _Absurd(f"course {course} out of range")
    if not flags & 0x0400:
        lat = -lat
    if flags & 0x0800:
        lon = -lon
    if flags & 0x4000:
        extra["ignition"] = bool(flags & 0x8000)
    if when is None:
        return None
    return Fix(
        time=when,
        lat=lat,
        lon=lon,
        valid=bool(flags & 0x1000),
        source="gps",
        speed_kmh=kmh,
        course=float(course),
        satellites=sats,
    )


def _read_cell(r: _Reader, *, has_length: bool, long_format: bool = False) -> dict[str, int] | None:
    """One serving cell: MCC, MNC (2 bytes when MCC bit 15 is set), LAC, cell id.

    With a length byte, devices disagree on whether it counts itself (both occur in real
    captures), so the block ends where the length says or where the fields end, whichever is
    later. A length of zero followed by zeros is a 45-byte zero-filled block some firmware sends.
    """
    start = r.pos
    length = 0
    if has_length:
        length = r.u8()
        if length == 0:
            if not any(r.data[r.pos + 9 : r.pos + 45]):
                r.pos = min(len(r.data), r.pos + 45)
            return None
    mcc = r.u16()
    mnc = r.u16() if mcc & 0x8000 else r.u8()
    if not long_format and has_length:
        long_format = length - (r.pos - start) >= 12
    if long_format:
        lac, cid = r.uint(4), r.uint(8)
    else:
        lac, cid = r.u16(), r.uint(3)
    if has_length and start + length > r.pos:
        r.take(start + length - r.pos)
    return {"mcc": mcc & 0x7FFF, "mnc": mnc, "lac": lac, "cid": cid}


def _battery_pct(level: int) -> int | None:
    if level <= 6:
        return level * 100 // 6
    if level <= 100:
        return level
    return None


def _device_alarm(extra: dict[str, object], name: str) -> None:
    """An alarm without a normalised name: kept for the record, not raised."""
    current = extra.get("device_alarms")
    extra["device_alarms"] = [*(current if isinstance(current, list) else []), name]


def _status_alarms(info: int, alarms: list[str], extra: dict[str, object]) -> None:
    """Alarm state in bits 3..5 of the terminal-information byte (plus charge/ignition flags)."""
    extra["status"] = info
    extra["charging"] = bool(info & 0x04)
    state = (info >> 3) & 0x07
    if state in STATUS_ALARMS:
        alarms.append(STATUS_ALARMS[state])
    elif state == 6:
        _device_alarm(extra, "geofence")


def _alarm_code(code: int, alarms: list[str], extra: dict[str, object]) -> None:
    extra["alarm_code"] = code
    if code in ALARM_CODES:
        alarms.append(ALARM_CODES[code])
    elif code in OTHER_ALARM_CODES:
        _device_alarm(extra, OTHER_ALARM_CODES[code])


def _dedupe(alarms: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(alarms))


class Gt06Decoder(BufferedDecoder):
    """Decoder of one GT06 connection (it remembers the IMEI of the login).

    ``clock`` stamps frames that carry no time of their own (cell-only reports, the answer to a
    time request); tests pass a fixed one so decoding stays a pure function of the bytes.
    """

    protocol = PROTOCOL

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        super().__init__(clock=clock)
        # Frame starts seen inside the frame at _buf[0] while it is incomplete: (end, start), and
        # where to look for more; each is CRC-checked once, when its end has arrived.
        self._inner: list[tuple[int, int]] = []
        self._inner_from = 1

    # ------------------------------------------------------------------ stream

    def _after_drop(self) -> None:
        self._inner.clear()
        self._inner_from = 1

    def _starts_at(self, index: int) -> bool | None:
        """Whether a frame starts at ``index``; None while the bytes to tell are not there yet."""
        pair = bytes(self._buf[index : index + 2])
        if len(pair) == 2:
            return pair in (START_SHORT, START_LONG)
        return None if pair in (b"\x78", b"\x79") else False

    def _find_start(self, low: int, final: bool) -> int | None:
        """First frame start at or after ``low``; None when there is none (yet)."""
        buf = self._buf
        if low == 0:
            here = self._starts_at(0)
            if here:
                return 0
            if here is None and not final:
                return None
        index = max(1, low, self._hint)
        found = [i for i in (buf.find(START_SHORT, index), buf.find(START_LONG, index)) if i >= 0]
        if found:
            return min(found)
        tail = len(buf) - 1 if buf and buf[-1] in (0x78, 0x79) and not final else len(buf)
        self._hint = max(self._hint, tail)
        return None

    def _complete_frame_within(self, high: int) -> bool:
        """Whether a whole frame with a good CRC lies in ``_buf[1:high]``.

        Used to unmask a false start: ``78 78`` inside garbage whose made-up length would
        otherwise swallow (or wait for) the real frames behind it. Candidates are collected once
        and checked once each, so a frame fed byte by byte costs no more than a whole one.
        """
        buf = self._buf
        index = self._inner_from
        while True:
            found = [i for i in (buf.find(START_SHORT, index), buf.find(START_LONG, index)) if i >= 0]
            if not found:
                break
            size = self._declared_size(min(found))
            if size is None:  # its length has not arrived yet: look again next time
                index = min(found)
                break
            heapq.heappush(self._inner, (min(found) + size, min(found)))
            index = min(found) + 1
        self._inner_from = index
        while self._inner and self._inner[0][0] <= high:
            end, start = heapq.heappop(self._inner)
            if self._well_formed(start, end - start):
                return True
        return False

    def _declared_size(self, index: int) -> int | None:
        buf = self._buf
        if buf[index : index + 2] == START_SHORT and len(buf) > index + 2:
            return buf[index + 2] + 5
        if buf[index : index + 2] == START_LONG and len(buf) > index + 3:
            return int.from_bytes(buf[index + 2 : index + 4], "big") + 6
        return None

    def _well_formed(self, index: int, size: int) -> bool:
        frame = self._buf[index : index + size]
        head = 3 if frame[:2] == START_SHORT else 4
        return (
            size >= head + 7
            and frame[-2:] == STOP
            and crc_itu(bytes(frame[2:-4])) == int.from_bytes(frame[-4:-2], "big")
        )

    def _drain(self, out: list[Message | FrameError], final: bool) -> None:
        while self._buf:
            found = self._skip_garbage(out, final)
            if found is None:
                return
            if not found:
                continue
            verdict = self._frame_at_start(final)
            if verdict is None:
                return
            if isinstance(verdict, str):
                end = self._find_start(1, final)
                if end is None:
                    if not final:
                        return
                    end = len(self._buf)
                out.append(self._error(0, verdict, end))
                self._drop(end)
                continue
            size, item = verdict
            out.append(item)
            self._drop(size)

    def _frame_at_start(self, final: bool) -> tuple[int, Message | FrameError] | str | None:
        """Judge the frame at ``_buf[0]``.

        Returns (size, item) when the boundaries are trustworthy (the item may still be a
        FrameError, e.g. a CRC mismatch), a reason string when they are not (the caller skips to
        the next start), or None when more bytes are needed.
        """
        buf = self._buf
        size = self._declared_size(0)
        if size is None:
            return "frame header cut off at end of stream" if final else None
        head = 3 if buf[:2] == START_SHORT else 4
        if size > MAX_FRAME:
            return f"implausible frame length {size - head - 2} at byte {self._base}"
        if size > len(buf):
            if final:
                return f"frame at byte {self._base} cut off: {len(buf)} of {size} bytes at end of stream"
            if self._complete_frame_within(len(buf)):
                return f"frame at byte {self._base} never completed ({len(buf)} of {size} bytes)"
            return None
        if buf[size - 2 : size] != STOP:
            return (
                f"no 0D0A where the length says the frame at byte {self._base} ends "
                f"(found {bytes(buf[size - 2 : size]).hex()})"
            )
        if size < head + 7:
            return size, self._error(0, f"length {size - head - 2} too short for a GT06 frame", size)
        expected = crc_itu(bytes(buf[2 : size - 4]))
        got = int.from_bytes(buf[size - 4 : size - 2], "big")
        if expected != got:
            if self._complete_frame_within(size):
                return f"frame at byte {self._base} fails its checksum and hides a complete frame"
            return size, self._error(0, f"checksum mismatch (expected {expected:04x}, got {got:04x})", size)
        frame = bytes(buf[:size])
        return size, self._decode(frame, head)

    # ------------------------------------------------------------------ content

    def _decode(self, frame: bytes, head: int) -> Message | FrameError:
        msg_type = frame[head]
        content = frame[head + 1 : -6]
        serial = int.from_bytes(frame[-6:-4], "big")
        extended = head == 4
        offset = self._base
        if msg_type != MSG_LOGIN and self.device_id is None:
            return FrameError(
                self.protocol, offset, f"no login yet (type {msg_type:02x} frame refused)", None, frame
            )
        try:
            return self._decode_content(msg_type, content, serial, extended, offset)
        except _Absurd as error:
            return FrameError(self.protocol, offset, str(error), self.device_id, frame)
        except _Short:
            reason = f"type {msg_type:02x} content cut short ({len(content)} bytes)"
            return FrameError(self.protocol, offset, reason, self.device_id, frame)

    def _ack(self, msg_type: int, serial: int, extended: bool) -> bytes | None:
        if msg_type in ACKED_EXTENDED and extended:
            return build_frame(msg_type, serial, extended=True)
        if msg_type in ACKED and not extended:
            return build_frame(msg_type, serial)
        return None

    def _decode_content(
        self, msg_type: int, content: bytes, serial: int, extended: bool, offset: int
    ) -> Message | FrameError:
        r = _Reader(content)
        extra: dict[str, object] = {"type": msg_type, "serial": serial}
        reply = self._ack(msg_type, serial, extended)
        if msg_type == MSG_LOGIN and not extended:
            return self._login(r, reply, offset, extra)
        if msg_type == MSG_TIME_REQUEST and not extended:  # a device without GPS asks for the time
            now = self._clock().astimezone(UTC)
            answer = bytes([now.year - 2000, now.month, now.day, now.hour, now.minute, now.second])
            return self._message("other", offset, reply=build_frame(MSG_TIME_REQUEST, 0, answer), extra=extra)
        if not content:
            return self._message("other", offset, reply=reply, extra=extra)
        if extended:
            return self._decode_extended(msg_type, r, serial, offset, extra, reply)

        alarms: list[str] = []
        fix: Fix | None = None
        battery: int | None = None
        kind: Kind = "other"

        if msg_type == MSG_STATUS:
            kind = "heartbeat"
            if len(content) == 16:
                # Variant: info, satellites(2), alarm, language, battery percent, mode, voltage, ...
                # The info and alarm bytes do not follow the usual meaning here (Traccar ignores
                # them too), so no alarm is raised from this form.
                extra["status"], _, extra["alarm_code"], _ = r.u8(), r.take(2), r.u8(), r.take(1)
                level = r.u8()
                battery = level if level <= 100 else None
            else:
                battery = self._status(r, alarms, extra)
        elif msg_type == MSG_HEARTBEAT_GK310:
            kind = "heartbeat"
            info = r.u8()
            extra["status"] = info
            extra["charging"] = bool(info & 0x04)
        elif msg_type in GPS_FIRST or (msg_type == 0x24 and len(content) == 0x2E - 5):
            kind = "position"
            fix = _read_gps(r, extra=extra)
        elif msg_type in GPS_LBS_STATUS:
            fix = _read_gps(r, extra=extra)
            vxt01 = msg_type == 0x16 and len(content) == 0x24 - 5  # VXT01: no length byte, no alarm code
            cell = _read_cell(r, has_length=not vxt01, long_format=msg_type == 0xA4)
            if cell:
                extra["cell"] = cell
            battery = self._status(r, alarms, extra, alarm_code=not vxt01)
            kind = "alarm" if alarms or "device_alarms" in extra else "position"
        elif msg_type in LBS_STATUS:
            if msg_type == 0x19 and len(content) >= 0x17 - 5:
                extra["note"] = "multi-cell report (SPACE10X), not decoded"
            else:
                cell = _read_cell(r, has_length=False, long_format=msg_type == 0xA5)
                extra["cell"] = cell
                battery = self._status(r, alarms, extra)
                fix = Fix(time=self._clock(), lat=None, lon=None, valid=False, source="cell")
                kind = "alarm" if alarms or "device_alarms" in extra else "position"
        elif msg_type in LBS_MULTI or msg_type in LBS_WIFI:
            when = _binary_time(r.take(6), "cell report time")
            source: Source = "wifi" if msg_type in LBS_WIFI else "cell"
            if when is not None:
                fix = Fix(time=when, lat=None, lon=None, valid=False, source=source)
                kind = "position"
        elif msg_type in WIFI_BCD or msg_type == MSG_WIFI_4:
            raw = r.take(6)
            when = (
                _binary_time(raw, "Wi-Fi report time")
                if msg_type == MSG_WIFI_4
                else _bcd_time(raw, "Wi-Fi report time")
            )
            if when is not None:
                fix = Fix(time=when, lat=None, lon=None, valid=False, source="wifi")
                kind = "position"
        elif msg_type == 0x34:  # X1: data and alarm (4), then the GPS block
            r.take(4)
            fix = _read_gps(r, extra=extra)
            kind = "position"
        elif msg_type == MSG_JC100_ALARM:
            fix = self._jc100(r, len(content), alarms, extra)
            kind = "alarm"
        elif msg_type == 0x15:
            self._string(r, extra)
        return self._message(
            kind, offset, fix=fix, alarms=_dedupe(alarms), battery_pct=battery, reply=reply, extra=extra
        )

    def _login(self, r: _Reader, reply: bytes | None, offset: int, extra: dict[str, object]) -> Message:
        raw = r.take(8)
        digits = _bcd_digits(raw)
        if digits is None:
            raise _Absurd(f"IMEI is not BCD ({raw.hex()})")
        if r.remaining() >= 2:
            extra["model"] = r.u16()
        if r.remaining() >= 2:
            bits = r.u16()
            minutes = (bits >> 4) // 100 * 60 + (bits >> 4) % 100
            extra["timezone_offset_min"] = -minutes if bits & 0x08 else minutes
        self.device_id = digits[1:] if digits.startswith("0") else digits
        return self._message("login", offset, reply=reply, extra=extra)

    def _status(
        self, r: _Reader, alarms: list[str], extra: dict[str, object], *, alarm_code: bool = True
    ) -> int | None:
        """Terminal info, voltage level, GSM signal, alarm code: the status block of many types."""
        _status_alarms(r.u8(), alarms, extra)
        battery = _battery_pct(r.u8())
        extra["gsm_signal"] = r.u8()
        if r.remaining():
            code = r.u8()
            if alarm_code:
                _alarm_code(code, alarms, extra)
        return battery

    def _jc100(self, r: _Reader, length: int, alarms: list[str], extra: dict[str, object]) -> Fix | None:
        """JC100 camera alarm: a short form (time, code) and a long one (GPS without satellites/speed)."""
        long_form = length > 7
        fix = None
        if long_form:
            fix = _read_gps(r, satellites=False, speed=False, extra=extra)
        else:
            extra["alarm_time"] = _binary_time(r.take(6), "alarm time")
        code = r.u8()
        extra["alarm_code"] = code
        if code == 0x01:
            if long_form:
                alarms.append("sos")
            else:
                _device_alarm(extra, "general")
        elif code in JC100_ALARMS:
            alarms.append(JC100_ALARMS[code])
        else:
            _device_alarm(extra, JC100_OTHER.get(code, "general"))
        return fix

    def _string(self, r: _Reader, extra: dict[str, object]) -> None:
        length = r.u8()
        if length > 4:
            r.take(4)  # server flag
            extra["text"] = r.take(min(length - 4, r.remaining())).decode("ascii", "replace")

    # ------------------------------------------------------------------ extended (79 79) frames

    def _decode_extended(
        self,
        msg_type: int,
        r: _Reader,
        serial: int,
        offset: int,
        extra: dict[str, object],
        reply: bytes | None,
    ) -> Message:
        fix: Fix | None = None
        alarms: list[str] = []
        kind: Kind = "other"
        if msg_type == 0x21:  # text answer; some devices answer a "where are you" with a position
            r.take(4)
            encoding = "ascii" if r.u8() == 1 else "utf-16-be"
            text = r.take(r.remaining()).decode(encoding, "replace")
            extra["text"] = text
            fix = self._location_text(text)
            if fix is not None:
                kind = "position"
        elif msg_type in (0x32, 0x33):
            fix, kind = self._az735(msg_type, r, alarms, extra)
        elif msg_type == MSG_GPS_MODULAR:
            fix = self._modular(r, alarms, extra)
            kind = "alarm" if alarms else ("position" if fix else "other")
            reply = build_frame(MSG_GPS_MODULAR, serial)
        return self._message(kind, offset, fix=fix, alarms=_dedupe(alarms), reply=reply, extra=extra)

    @staticmethod
    def _location_text(text: str) -> Fix | None:
        match = _LOCATION_TEXT.search(text)
        if match is None:
            return None
        lat, lon = float(match[2]), float(match[4])
        if lat > 90:
            raise _Absurd(f"latitude {lat} out of range")
        if lon > 180:
            raise _Absurd(f"longitude {lon} out of range")
        year, month, day, hour, minute, second = (int(match[i]) for i in range(7, 13))
        when = _time(year, month, day, hour, minute, second, "position text time")
        return Fix(
            time=when,
            lat=-lat if match[1] == "S" else lat,
            lon=-lon if match[3] == "W" else lon,
            valid=True,
            source="gps",
            speed_kmh=float(match[6]),
            course=float(match[5]),
        )

    def _az735(
        self, msg_type: int, r: _Reader, alarms: list[str], extra: dict[str, object]
    ) -> tuple[Fix | None, Kind]:
        """AZ735 (0x32 position, 0x33 alarm): date, GPS block with a length byte (0 = no fix), ..."""
        date = r.take(6)
        fix: Fix | None = None
        if r.u8():  # length of the GPS part; 0 = no fix in this report
            fix = _read_gps(_Reader(date + r.take(12)), extra=extra)
        else:
            extra["time"] = _binary_time(date, "report time")
        kind: Kind = "position" if fix else "other"
        if msg_type == 0x33:
            try:
                cell = _read_cell(r, has_length=True)
                if cell:
                    extra["cell"] = cell
                    r.take(1)  # signal strength
                r.take(r.u8())  # more cells
                r.take(r.u8())  # Wi-Fi access points
                status = r.u8()
            except _Short:
                return fix, kind
            extra["status"] = status
            if status in (0xA2, 0xA3):
                alarms.append("low_battery")
            elif status == 0xA4:
                _device_alarm(extra, "general")
            elif status == 0xA5:
                _device_alarm(extra, "door")
            if alarms or "device_alarms" in extra:
                kind = "alarm"
        return fix, kind

    def _modular(self, r: _Reader, alarms: list[str], extra: dict[str, object]) -> Fix | None:
        """0x70: a list of (module type, length, value); 0x33 is the GPS module, 0x2B an event."""
        fix: Fix | None = None
        while r.remaining() >= 4:
            module, length = r.u16(), r.u16()
            value = _Reader(r.take(length))
            if module == 0x33 and length >= 18:
                seconds = value.uint(4)
                sats = value.u8()
                altitude = int.from_bytes(value.take(2), "big", signed=True)
                lat, lon = value.uint(4) / 1_800_000, value.uint(4) / 1_800_000
                kmh = float(value.u8())
                flags = value.u16()
                if lat > 90:
                    raise _Absurd(f"latitude {lat:.6f} out of range")
                if lon > 180:
                    raise _Absurd(f"longitude {lon:.6f} out of range")
                if seconds:
                    fix = Fix(
                        time=datetime.fromtimestamp(seconds, UTC),
                        lat=lat if flags & 0x0400 else -lat,
                        lon=-lon if flags & 0x0800 else lon,
                        valid=bool(flags & 0x1000),
                        speed_kmh=kmh,
                        course=float(flags & 0x03FF),
                        altitude_m=float(altitude),
                        satellites=sats,
                    )
            elif module == 0x2B and length >= 1:
                event = value.u8()
                extra["event"] = event
                if event == 0x11:
                    alarms.append("low_battery")
                elif event == 0x13:
                    alarms.append("power_cut")
                elif event == 0x14:
                    alarms.append("removal")
            elif module == 0x18 and length >= 2:
                extra["battery_v"] = value.u16() / 100
        return fix
