"""The '3G' child-watch protocol (Traccar's "watch"): ``[VENDOR*ID*LEN*CONTENT]`` frames over TCP.

Most cheap children's watches (SeTracker and its many rebrands) speak it, under vendor prefixes such
as ``3G``, ``SG``, ``ZJ`` or ``CS``; ZJ firmware adds a 4-hex message index (``[ZJ*ID*IDX*LEN*...]``)
that must be echoed in replies. ``LEN`` is the length of ``CONTENT`` in bytes, because voice
messages (``TK``) carry AMR audio that may contain any byte. On the wire such bytes are escaped
with ``0x7d`` (``7d 01`` -> ``}``, ``02`` -> ``[``, ``03`` -> ``]``, ``04`` -> ``,``, ``05`` -> ``*``)
and the length counts the unescaped bytes.

Where a frame ends
------------------
Real firmware does not keep its own promise: Traccar's captures hold SG frames three bytes longer
than declared, an ``LK`` one byte shorter, an ``ALCUSTOMER1`` 13 bytes shorter, and (after
Traccar's unescaping) voice data with raw ``[`` and ``]`` inside. So the end is decided this way:

* while the content is plain printable text (no ``[``, no ``}``, no control bytes, and not a
  binary command such as ``TK``), the first ``]`` ends it, whatever the length field says;
* once the content is binary, only a ``]`` met after at least ``LEN`` unescaped bytes ends it.

Either way a disagreement with the length field is reported in ``Message.extra["length_mismatch"]``
(the frame is still decoded: refusing it would drop positions Traccar accepts). The rule looks only
at the bytes of the frame itself, so the outcome never depends on how TCP cut the stream (short of
the 64 KiB limit on what is held waiting for a frame's end).

A ``[`` inside a frame that starts a well-formed header means the frame was cut short (a watch
that reconnected mid-frame): the fragment is reported and decoding resumes at the new frame. Other
bytes outside frames are skipped and reported once per run, with their offset in the connection's
stream, when the next real frame begins (or by :meth:`WatchDecoder.finish`).

Fast paths
----------
At thousands of watches the decoder is a large share of the server's CPU, so the common case has
shortcuts: a plain frame already whole in the buffer is cut by one regular expression (its header
remembered per connection), and position fields of the usual shape are checked by one regular
expression. Each shortcut declines anything unusual, and the general code (the byte-by-byte scan,
the field-by-field decoder) then decides, errors included; property tests hold the shortcuts to
give exactly what the general code gives.

Statuses and alarms
-------------------
Positions (``UD``, ``UD2``, ``UD3``, ``UD_LTE``, ``UD_WCDMA``, ``WT``) and alarms (``AL``,
``ALCUSTOMER*``) carry a 32-bit status word in hex. The high half holds alarm events, the low
half the watch's standing state. The mapping used here (the same bits as Traccar's decoder):

====  ==================  =============================================================
bit   name                used as
====  ==================  =============================================================
0     low battery state   alarm ``low_battery`` in AL frames only; ``extra["low_battery"]``
1     outside a fence     alarm ``geofence_exit`` in AL frames only
2     inside a fence      alarm ``geofence_enter`` in AL frames only
4     moving              ``extra["motion"] = True``
14    power cut           alarm ``power_cut`` in AL frames only
16    SOS key             alarm ``sos``
17    low battery         alarm ``low_battery``
18    left a fence        alarm ``geofence_exit``
19    entered a fence     alarm ``geofence_enter``
20    watch taken off     alarm ``removal``
21    fall                alarm ``fall``
22    fall (other FW)     alarm ``fall``
====  ==================  =============================================================

The low-half states are only turned into alarms inside an AL frame (where they say why the watch
raised it): a periodic ``UD`` report with the low-battery state set would otherwise raise a new
alarm every few minutes. An AL frame whose status names no alarm at all is reported as ``sos``:
on these watches the SOS key is what sends a bare AL, and a child pressing it indoors has no fix,
so an AL with ``V`` and 0,0 is still an SOS (with a Fix whose ``valid`` is False).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from smartseoul.tracking.protocols import Fix, FrameError, Kind, Message, Source

PROTOCOL = "watch"
MAX_BUFFER = 64 * 1024  # bytes held without a complete frame before the buffer is discarded
MAX_VENDOR = 8
MAX_ID = 32
MAX_RAW = 1024  # bytes of a bad frame kept in FrameError.raw
MAX_SPEED_KMH = 1600.0  # Traccar's own sanity limit (869 knots); a watch is never faster

_ESCAPES = {0x01: 0x7D, 0x02: 0x5B, 0x03: 0x5D, 0x04: 0x2C, 0x05: 0x2A}
_BINARY_COMMANDS = frozenset({b"TK", b"JXTK", b"img"})
_HEX = frozenset(b"0123456789abcdefABCDEF")
# printable ASCII but '[' (0x5b), ']' (0x5d) and '}' (0x7d): content that keeps a frame "texty"
_PLAIN = re.compile(rb"[\x20-\x5a\x5c\x5e-\x7c\x7e]*")
_VENDOR_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ID_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

ALARM_BITS: dict[int, str] = {
    16: "sos",
    17: "low_battery",
    18: "geofence_exit",
    19: "geofence_enter",
    20: "removal",
    21: "fall",
    22: "fall",
}
AL_STATE_BITS: dict[int, str] = {0: "low_battery", 1: "geofence_exit", 2: "geofence_enter", 14: "power_cut"}
MOTION_BIT = 4
_EVENT_MASK = sum(1 << bit for bit in ALARM_BITS)

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]*)?")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}")
_DECIMAL = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() and \d accept "¹", int() does not
_SIGNED = re.compile(r"-?[0-9]+")
_HEXNUM = re.compile(r"[0-9A-Fa-f]+")

# A whole frame whose content is plain text (see _PLAIN), already complete in the buffer: the header
# fields exactly as _parse_header accepts them (the index is there iff two 4-hex fields follow the
# identifier), then the content up to the first ']'. Backtracking out of the index reading can only
# make the content longer by "HHHH*", which is plain too, so it never matches a frame that the
# byte-by-byte path would cut differently.
_WHOLE_PLAIN_FRAME = re.compile(
    rb"(\[([A-Z0-9]{1,8})\*([A-Za-z0-9_-]{1,32})\*(?:([0-9A-Fa-f]{4})\*)?([0-9A-Fa-f]{4})\*)"
    rb"([\x20-\x5a\x5c\x5e-\x7c\x7e]*+)\]"
)
_UNSIGNED = r"[0-9]+(?:\.[0-9]*)?"
_REAL = r"-?" + _UNSIGNED
# The first 16 position fields in the shape watches send them (no spaces, well-formed numbers): one
# match validates them all at C speed. Anything else (spaces, an odd value, a field to refuse) goes
# to the general path, which alone decides errors and their wording.
_POSITION_SHAPE = re.compile(
    r"([0-9]{6}),([0-9]{6}),([AV]),"
    rf"({_REAL}),([NS]?),({_REAL}),([EW]?),"
    rf"({_REAL})?,({_REAL})?,({_REAL})?,"
    r"([0-9]*),([0-9]*),([0-9]*),([0-9]*),[^,]*,([0-9A-Fa-f]*)(,|\Z)"
)
_DATES: dict[str, tuple[int, int, int] | None] = {}  # "ddmmyy" -> (year, month, day), None if impossible
_MAX_DATES = 4096
_MAX_HEADERS = 64  # distinct headers (vendor, id, index, length) remembered per connection


class _BadField(ValueError):
    """A field of a well-framed message holds a value that cannot be true; names the field."""

    def __init__(self, name: str, value: str, why: str = "unreadable") -> None:
        super().__init__(f"{why} {name} {value[:40]!r}")
        self.name = name


@dataclass(frozen=True)
class _Header:
    vendor: str
    device_id: str
    index: str | None
    length: int
    content_start: int  # offset of CONTENT from the frame's '['


@dataclass
class _Scan:
    """Progress through the content of the frame at the start of the buffer (kept across feeds)."""

    header: _Header
    pos: int
    count: int = 0
    texty: bool = True
    command_seen: bool = False
    content: bytearray = field(default_factory=bytearray)


def _parse_header(buf: bytes | bytearray, start: int) -> _Header | str | None:
    """The header of the frame whose '[' is at ``start``: a header, why it is none, or None for 'wait'.

    The fields have bounded sizes, so a header is accepted or refused within ~60 bytes: garbage
    never makes the decoder wait long.
    """
    end = len(buf)
    i = start + 1
    begin = i
    while True:
        if i >= end:
            return None if i - begin <= MAX_VENDOR else "vendor prefix too long"
        b = buf[i]
        if b == 0x2A:
            break
        if b not in _VENDOR_CHARS or i - begin >= MAX_VENDOR:
            return "no vendor prefix"
        i += 1
    if i == begin:
        return "empty vendor prefix"
    vendor = bytes(buf[begin:i]).decode("ascii")
    i += 1
    begin = i
    while True:
        if i >= end:
            return None
        b = buf[i]
        if b == 0x2A:
            break
        if b not in _ID_CHARS or i - begin >= MAX_ID:
            return "no device identifier"
        i += 1
    if i == begin:
        return "empty device identifier"
    device_id = bytes(buf[begin:i]).decode("ascii")
    i += 1
    first = _hex_field(buf, i)
    if first is None:
        return None
    if first is False:
        return "no 4-hex-digit length field"
    i += 5
    second = _hex_field(buf, i)
    if second is None:
        return None
    if second is True:  # ZJ style: an index, then the length
        index: str | None = bytes(buf[i - 5 : i - 1]).decode("ascii")
        length = int(bytes(buf[i : i + 4]), 16)
        i += 5
    else:
        index = None
        length = int(bytes(buf[i - 5 : i - 1]), 16)
    return _Header(vendor, device_id, index, length, i - start)


def _header_of(match: re.Match[bytes]) -> _Header:
    """The header that :func:`_parse_header` gives for a frame :data:`_WHOLE_PLAIN_FRAME` matched."""
    vendor, device, index, length = match.group(2, 3, 4, 5)
    return _Header(
        vendor.decode("ascii"),
        device.decode("ascii"),
        None if index is None else index.decode("ascii"),
        int(length, 16),
        match.end(1),
    )


def _hex_field(buf: bytes | bytearray, i: int) -> bool | None:
    """Whether ``buf[i:i+5]`` is 4 hex digits and '*'; None while the bytes seen so far could be."""
    for k in range(5):
        if i + k >= len(buf):
            return None
        b = buf[i + k]
        if (k < 4 and b not in _HEX) or (k == 4 and b != 0x2A):
            return False
    return True


class WatchDecoder:
    """Decoder of one watch connection: buffers bytes, cuts frames, answers what must be answered."""

    protocol = PROTOCOL

    def __init__(self) -> None:
        self._buf = bytearray()
        self._consumed = 0  # stream offset of self._buf[0]
        self._scan: _Scan | None = None
        self._garbage_at: int | None = None
        self._garbage_len = 0
        self._garbage_raw = bytearray()
        self._garbage_why = ""
        self._device: str | None = None
        self._audio = bytearray()
        self._headers: dict[bytes, _Header] = {}

    # ------------------------------------------------------------ framing

    def feed(self, data: bytes) -> list[Message | FrameError]:
        """Decode what ``data`` completes; keep the rest for the next read."""
        self._buf += data
        out: list[Message | FrameError] = []
        while self._buf:
            if self._scan is None:
                if self._buf[0] != 0x5B:
                    start = self._buf.find(b"[")
                    self._skip(len(self._buf) if start < 0 else start, "bytes outside any frame")
                    continue
                if self._whole_plain_frame(out):
                    continue
                header = _parse_header(self._buf, 0)
                if header is None:
                    break
                if isinstance(header, str):
                    self._skip(1, f"'[' without a frame header ({header})")
                    continue
                self._flush_garbage(out)
                self._scan = _Scan(header, header.content_start)
            if not self._advance(out):
                break
        self._check_overflow(out)
        return out

    def finish(self) -> list[FrameError]:
        """What is left when the connection closes: unreported garbage and a frame cut short."""
        out: list[Message | FrameError] = []
        self._flush_garbage(out)
        if self._buf:
            out.append(
                self._error(
                    self._consumed,
                    f"connection closed inside a frame ({len(self._buf)} bytes)",
                    bytes(self._buf),
                )
            )
        self._buf.clear()
        self._scan = None
        return [item for item in out if isinstance(item, FrameError)]

    def _advance(self, out: list[Message | FrameError]) -> bool:
        """Scan the current frame's content; False when more bytes are needed."""
        scan = self._scan
        assert scan is not None
        buf = self._buf
        if scan.count == 0 and self._plain_frame(scan, out):
            return True
        length = scan.header.length
        while scan.pos < len(buf):
            b = buf[scan.pos]
            if b == 0x5D and (scan.texty or scan.count >= length):
                end = scan.pos + 1
                frame = bytes(buf[:end])
                content = bytes(scan.content)
                offset = self._consumed
                del buf[:end]
                self._consumed += end
                self._scan = None
                out.extend(self._decode(scan.header, content, offset, frame))
                return True
            if b == 0x5B:
                header = _parse_header(buf, scan.pos)
                if header is None:
                    return False
                if isinstance(header, _Header):  # a new frame starts: this one was cut short
                    cut = scan.pos
                    out.append(
                        self._error(
                            self._consumed,
                            f"frame cut short: a new frame starts at byte {self._consumed + cut}",
                            bytes(buf[:cut]),
                            scan.header.device_id,
                        )
                    )
                    del buf[:cut]
                    self._consumed += cut
                    self._scan = None
                    return True
                scan.texty = False
            if b == 0x7D:
                if scan.pos + 1 >= len(buf):
                    return False
                unescaped = _ESCAPES.get(buf[scan.pos + 1])
                if unescaped is not None:
                    scan.content.append(unescaped)
                    scan.pos += 2
                else:  # Traccar's captures hold unescaped '}' bytes: keep them as they are
                    scan.content.append(b)
                    scan.pos += 1
                scan.count += 1
                scan.texty = False
                continue
            if b == 0x2C and not scan.command_seen:
                scan.command_seen = True
                if bytes(scan.content) in _BINARY_COMMANDS:
                    scan.texty = False
            elif not 0x20 <= b < 0x7F:
                scan.texty = False
            scan.content.append(b)
            scan.count += 1
            scan.pos += 1
        return False

    def _plain_frame(self, scan: _Scan, out: list[Message | FrameError]) -> bool:
        """The common case in one step: a frame whose whole content is plain printable text
        (no ``[``, ``]``, ``}`` or control byte, not a binary command) already in the buffer ends
        at the first ``]``, exactly as the byte-by-byte scan of :meth:`_advance` would decide;
        found with one regular expression instead of a Python loop over every byte (which was
        most of the decoding time). False, with nothing consumed, for anything else."""
        buf = self._buf
        start = scan.pos
        match = _PLAIN.match(buf, start)
        end = match.end() if match else start
        if end >= len(buf) or buf[end] != 0x5D:
            return False
        content = bytes(buf[start:end])
        comma = content.find(b",")
        if comma >= 0 and content[:comma] in _BINARY_COMMANDS:
            return False
        frame = bytes(buf[: end + 1])
        offset = self._consumed
        del buf[: end + 1]
        self._consumed += end + 1
        self._scan = None
        out.extend(self._decode(scan.header, content, offset, frame))
        return True

    def _whole_plain_frame(self, out: list[Message | FrameError]) -> bool:
        """The common case before any per-frame state exists: a plain frame (see
        :meth:`_plain_frame`) wholly in the buffer, header and content cut by one regular
        expression, the header's fields remembered per connection (a watch repeats them in every
        frame). It decides exactly what :func:`_parse_header` and :meth:`_plain_frame` would, and
        profiling showed those two to be a quarter of the decoding time. False, with nothing
        consumed, for anything else: the general path then takes the frame."""
        buf = self._buf
        match = _WHOLE_PLAIN_FRAME.match(buf)
        if match is None:
            return False
        content = match.group(6)
        comma = content.find(b",")
        if comma >= 0 and content[:comma] in _BINARY_COMMANDS:
            return False
        raw_header = match.group(1)
        header = self._headers.get(raw_header)
        if header is None:
            header = _header_of(match)
            if len(self._headers) >= _MAX_HEADERS:
                self._headers.clear()
            self._headers[raw_header] = header
        self._flush_garbage(out)
        frame = match.group(0)  # before the bytes it is read from go
        end = match.end()
        offset = self._consumed
        del buf[:end]
        self._consumed += end
        out.extend(self._decode(header, content, offset, frame))
        return True

    def _skip(self, count: int, why: str) -> None:
        """Drop ``count`` bytes as garbage; one FrameError per run, sent when a real frame resumes."""
        if count <= 0:
            return
        if self._garbage_at is None:
            self._garbage_at = self._consumed
            self._garbage_why = why
        self._garbage_len += count
        room = 64 - len(self._garbage_raw)
        if room > 0:
            self._garbage_raw += self._buf[: min(count, room)]
        del self._buf[:count]
        self._consumed += count

    def _flush_garbage(self, out: list[Message | FrameError]) -> None:
        if self._garbage_at is None:
            return
        out.append(
            self._error(
                self._garbage_at,
                f"skipped {self._garbage_len} bytes of garbage "
                f"(bytes {self._garbage_at}-{self._garbage_at + self._garbage_len - 1}): "
                f"{self._garbage_why}",
                bytes(self._garbage_raw),
            )
        )
        self._garbage_at = None
        self._garbage_len = 0
        self._garbage_raw = bytearray()
        self._garbage_why = ""

    def _check_overflow(self, out: list[Message | FrameError]) -> None:
        """Never hold more than 64 KiB waiting for a frame: a broken or hostile peer costs no memory."""
        if self._garbage_len > MAX_BUFFER:
            self._flush_garbage(out)
        if len(self._buf) > MAX_BUFFER:
            device = self._scan.header.device_id if self._scan else None
            out.append(
                self._error(
                    self._consumed,
                    f"discarded {len(self._buf)} bytes: no complete frame within {MAX_BUFFER} bytes",
                    bytes(self._buf[:64]),
                    device,
                )
            )
            self._consumed += len(self._buf)
            self._buf.clear()
            self._scan = None

    def _error(self, offset: int, reason: str, raw: bytes = b"", device: str | None = None) -> FrameError:
        return FrameError(PROTOCOL, offset, reason, device or self._device, raw[:MAX_RAW])

    # ------------------------------------------------------------ messages

    def _decode(
        self, header: _Header, content: bytes, offset: int, frame: bytes
    ) -> list[Message | FrameError]:
        self._device = header.device_id
        ctx = _Frame(header, content, offset, frame)
        command, body, text = ctx.command, ctx.body, ctx.body.decode("latin-1")
        if command == "LK":
            values = text.split(",") if text else []
            battery: int | None = None
            if len(values) >= 3:
                ctx.extra["steps"] = _opt_int(values[0])
                ctx.extra["rolls"] = _opt_int(values[1])
                battery = _battery(values[2])
            elif values:
                ctx.extra["values"] = values
            return [ctx.message("heartbeat", battery=battery, reply=ctx.reply("LK"))]
        if command == "INIT":
            return [ctx.message("login", reply=ctx.reply("INIT,1"))]
        if command.startswith(("UD", "WT", "AL")):
            return self._position(ctx, text)
        if command in ("TKQ", "TKQ2"):
            return [ctx.message("other", reply=ctx.reply(command))]
        if command.upper() in ("PULSE", "HEART", "BLOOD", "BPHRT", "TEMP", "BTEMP2", "OXYGEN"):
            try:
                ctx.extra.update(_health(command.upper(), text))
            except _BadField as error:
                return [ctx.bad(error)]
            return [ctx.message("other")]
        if command == "TK":
            if len(body) > 1:  # 'TK,1' is the watch acknowledging a voice message, not audio
                ctx.extra["audio"] = body
                ctx.extra["audio_format"] = "amr"
            return [ctx.message("other")]
        if command == "JXTK":
            return [self._voice_part(ctx)]
        if body:
            ctx.extra["content"] = text if body.isascii() else body
        return [ctx.message("other")]

    def _position(self, ctx: _Frame, text: str) -> list[Message | FrameError]:
        is_alarm = ctx.command.startswith("AL")
        answer = ctx.reply("AL") if is_alarm else None
        try:
            fix, status, battery, details = _decode_position(text)
        except _BadField as error:
            if not is_alarm:
                return [ctx.bad(error)]
            # An alarm is never lost to a bad clock or field: raise it without a position.
            ctx.extra["position_error"] = str(error)
            return [ctx.bad(error), ctx.message("alarm", alarms=("sos",), reply=answer)]
        ctx.extra.update(details)
        alarms = _alarms(status, is_alarm)
        kind: Kind = "alarm" if alarms else "position"
        return [ctx.message(kind, fix=fix, alarms=alarms, battery=battery, reply=answer)]

    def _voice_part(self, ctx: _Frame) -> Message | FrameError:
        """One part of a multi-part voice upload (``JXTK,name,?,current,total,AMR``): join the parts."""
        parts = ctx.body.split(b",", 4)
        if len(parts) < 5:
            return ctx.bad(_BadField("voice header", ctx.body[:40].decode("latin-1"), "incomplete"))
        try:
            current, total = int(parts[2]), int(parts[3])
        except ValueError:
            return ctx.bad(_BadField("voice part number", ctx.body[:40].decode("latin-1")))
        self._audio += parts[4]
        if len(self._audio) > MAX_BUFFER * 16:
            self._audio = bytearray()
            return ctx.bad(_BadField("voice message", "", "too long (over 1 MiB)"))
        ctx.extra["part"] = current
        ctx.extra["parts"] = total
        if current >= total:
            ctx.extra["audio"] = bytes(self._audio)
            ctx.extra["audio_format"] = "amr"
            self._audio = bytearray()
        return ctx.message("other", reply=ctx.reply("JXTKR,1"))


