"""H02 ("HQ" protocol of SinoTrack and many cheap trackers and kids' watches): text and binary frames.

Text frames are ASCII between ``*`` and ``#``, comma-separated::

    *HQ,<id>,V1,hhmmss,A,ddmm.mmmm,N,dddmm.mmmm,E,speed(knots),course,ddmmyy,status(8 hex)[,...]#

The maker tag (``HQ``, ``TH``, ``hq``...) is any two letters. Variants seen in real captures:
coordinates as ``ddmm.mmmm``, ``ddmmmmmm`` (no dot) and ``-dd-mm.mmmm``; an optional battery field
before the date; SIM/ICCID fields between date and status (V19); V4 (answer to a command) with
the command's fields before the position; HTBT/V0 heartbeats; LINK (watch status); NBR and V3
(cell towers instead of GPS); VP1 (lower-case ``*hq``, position or cells, date without time).

Binary frames start with ``$`` and have no length and no terminator. Layout, inferred from the
captures and matching Traccar (BCD unless noted)::

    $ | id 5 bytes (10 digits) | hhmmss 3 | ddmmyy 3 | lat ddmm.mmmm 4 | battery 1 (binary) |
      lon dddmm.mmmm 4.5 + flags nibble (bit1 fix valid, bit2 north, bit3 east) |
      speed 3 digits (knots) + course 3 digits | status 4 (binary) | ...tail

Frames are 32 bytes, or 45/46/48 with a cell block in the tail; a 42-byte form carries an 8-byte
(15-digit) id, recognised here because the short reading gives an impossible time while the long
one gives a valid time and date. Since only the first 32 bytes are needed and nothing says where
a binary frame ends, the frame is decoded as soon as its 32 bytes are in, and its end is taken as
the next frame start found 32..64 bytes after its ``$`` (or 32 bytes when there is none). That
keeps the position from waiting for the device's next report. ``X`` frames (a 32-byte variant
Traccar ignores, with a different id) are reported as ``other``.

Status word (32 bits as sent, big-endian; active low: a 0 bit is an active condition), as Traccar
maps it: bit 0 vibration, bit 1 sos, bit 2 overspeed, bit 19 power_cut (main power lost, running
on the backup battery); bit 10 is the ignition (``extra["ignition"]``). Bits 1, 2, 10 and 19 agree
with the H02 documentation's status table (thief/SOS, overspeed, ACC, backup battery). Every
active bit raises its alarm (Traccar keeps only the first). Traccar also reads a cleared bit 18 as
SOS; we do not: in its own captures three devices clear bit 18 in routine reports, one of them
while driving at 107 km/h, and a false SOS sends people running.

Replies, as Traccar sends them: V1 and NBR are answered ``*HQ,<id>,V4,<type>,<yyyyMMddHHmmss>#``
(the server time, which some devices use to set their clock); HTBT/V0 heartbeats are echoed as
``*XX,<id>,HTBT#``. Other frames get no answer.

Speeds are knots on the wire and km/h in :class:`Fix`. Times are UTC. A frame without an id
takes the id of the previous frame on the connection; before any id it is refused. A report
without a date (V1 with empty date, VP1, cell reports with an impossible time) is stamped with the
receive time; an impossible time in a GPS position is a FrameError naming the field.

The stream: a text frame ends at its ``#`` (CR/LF after it is skipped silently); a new ``*XX,``
before the ``#`` means the previous frame lost its end. Bytes before a frame start are reported
as one FrameError naming their offset once the next start is seen, so how TCP cut the stream
never changes what is reported. A buffer that reaches 64 KiB without a frame is discarded.
:meth:`H02Decoder.finish` reports what is left when the connection ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from smartseoul.tracking.protocols import Fix, FrameError, Kind, Message, Source
from smartseoul.tracking.protocols.buffered import AbsurdValue, BufferedDecoder, _utcnow, checked_time

PROTOCOL = "h02"
MAX_TEXT = 1024  # no real text frame comes near this; a longer one lost its '#'
BINARY_HEAD = 32  # bytes of a binary frame that hold everything decoded
BINARY_MAX = 64  # a binary frame's end is searched for up to here
KNOTS_TO_KMH = 1.852

# Active-low status bits -> alarm names (Traccar's mapping).
STATUS_ALARMS: tuple[tuple[int, str], ...] = (
    (0, "vibration"),
    (1, "sos"),
    (2, "overspeed"),
    (19, "power_cut"),
)

_LETTER = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_MARKERS = re.compile(rb"[*$X]")
_TEXT_START = re.compile(rb"\*[A-Za-z]{2},")
_HEX8 = re.compile(r"[0-9A-Fa-f]{8}")
_DASHED = re.compile(r"-(\d+)-(\d+(?:\.\d+)?)")


_Absurd = AbsurdValue


def _is_bcd(byte: int) -> bool:
    return (byte >> 4) <= 9 and (byte & 0x0F) <= 9


def _time(day: int, month: int, year: int, hour: int, minute: int, second: int, what: str) -> datetime:
    """H02 sends ddmmyy: the two-digit year is of this century."""
    return checked_time(2000 + year, month, day, hour, minute, second, what)


def _six(value: str, what: str) -> tuple[int, int, int]:
    if len(value) != 6 or not value.isdigit():
        raise _Absurd(f"{what} {value!r} is not six digits")
    return int(value[0:2]), int(value[2:4]), int(value[4:6])


def _date_time(date: str, clock: str, what: str) -> datetime | None:
    """``ddmmyy`` + ``hhmmss``; None when the device sent no date (or all zeros)."""
    if not date.strip("0"):
        return None
    day, month, year = _six(date, f"{what} date")
    hour, minute, second = _six(clock or "000000", f"{what} time")
    return _time(day, month, year, hour, minute, second, what)


def _coordinate(value: str, hemisphere: str, what: str, limit: int) -> float:
    """``ddmm.mmmm``, ``ddmmmmmm`` or ``-dd-mm.mmmm`` with N/S/E/W, to signed degrees."""
    text = value.strip()
    dashed = _DASHED.fullmatch(text)
    if dashed:
        degrees, minutes = int(dashed[1]), float(dashed[2])
    elif "." in text:
        whole, _, fraction = text.partition(".")
        if not (whole.isdigit() and fraction.isdigit()):
            raise _Absurd(f"{what} {text!r} unreadable")
        degrees, minutes = int(whole[:-2] or "0"), float(f"{whole[-2:]}.{fraction}")
    elif text.isdigit() and len(text) >= 7:
        degrees, minutes = int(text[:-6]), float(f"{text[-6:-4]}.{text[-4:]}")
    else:
        raise _Absurd(f"{what} {text!r} unreadable")
    if minutes >= 60:
        raise _Absurd(f"{what} minutes {minutes} out of range")
    result = degrees + minutes / 60
    if result > limit:
        raise _Absurd(f"{what} {result:.6f} out of range")
    return -result if hemisphere in ("S", "W") else result


def _number(value: str, what: str) -> float:
    try:
        return float(value.strip() or "0")
    except ValueError:
        raise _Absurd(f"{what} {value!r} is not a number") from None


def _battery(value: int) -> int | None:
    """Battery byte of binary frames: 1..6 is a level, 7..100 a percentage, F1..F6 a level + 0xF0."""
    if value == 0:
        return None
    if value <= 3:
        return (value - 1) * 10
    if value <= 6:
        return (value - 1) * 20
    if value <= 100:
        return value
    if 0xF1 <= value <= 0xF6:
        return value - 0xF0
    return None


def _status(word: int, alarms: list[str], extra: dict[str, object]) -> None:
    extra["status"] = word
    extra["ignition"] = bool(word & (1 << 10))
    for bit, name in STATUS_ALARMS:
        if not word & (1 << bit) and name not in alarms:
            alarms.append(name)


class H02Decoder(BufferedDecoder):
    """Decoder of one H02 connection: text and binary frames, in any mix.

    ``clock`` stamps reports that carry no date (and the time in V4 answers); tests pass a fixed
    one so decoding stays a pure function of the bytes.
    """

    protocol = PROTOCOL

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        super().__init__(clock=clock)
        self._head_done = False  # the binary frame at _buf[0] was decoded; its end is still open

    # ------------------------------------------------------------------ stream

    def _after_drop(self) -> None:
        self._head_done = False

    def _starts_at(self, index: int, final: bool) -> bool | None:
        """Whether a frame starts at ``index``: ``*`` + two letters + ``,``, or ``$``/``X`` + 11 BCD bytes.

        None while the bytes that decide it have not arrived (False at the end of the stream).
        """
        buf = self._buf
        marker = buf[index]
        if marker == 0x2A:
            rest = buf[index + 1 : index + 4]
            checks = [
                rest[0] in _LETTER if len(rest) > 0 else None,
                rest[1] in _LETTER if len(rest) > 1 else None,
                rest[2] == 0x2C if len(rest) > 2 else None,
            ]
        elif marker in (0x24, 0x58):
            checks = [_is_bcd(byte) for byte in buf[index + 1 : index + 12]]
            checks += [None] * (11 - len(checks))
        else:
            return False
        if False in checks:
            return False
        if None in checks:
            return False if final else None
        return True

    def _find_start(self, low: int, final: bool) -> int | None:
        """First frame start at or after ``low``; None when there is none, or it cannot be told yet."""
        buf = self._buf
        if low == 0:
            here = self._starts_at(0, final)
            if here or here is None:
                return 0 if here else None
        index = max(1, low, self._hint)
        for match in _MARKERS.finditer(buf, index):
            position = match.start()
            verdict = self._starts_at(position, final)
            if verdict:
                return position
            if verdict is None:
                self._hint = position
                return None
        if not final:
            self._hint = len(buf)
        return None

    def _drain(self, out: list[Message | FrameError], final: bool) -> None:
        while self._buf:
            if not self._head_done and self._buf[0] in (0x0D, 0x0A):  # line ends after '#' are no garbage
                self._drop(1)
                continue
            found = self._skip_garbage(out, final)
            if found is None:
                return
            if not found:
                continue
            if self._buf[0] == 0x2A:
                if not self._text_frame(out, final):
                    return
            elif not self._binary_frame(out, final):
                return

    def _text_frame(self, out: list[Message | FrameError], final: bool) -> bool:
        """Handle the text frame at ``_buf[0]``; False when more bytes are needed.

        It ends at the first ``#``. A new ``*XX,`` before that means this one lost its end: it is
        reported alone and the new one decoded. Only text starts are looked for inside, as they
        are told from four bytes that all lie before the ``#``; so the verdict does not depend on
        how the stream was cut into reads.
        """
        buf = self._buf
        end = buf.find(b"#", 1, MAX_TEXT)
        inner = _TEXT_START.search(buf, 1, end if end >= 0 else min(len(buf), MAX_TEXT))
        if inner is not None:
            out.append(self._error(0, f"text frame at byte {self._base} has no '#'", inner.start()))
            self._drop(inner.start())
            return True
        if end < 0:
            if len(buf) < MAX_TEXT and not final:
                return False
            cut = min(len(buf), MAX_TEXT)
            out.append(self._error(0, f"text frame at byte {self._base} has no '#' in {cut} bytes", cut))
            self._drop(cut)
            return True
        frame = bytes(buf[: end + 1])
        out.append(self._decode_text(frame, self._base))
        self._drop(end + 1)
        return True

    def _binary_frame(self, out: list[Message | FrameError], final: bool) -> bool:
        """Handle the binary frame at ``_buf[0]``; False when more bytes are needed."""
        buf = self._buf
        if not self._head_done:
            if len(buf) < BINARY_HEAD:
                if not final:
                    return False
                out.append(
                    self._error(0, f"binary frame cut off: {len(buf)} of {BINARY_HEAD} bytes", len(buf))
                )
                self._drop(len(buf))
                return True
            out.append(self._decode_binary(bytes(buf[:BINARY_HEAD]), self._base))
            self._head_done = True
        if buf[0] == 0x58:
            self._drop(BINARY_HEAD)
            return True
        for position in range(BINARY_HEAD, BINARY_MAX + 1):
            if position >= len(buf):
                if not final:
                    return False
                self._drop(len(buf))
                return True
            verdict = self._starts_at(position, final)
            if verdict:
                self._drop(position)
                return True
            if verdict is None:
                return False
        self._drop(BINARY_HEAD)
        return True

    # ------------------------------------------------------------------ messages

    def _identify(self, ident: str, frame: bytes, offset: int) -> FrameError | None:
        if ident:
            if not ident.isdigit() or len(ident) > 20:
                return FrameError(
                    self.protocol, offset, f"device id {ident[:24]!r} is not a number", self.device_id, frame
                )
            self.device_id = ident
        elif self.device_id is None:
            return FrameError(
                self.protocol, offset, "frame without a device id, and none known yet", None, frame
            )
        return None

    def _v4_answer(self, ident: str, msg_type: str) -> bytes | None:
        if not ident:
            return None
        return f"*HQ,{ident},V4,{msg_type},{self._clock().astimezone(UTC):%Y%m%d%H%M%S}#".encode()

    # ------------------------------------------------------------------ text

    def _decode_text(self, frame: bytes, offset: int) -> Message | FrameError:
        fields = frame[1:-1].decode("latin-1").split(",")
        ident = fields[1].strip() if len(fields) > 1 else ""
        msg_type = fields[2].strip() if len(fields) > 2 else ""
        refused = self._identify(ident, frame, offset)
        if refused:
            return refused
        extra: dict[str, object] = {"type": msg_type}
        try:
            if msg_type in ("HTBT", "V0"):
                battery = fields[3].strip() if len(fields) > 3 else ""
                reply = ("*" + ",".join(fields[:3]) + "#").encode("latin-1")
                pct = int(battery) if battery.isdigit() and int(battery) <= 100 else None
                return self._message("heartbeat", offset, battery_pct=pct, reply=reply, extra=extra)
            if msg_type == "LINK":
                return self._link(fields, offset, extra)
            if msg_type == "NBR":
                return self._nbr(fields, offset, extra, self._v4_answer(ident, "NBR"))
            if msg_type == "V3":
                return self._v3(fields, offset, extra)
            if msg_type == "VP1":
                return self._vp1(fields, offset, extra)
            if msg_type.startswith("V"):
                answer = self._v4_answer(ident, "V1") if msg_type == "V1" else None
                return self._position(fields, offset, extra, answer)
        except _Absurd as error:
            return FrameError(self.protocol, offset, str(error), self.device_id, frame)
        except (IndexError, ValueError) as error:
            return FrameError(
                self.protocol, offset, f"{msg_type} frame unreadable ({error})", self.device_id, frame
            )
        return self._message("other", offset, extra=extra)

    def _position(
        self, fields: list[str], offset: int, extra: dict[str, object], reply: bytes | None
    ) -> Message:
        """V1, V2, V4, V5, V19, VI1...: the position sits around the N/S and E/W fields."""
        anchor = next(
            (
                k
                for k in range(6, len(fields) - 2)
                if fields[k].strip() in ("N", "S") and fields[k + 2].strip() in ("E", "W")
            ),
            None,
        )
        alarms: list[str] = []
        fix: Fix | None = None
        if anchor is None:
            rest = fields[3:]
        else:
            if fields[2].strip() == "V4":
                extra["answer"] = ",".join(fields[3 : anchor - 3])
            clock, validity = fields[anchor - 3].strip(), fields[anchor - 2].strip()
            lat_text, lon_text = fields[anchor - 1], fields[anchor + 1]
            speed = _number(fields[anchor + 3], "speed") if len(fields) > anchor + 3 else 0.0
            course = _number(fields[anchor + 4], "course") if len(fields) > anchor + 4 else 0.0
            rest = fields[anchor + 5 :]
            date = ""
            if rest and len(rest[0].strip()) == 6 and rest[0].strip().isdigit():
                date, rest = rest[0].strip(), rest[1:]
            elif (
                len(rest) > 1
                and rest[0].strip().isdigit()
                and len(rest[1].strip()) == 6
                and rest[1].isdigit()
            ):
                extra["battery"] = int(rest[0])
                date, rest = rest[1].strip(), rest[2:]
            elif rest and not rest[0].strip():
                rest = rest[1:]
            when = _date_time(date, clock, "position")
            if lat_text.strip() and lon_text.strip():
                lat = _coordinate(lat_text, fields[anchor].strip(), "latitude", 90)
                lon = _coordinate(lon_text, fields[anchor + 2].strip(), "longitude", 180)
                if course > 360 or course < 0:
                    raise _Absurd(f"course {course} out of range")
                valid = validity == "A" or validity.isdigit()
                fix = Fix(
                    time=when or self._clock(),
                    lat=lat,
                    lon=lon,
                    valid=valid,
                    source="gps",
                    speed_kmh=speed * KNOTS_TO_KMH,
                    course=course,
                )
        status = next((value.strip() for value in rest if _HEX8.fullmatch(value.strip())), None)
        if status is not None:
            _status(int(status, 16), alarms, extra)
        kind: Kind = "alarm" if alarms else ("position" if fix else "other")
        return self._message(kind, offset, fix=fix, alarms=alarms, reply=reply, extra=extra)

    @staticmethod
    def _report_time(date: str, clock: str, what: str, extra: dict[str, object]) -> datetime | None:
        """The time of a cell or status report, where a bad time is not worth losing the report.

        Such reports carry no coordinates to misplace, and their status word may hold an SOS; a
        real NBR capture says 16:01:69. The fix then gets the receive time, and the reason is kept
        in ``extra["time_error"]``.
        """
        try:
            return _date_time(date.strip(), clock.strip(), what)
        except _Absurd as error:
            extra["time_error"] = str(error)
            return None

    def _cells_fix(self, when: datetime | None, source: Source = "cell") -> Fix:
        return Fix(time=when or self._clock(), lat=None, lon=None, valid=False, source=source)

    def _link(self, fields: list[str], offset: int, extra: dict[str, object]) -> Message:
        """LINK (watches): time, rssi, satellites, battery %, steps, turnovers, date, status."""
        alarms: list[str] = []
        when = self._report_time(fields[9], fields[3], "LINK", extra)
        if when is not None:
            extra["time"] = when
        extra["steps"] = int(fields[7])
        battery = int(fields[6])
        _status(int(fields[10].strip(), 16), alarms, extra)
        return self._message(
            "alarm" if alarms else "heartbeat",
            offset,
            alarms=alarms,
            battery_pct=battery if 0 <= battery <= 100 else None,
            extra=extra,
        )

    def _nbr(self, fields: list[str], offset: int, extra: dict[str, object], reply: bytes | None) -> Message:
        """NBR: time, MCC, MNC, delay, count, count x (LAC, cell id, rssi), date, status."""
        count = int(fields[7])
        index = 8 + 3 * count
        extra["mcc"], extra["mnc"] = int(fields[4]), int(fields[5])
        extra["cells"] = [(int(fields[8 + 3 * i]), int(fields[9 + 3 * i])) for i in range(count)]
        when = self._report_time(fields[index], fields[3], "NBR", extra)
        alarms: list[str] = []
        _status(int(fields[index + 1].strip(), 16), alarms, extra)
        return self._message(
            "alarm" if alarms else "position",
            offset,
            fix=self._cells_fix(when),
            alarms=alarms,
            reply=reply,
            extra=extra,
        )

    def _v3(self, fields: list[str], offset: int, extra: dict[str, object]) -> Message:
        """V3: time, MCC+MNC, count, cells, battery (hex), reboot, X, date, status."""
        marker = max(i for i, value in enumerate(fields) if value.strip() == "X")
        when = self._report_time(fields[marker + 1], fields[3], "V3", extra)
        extra["mcc"], extra["mnc"] = int(fields[4][:3]), int(fields[4][3:])
        alarms: list[str] = []
        _status(int(fields[marker + 2].strip(), 16), alarms, extra)
        return self._message(
            "alarm" if alarms else "position", offset, fix=self._cells_fix(when), alarms=alarms, extra=extra
        )

    def _vp1(self, fields: list[str], offset: int, extra: dict[str, object]) -> Message:
        """VP1: ``V,mcc,mnc,cells`` or ``A|B,lat,N,lon,E,speed,course,ddmmyy`` (a date, no time of day).

        Without a time of day the fix is stamped with the receive time; the device's date is kept
        in ``extra["date"]``.
        """
        if fields[3].strip() == "V":
            extra["mcc"], extra["mnc"] = int(fields[4]), int(fields[5])
            return self._message("position", offset, fix=self._cells_fix(None), extra=extra)
        lat = _coordinate(fields[4], fields[5].strip(), "latitude", 90)
        lon = _coordinate(fields[6], fields[7].strip(), "longitude", 180)
        speed, course = _number(fields[8], "speed"), _number(fields[9], "course")
        if len(fields) > 10 and fields[10].strip():
            day, month, year = _six(fields[10].strip(), "VP1 date")
            extra["date"] = _time(day, month, year, 0, 0, 0, "VP1 date").date()
        fix = Fix(
            time=self._clock(),
            lat=lat,
            lon=lon,
            valid=True,
            source="gps",
            speed_kmh=speed * KNOTS_TO_KMH,
            course=course,
        )
        return self._message("position", offset, fix=fix, extra=extra)

    # ------------------------------------------------------------------ binary

    def _decode_binary(self, head: bytes, offset: int) -> Message | FrameError:
        digits = head.hex()
        if head[0] == 0x58:
            if self.device_id is None:
                return FrameError(self.protocol, offset, "X frame before any device id", None, head)
            return self._message("other", offset, extra={"type": "X", "record": head[-1]})
        start = 6  # byte index of the time with a 5-byte id
        try:
            _date_time(digits[18:24], digits[12:18], "binary")
        except _Absurd as short_error:
            try:
                _date_time(digits[24:30], digits[18:24], "binary")
            except _Absurd:
                return FrameError(self.protocol, offset, str(short_error), self.device_id, head)
            start = 9  # an 8-byte id (15 digits and a filler nibble)
        refused = self._identify(digits[2:12] if start == 6 else digits[2:17], head, offset)
        if refused:
            return refused
        extra: dict[str, object] = {"type": "binary"}
        alarms: list[str] = []
        fix: Fix | None = None
        try:
            t = 2 * start
            when = _date_time(digits[t + 6 : t + 12], digits[t : t + 6], "binary")
            lat_digits, lon_digits = digits[t + 12 : t + 20], digits[t + 22 : t + 31]
            flags = int(digits[t + 31], 16)
            motion = digits[t + 32 : t + 38]
            for name, value in (
                ("latitude", lat_digits),
                ("longitude", lon_digits),
                ("speed/course", motion),
            ):
                if not value.isdigit():
                    raise _Absurd(f"{name} is not BCD ({value})")
            lat = int(lat_digits[:2]) + int(lat_digits[2:]) / 10000 / 60
            lon = int(lon_digits[:3]) + int(lon_digits[3:]) / 10000 / 60
            if int(lat_digits[2:4]) >= 60 or int(lon_digits[3:5]) >= 60:
                raise _Absurd("coordinate minutes out of range")
            if lat > 90:
                raise _Absurd(f"latitude {lat:.6f} out of range")
            if lon > 180:
                raise _Absurd(f"longitude {lon:.6f} out of range")
            course = int(motion[3:])
            if course > 360:
                raise _Absurd(f"course {course} out of range")
            if when is not None:
                fix = Fix(
                    time=when,
                    lat=lat if flags & 0x04 else -lat,
                    lon=lon if flags & 0x08 else -lon,
                    valid=bool(flags & 0x02),
                    source="gps",
                    speed_kmh=int(motion[:3]) * KNOTS_TO_KMH,
                    course=float(course),
                )
            battery = _battery(head[start + 10])
            _status(int.from_bytes(head[start + 19 : start + 23], "big"), alarms, extra)
        except _Absurd as error:
            return FrameError(self.protocol, offset, str(error), self.device_id, head)
        kind: Kind = "alarm" if alarms else ("position" if fix else "other")
        return self._message(kind, offset, fix=fix, alarms=alarms, battery_pct=battery, extra=extra)