class _Frame:
    """One cut frame: its header, command and body, and how to answer or refuse it."""

    def __init__(self, header: _Header, content: bytes, offset: int, frame: bytes) -> None:
        self.header = header
        self.offset = offset
        self.frame = frame
        comma = content.find(b",")
        self.command = (content if comma < 0 else content[:comma]).decode("latin-1")
        self.body = b"" if comma < 0 else content[comma + 1 :]
        self.extra: dict[str, object] = {"vendor": header.vendor, "command": self.command}
        if header.index is not None:
            self.extra["index"] = header.index
        if len(content) != header.length:
            self.extra["length_mismatch"] = {"declared": header.length, "actual": len(content)}

    def reply(self, text: str) -> bytes:
        """``[VENDOR*ID*(IDX*)LEN*TEXT]``: the watch resends (or hangs up) until it gets this."""
        h = self.header
        index = f"{h.index}*" if h.index is not None else ""
        return f"[{h.vendor}*{h.device_id}*{index}{len(text):04x}*{text}]".encode("ascii")

    def message(
        self,
        kind: Kind,
        *,
        fix: Fix | None = None,
        alarms: tuple[str, ...] = (),
        battery: int | None = None,
        reply: bytes | None = None,
    ) -> Message:
        return Message(
            PROTOCOL,
            self.header.device_id,
            kind,
            self.offset,
            fix=fix,
            alarms=alarms,
            battery_pct=battery,
            reply=reply,
            extra=self.extra,
        )

    def bad(self, error: _BadField) -> FrameError:
        return FrameError(
            PROTOCOL, self.offset, f"{self.command}: {error}", self.header.device_id, self.frame[:MAX_RAW]
        )


# ------------------------------------------------------------ fields


def _opt_int(value: str) -> int | None:
    value = value.strip()
    return int(value) if _DECIMAL.fullmatch(value) else None


def _battery(value: str) -> int | None:
    """Battery percent; out-of-range readings are dropped (a bad gauge must not cost the frame)."""
    number = _opt_int(value)
    return number if number is not None and 0 <= number <= 100 else None


def _number(name: str, value: str, *, required: bool = False) -> float | None:
    value = value.strip()
    if not value:
        if required:
            raise _BadField(name, value, "missing")
        return None
    if not _NUMBER.fullmatch(value):
        raise _BadField(name, value)
    number = float(value)
    if not math.isfinite(number):
        raise _BadField(name, value)
    return number


def _time(date: str, clock: str) -> datetime:
    if len(date) != 6 or not _DECIMAL.fullmatch(date):
        raise _BadField("date", date)
    if len(clock) != 6 or not _DECIMAL.fullmatch(clock):
        raise _BadField("time", clock)
    day, month, year = int(date[:2]), int(date[2:4]), 2000 + int(date[4:])
    hour, minute, second = int(clock[:2]), int(clock[2:4]), int(clock[4:])
    if not 1 <= month <= 12:
        raise _BadField("month", date, "impossible")
    if hour > 23 or minute > 59 or second > 59:
        raise _BadField("time", clock, "impossible")
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise _BadField("day", date, "impossible") from None


def _coordinate(name: str, value: str, hemisphere: str, negative: str, positive: str, limit: float) -> float:
    """Degrees; a S/W hemisphere makes the value negative, a signed value with N/E keeps its sign."""
    number = _number(name, value, required=True)
    assert number is not None
    hemisphere = hemisphere.strip()
    if hemisphere == negative:
        number = -abs(number)
    elif hemisphere not in (positive, ""):
        raise _BadField(f"{name} hemisphere", hemisphere)
    if abs(number) > limit:
        raise _BadField(name, value, "impossible")
    return number


_Position = tuple[Fix, int, int | None, dict[str, object]]


def _decode_position(text: str) -> _Position:
    """The fields of UD/WT/AL: fix, status word, battery, and the details worth keeping."""
    common = _common_position(text)
    return common if common is not None else _any_position(text)


def _date_part(date: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a 6-digit "ddmmyy", None if no such day. Remembered (a bounded table
    shared by all connections), because every frame of a day repeats it and checking it means
    building and dropping a datetime."""
    try:
        return _DATES[date]
    except KeyError:
        pass
    day, month, year = int(date[:2]), int(date[2:4]), 2000 + int(date[4:])
    part: tuple[int, int, int] | None = (year, month, day)
    try:
        datetime(year, month, day)
    except ValueError:
        part = None
    if len(_DATES) >= _MAX_DATES:
        _DATES.clear()
    _DATES[date] = part
    return part


def _common_position(text: str) -> _Position | None:
    """:func:`_any_position` for the shape nearly every frame has (see ``_POSITION_SHAPE``), with
    one regular expression in place of a check per field; None, for the general path to decide,
    whenever the shape or a value is not the plain valid case. It must give exactly what
    :func:`_any_position` gives (a property test holds it to that)."""
    match = _POSITION_SHAPE.match(text)
    if match is None:
        return None
    (
        date,
        clock,
        validity,
        lat_text,
        north_south,
        lon_text,
        east_west,
        speed_text,
        course_text,
        altitude_text,
        satellites_text,
        rssi_text,
        battery_text,
        steps_text,
        status_text,
        more,
    ) = match.groups()
    day_part = _date_part(date)
    hour, minute, second = int(clock[:2]), int(clock[2:4]), int(clock[4:])
    if day_part is None or hour > 23 or minute > 59 or second > 59:
        return None
    lat, lon = float(lat_text), float(lon_text)
    if north_south == "S":
        lat = -abs(lat)
    if east_west == "W":
        lon = -abs(lon)
    speed = None if speed_text is None else float(speed_text)
    if abs(lat) > 90.0 or abs(lon) > 180.0 or (speed is not None and speed > MAX_SPEED_KMH):
        return None
    if speed is not None and speed < 0:
        speed = None
    course = None if course_text is None else float(course_text)
    if course is not None and not 0 <= course <= 360:
        course = None
    details: dict[str, object] = {}
    if rssi_text:
        details["gsm_signal"] = int(rssi_text)
    battery = int(battery_text) if battery_text else None
    if battery is not None and battery > 100:
        battery = None
    if steps_text:
        details["steps"] = int(steps_text)
    return _assemble(
        _Read(
            datetime(*day_part, hour, minute, second, tzinfo=UTC),
            validity == "A",
            lat,
            lon,
            speed,
            course,
            None if altitude_text is None else float(altitude_text),
            int(satellites_text) if satellites_text else None,
            battery,
        ),
        status_text,
        text[match.end() :].split(",") if more else [],
        details,
    )


def _any_position(text: str) -> _Position:
    """:func:`_decode_position` field by field: any layout, and the error that names a bad field."""
    values = text.split(",")
    if len(values) < 16:
        raise _BadField("position", text, f"only {len(values)} fields in")
    time = _time(values[0].strip(), values[1].strip())
    validity = values[2].strip()
    if validity not in ("A", "V"):
        raise _BadField("validity", validity)
    lat = _coordinate("latitude", values[3], values[4], "S", "N", 90.0)
    lon = _coordinate("longitude", values[5], values[6], "W", "E", 180.0)
    speed = _number("speed", values[7])
    if speed is not None and speed > MAX_SPEED_KMH:
        raise _BadField("speed", values[7], "impossible")
    if speed is not None and speed < 0:
        speed = None
    course = _number("course", values[8])
    if course is not None and not 0 <= course <= 360:
        course = None
    altitude = _number("altitude", values[9])
    satellites = _opt_int(values[10])
    details: dict[str, object] = {}
    rssi = _opt_int(values[11])
    if rssi is not None:
        details["gsm_signal"] = rssi
    battery = _battery(values[12])
    steps = _opt_int(values[13])
    if steps is not None:
        details["steps"] = steps
    status_text = values[15].strip()
    if status_text and not _HEXNUM.fullmatch(status_text):
        raise _BadField("status", status_text)
    read = _Read(time, validity == "A", lat, lon, speed, course, altitude, satellites, battery)
    return _assemble(read, status_text, values[16:], details)


class _Read(NamedTuple):
    """The fields both position readers get out of the text, before the common rules."""

    time: datetime
    valid: bool
    lat: float
    lon: float
    speed: float | None
    course: float | None
    altitude: float | None
    satellites: int | None
    battery: int | None


def _assemble(read: _Read, status_text: str, network: list[str], details: dict[str, object]) -> _Position:
    """What both position readers do with the fields they read: the status bits, the network
    around, and the watch's way of saying "no position at all" (0,0)."""
    status = int(status_text, 16) if status_text else 0
    details["status"] = status_text
    if status >> MOTION_BIT & 1:
        details["motion"] = True
    if status & 1:
        details["low_battery"] = True
    cells, wifi = _network(network)
    if cells:
        details["cells"] = cells
    if wifi:
        details["wifi"] = wifi
    valid = read.valid
    point: tuple[float | None, float | None] = (read.lat, read.lon)
    if read.lat == 0 and read.lon == 0:
        point = (None, None)
        valid = False
    source: Source = "gps"
    if not valid:
        source = "wifi" if wifi else "cell" if cells else "none"
    fix = Fix(
        time=read.time,
        lat=point[0],
        lon=point[1],
        valid=valid,
        source=source,
        speed_kmh=read.speed,
        course=read.course,
        altitude_m=read.altitude,
        satellites=read.satellites,
    )
    return fix, status, read.battery, details


def _network(values: list[str]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Cell towers and Wi-Fi access points after the status word; whatever does not parse is skipped.

    Two layouts occur: ``n,ta,mcc,mnc,(lac,cid,rssi)*n,m,(ssid,mac,rssi)*m,...`` and, with no cell,
    ``0,m,(ssid,mac,rssi)*m,...`` (3G) or ``0,ta,mcc,mnc,m,...`` (SG). Each layout is tried and
    checked (MAC addresses, numbers), so a guess never invents a tower or an access point.
    """
    if not values or not _DECIMAL.fullmatch(values[0].strip()):
        return [], []
    count = int(values[0])
    if count == 0 and len(values) < 5:
        return [], []  # no cell, and no room for an access point in either layout: the usual tail
    cells: list[dict[str, object]] = []
    if count > 0:
        parsed = _cells(values, count)
        if parsed is None:
            return [], []
        cells = parsed
        wifi = _wifi(values, 4 + 3 * count)
    else:
        wifi = _wifi(values, 1) or _wifi(values, 4)
    return cells, wifi or []


def _cells(values: list[str], count: int) -> list[dict[str, object]] | None:
    if len(values) < 4 + 3 * count:
        return None
    mcc, mnc = values[2].strip(), values[3].strip()
    if not (_DECIMAL.fullmatch(mcc) and _DECIMAL.fullmatch(mnc)):
        return None  # e.g. FFFF,FFFF: the watch has no network identity to give
    cells: list[dict[str, object]] = []
    for k in range(count):
        lac, cid, rssi = (v.strip() for v in values[4 + 3 * k : 7 + 3 * k])
        if not (_HEXNUM.fullmatch(lac) and _HEXNUM.fullmatch(cid)):
            return None
        cell: dict[str, object] = {
            "mcc": int(mcc),
            "mnc": int(mnc),
            "lac": int(lac, 10 if _DECIMAL.fullmatch(lac) else 16),
            "cid": int(cid, 10 if _DECIMAL.fullmatch(cid) else 16),
        }
        if _SIGNED.fullmatch(rssi):
            cell["rssi"] = int(rssi)
        cells.append(cell)
    return cells


def _wifi(values: list[str], at: int) -> list[dict[str, object]] | None:
    if at >= len(values) or not _DECIMAL.fullmatch(values[at].strip()):
        return None
    count = int(values[at])
    if count == 0 or len(values) < at + 1 + 3 * count:
        return None
    points: list[dict[str, object]] = []
    for k in range(count):
        ssid, mac, rssi = values[at + 1 + 3 * k : at + 4 + 3 * k]
        if not _MAC.fullmatch(mac.strip()) or not _SIGNED.fullmatch(rssi.strip()):
            return None
        points.append({"ssid": ssid, "mac": mac.strip().lower().replace("-", ":"), "rssi": int(rssi)})
    return points


def _alarms(status: int, is_alarm: bool) -> tuple[str, ...]:
    """Alarm names from the status word (see the module docstring for the bits and why)."""
    if not is_alarm and not status & _EVENT_MASK:
        return ()  # the periodic report of a watch with nothing to say: most frames
    names: list[str] = []
    bits = dict(ALARM_BITS)
    if is_alarm:
        bits.update(AL_STATE_BITS)
    for bit in sorted(bits):
        if status >> bit & 1 and bits[bit] not in names:
            names.append(bits[bit])
    if is_alarm and not names:
        names.append("sos")
    return tuple(names)


def _health(command: str, text: str) -> dict[str, object]:
    """Health readings: heart rate, blood pressure, body temperature, blood oxygen."""
    values = [v.strip() for v in text.split(",")]
    out: dict[str, object] = {}
    if command in ("TEMP", "BTEMP2"):
        if command == "BTEMP2":
            if not _DECIMAL.fullmatch(values[0]):
                raise _BadField("temperature flag", values[0])
            if int(values[0]) == 0 or len(values) < 2:
                return out
            values = values[1:]
        temperature = _number("temperature", values[0], required=True)
        assert temperature is not None
        if not -40 <= temperature <= 100:
            raise _BadField("temperature", values[0], "impossible")
        out["temperature_c"] = temperature
        return out
    if command == "OXYGEN":
        if len(values) > 1 and values[1]:
            out["blood_oxygen"] = _reading("blood oxygen", values[1], 0, 100)
        return out
    index = 0
    if command in ("BLOOD", "BPHRT"):
        if len(values) < 2:
            raise _BadField("blood pressure", text, "incomplete")
        out["pressure_high"] = _reading("systolic pressure", values[0], 0, 300)
        out["pressure_low"] = _reading("diastolic pressure", values[1], 0, 300)
        index = 2
    if index < len(values) and values[index]:
        rate = _reading("heart rate", values[index], 0, 300)
        if rate > 0:  # 0 is what a watch sends when it is not worn: no reading, not a dead child
            out["heart_rate"] = rate
        else:
            out["no_reading"] = True
    return out


def _reading(name: str, value: str, low: int, high: int) -> int:
    if not _DECIMAL.fullmatch(value):
        raise _BadField(name, value)
    number = int(value)
    if not low <= number <= high:
        raise _BadField(name, value, "impossible")
    return number
