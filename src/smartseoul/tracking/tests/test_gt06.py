"""The GT06 decoder against Traccar's real device captures, and against a hostile stream.

captures/gt06.tsv holds the frames of Traccar's Gt06ProtocolDecoderTest and Gt06FrameDecoderTest
(see captures/SOURCES.md). Each row says what Traccar expects; these tests hold the decoder to the
same expectations, except that we check the CRC Traccar ignores: the 33 rows listed in
NONCONFORMING break GT06 framing and must give a clean FrameError instead.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartseoul.tracking.protocols import FrameError, Message
from smartseoul.tracking.protocols.buffered import MAX_BUFFER
from smartseoul.tracking.protocols.gt06 import Gt06Decoder, build_frame, crc_itu

CAPTURES = Path(__file__).parent / "captures" / "gt06.tsv"
CLOCK = datetime(2024, 5, 1, 12, 30, 45, tzinfo=UTC)
# Rows (1-based line numbers of gt06.tsv) whose bytes break GT06 framing in Traccar's own test data:
# bad CRC, cut short, or a length byte of 0 (list from the transcription's CRC check).
NONCONFORMING = frozenset(
    {
        7,
        8,
        9,
        10,
        24,
        42,
        48,
        49,
        71,
        72,
        73,
        74,
        75,
        76,
        77,
        78,
        79,
        87,
        117,
        127,
        131,
        132,
        133,
        137,
        138,
        139,
        140,
        141,
        142,
        143,
        144,
        145,
        146,
    }
)
LOGIN = bytes.fromhex("78780d01086471700328358100093f040d0a")  # row 2: IMEI 0864717003283581, serial 9
IMEI = "864717003283581"
HEARTBEAT = bytes.fromhex("78780a13c40604000201298f5b0d0a")  # row 94: serial 0x0129
GPS = bytes.fromhex("78781f120f0a140e150bc505e51e780293a9e800540000f601006e0055da00035f240d0a")  # row 115
# Traccar name -> our normalised alarm, or the name kept in extra["device_alarms"].
ALARMS = {"sos": "sos", "tampering": "tamper", "lowBattery": "low_battery", "removing": "removal"}
DEVICE_ALARMS = {
    "general": "general",
    "hardAcceleration": "acceleration",
    "hardBraking": "braking",
    "accident": "accident",
}


@dataclass(frozen=True)
class Capture:
    row: int
    payload: bytes
    expectation: str
    note: str

    @property
    def name(self) -> str:
        return f"row{self.row}-" + self.note.split(";")[0].split(" (")[0].replace(
            "DecoderTest.testDecode case ", "-"
        )

    @property
    def conforming(self) -> bool:
        return self.row not in NONCONFORMING

    @property
    def is_login(self) -> bool:
        return self.payload[:2] == b"xx" and self.payload[3] == 0x01


def load() -> list[Capture]:
    rows = []
    for number, line in enumerate(CAPTURES.read_text(encoding="utf-8").splitlines(), start=1):
        kind, payload, expectation, note = line.split("\t")
        assert kind == "hex"
        rows.append(Capture(number, bytes.fromhex(payload), expectation, note))
    return rows


ALL = load()
DECODER_ROWS = [c for c in ALL if not c.expectation.startswith("frame=")]
FRAME_ROWS = [c for c in ALL if c.expectation.startswith("frame=")]
GOOD = [c for c in DECODER_ROWS if c.conforming and not c.expectation.startswith("verifyNull")]
NULL = [c for c in DECODER_ROWS if c.conforming and c.expectation.startswith("verifyNull")]
BAD = [c for c in ALL if not c.conforming]


def ids(captures: list[Capture]) -> list[str]:
    return [c.name for c in captures]


def decoder() -> Gt06Decoder:
    return Gt06Decoder(clock=lambda: CLOCK)


def run(*chunks: bytes, finish: bool = True) -> list[Message | FrameError]:
    d = decoder()
    out: list[Message | FrameError] = []
    for chunk in chunks:
        out += d.feed(chunk)
    if finish:
        out += d.finish()
    return out


def after_login(payload: bytes) -> list[Message | FrameError]:
    """Decode a capture on a connection that has logged in (Traccar's tests assume a device)."""
    items = run(LOGIN, payload)
    assert isinstance(items[0], Message)
    assert items[0].kind == "login"
    return items[1:]


def messages(items: list[Message | FrameError]) -> list[Message]:
    return [i for i in items if isinstance(i, Message)]


def errors(items: list[Message | FrameError]) -> list[FrameError]:
    return [i for i in items if isinstance(i, FrameError)]


def reference_crc(data: bytes) -> int:
    """CRC-16/X-25 written the other way round: MSB-first over bit-reversed bytes, then reversed."""

    def reverse(value: int, width: int) -> int:
        return int(f"{value:0{width}b}"[::-1], 2)

    crc = 0xFFFF
    for byte in data:
        crc ^= reverse(byte, 8) << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return reverse(crc, 16) ^ 0xFFFF


def split_frames(data: bytes) -> list[tuple[bytes, bool]]:
    """Cut a capture by its length fields alone; each frame with whether length, stop and CRC hold."""
    frames: list[tuple[bytes, bool]] = []
    while data:
        if data[:2] == b"xx" and len(data) > 2:
            size = data[2] + 5
        elif data[:2] == b"yy" and len(data) > 3:
            size = int.from_bytes(data[2:4], "big") + 6
        else:
            return [*frames, (data, False)]
        frame, data = data[:size], data[size:]
        ok = (
            len(frame) == size
            and frame[-2:] == b"\r\n"
            and size >= 10
            and crc_itu(frame[2:-4]) == int.from_bytes(frame[-4:-2], "big")
        )
        frames.append((frame, ok))
    return frames


def gps_frame(
    serial: int = 7,
    *,
    date: bytes = bytes([24, 5, 1, 12, 0, 0]),
    lat: float = 37.5665,
    lon: float = 126.978,
    flags: int = 0x1400 | 90,
) -> bytes:
    content = (
        date
        + bytes([0xC8])
        + round(lat * 1_800_000).to_bytes(4, "big")
        + round(lon * 1_800_000).to_bytes(4, "big")
        + bytes([42])
        + flags.to_bytes(2, "big")
    )
    return build_frame(0x12, serial, content)


# ---------------------------------------------------------------------- the captures


def test_captures_loaded() -> None:
    assert len(ALL) == 149
    assert len(FRAME_ROWS) == 9
    assert len(BAD) == 33


def test_crc_matches_the_catalogue_check_value() -> None:
    assert crc_itu(b"123456789") == 0x906E  # CRC-16/X-25 check value
    assert reference_crc(b"123456789") == 0x906E


@pytest.mark.parametrize("capture", ALL, ids=ids(ALL))
def test_crc_of_real_frames(capture: Capture) -> None:
    """Real devices' CRCs validate with crc_itu: the CRC is cross-checked against hardware."""
    frames = split_frames(capture.payload)
    for frame, ok in frames:
        if ok:
            assert crc_itu(frame[2:-4]) == reference_crc(frame[2:-4])
    assert all(ok for _, ok in frames) == capture.conforming


@pytest.mark.parametrize("capture", GOOD, ids=ids(GOOD))
def test_capture_decodes_to_a_message(capture: Capture) -> None:
    items = after_login(capture.payload)
    assert not errors(items)
    found = messages(items)
    assert found
    device = IMEI if not capture.is_login else found[0].device_id
    assert all(m.device_id == device for m in found)
    assert all(m.protocol == "gt06" for m in found)


@pytest.mark.parametrize("capture", NULL, ids=ids(NULL))
def test_capture_traccar_ignores_gives_no_position(capture: Capture) -> None:
    items = after_login(capture.payload)
    assert not errors(items)
    assert all(m.fix is None for m in messages(items))


@pytest.mark.parametrize(
    "capture",
    [c for c in GOOD if c.expectation.startswith("verifyPosition")],
    ids=ids([c for c in GOOD if c.expectation.startswith("verifyPosition")]),
)
def test_expected_positions(capture: Capture) -> None:
    fixes = [m.fix for m in messages(after_login(capture.payload)) if m.fix is not None]
    assert len(fixes) == 1
    fix = fixes[0]
    assert fix.lat is not None
    assert fix.lon is not None
    assert -90 <= fix.lat <= 90
    assert -180 <= fix.lon <= 180
    assert fix.time.tzinfo is UTC
    assert fix.time.year > 1999
    assert fix.source == "gps"
    expected = re.search(r"time=(\S+ \S+) UTC valid=(\w+) lat=(\S+) lon=(\S+)", capture.expectation)
    if expected:
        assert fix.time == datetime.fromisoformat(expected[1]).replace(tzinfo=UTC)
        assert fix.valid == (expected[2] == "true")
        assert fix.lat == pytest.approx(float(expected[3]), abs=1e-5)
        assert fix.lon == pytest.approx(float(expected[4]), abs=1e-5)


def test_explicit_position_row_is_checked() -> None:
    assert (
        sum("time=" in c.expectation for c in GOOD) == 1
    )  # row 115: 2015-10-20 14:21:11, 54.94535, 24.01762


@pytest.mark.parametrize(
    "capture",
    [c for c in GOOD if "alarm=" in c.expectation],
    ids=ids([c for c in GOOD if "alarm=" in c.expectation]),
)
def test_alarm_expectations(capture: Capture) -> None:
    traccar = re.search(r'alarm="(\w+)"', capture.expectation)
    assert traccar
    found = messages(after_login(capture.payload))
    if traccar[1] in ALARMS:
        assert any(ALARMS[traccar[1]] in m.alarms for m in found)
    else:
        assert any(DEVICE_ALARMS[traccar[1]] in m.extra.get("device_alarms", []) for m in found)  # type: ignore[operator]
    assert all(m.kind == "alarm" for m in found)


@pytest.mark.parametrize(("row", "percent"), [(27, 6), (37, 100), (94, 100), (3, 83)])
def test_battery_levels(row: int, percent: int) -> None:
    found = messages(after_login(ALL[row - 1].payload))
    assert [m.battery_pct for m in found] == [percent]


@pytest.mark.parametrize("capture", BAD, ids=ids(BAD))
def test_nonconforming_captures_are_refused_cleanly(capture: Capture) -> None:
    items = after_login(capture.payload)
    assert errors(items)
    assert not messages(items)
    assert all(e.device_id == IMEI and e.protocol == "gt06" and e.offset >= len(LOGIN) for e in errors(items))


@pytest.mark.parametrize("capture", BAD, ids=ids(BAD))
def test_nonconforming_capture_then_a_good_frame_resynchronises(capture: Capture) -> None:
    items = after_login(capture.payload + HEARTBEAT)
    assert errors(items)
    last = items[-1]
    assert isinstance(last, Message)
    assert last.kind == "heartbeat"
    assert last.offset == len(LOGIN) + len(capture.payload)
    assert sum(isinstance(i, Message) for i in items) == 1


@pytest.mark.parametrize(
    "capture", [c for c in FRAME_ROWS if c.conforming], ids=ids([c for c in FRAME_ROWS if c.conforming])
)
def test_frame_decoder_rows_give_one_frame(capture: Capture) -> None:
    assert capture.expectation == f"frame={capture.payload.hex()}"
    items = after_login(capture.payload)
    assert len(items) == 1
    assert isinstance(items[0], Message)
    assert items[0].offset == len(LOGIN)


def test_reasons_for_nonconforming_kinds() -> None:
    reasons = {c.row: errors(after_login(c.payload))[0].reason for c in BAD}
    assert reasons[117] == "checksum mismatch (expected 7377, got 8081)"
    assert reasons[133] == "length 1 too short for a GT06 frame"
    assert reasons[48].startswith("no 0D0A where the length says the frame")  # length byte 0
    assert "cut off" in reasons[42]
    assert "64 of 65" in reasons[42]


def test_zeroed_gps_block_keeps_the_alarm() -> None:
    """Frame-decoder row 149: an alarm packet from a device that never had a fix still raises."""
    (message,) = messages(after_login(ALL[148].payload))
    assert message.fix is None
    assert message.alarms == ("vibration",)
    assert message.kind == "alarm"


def test_cell_only_reports_have_no_coordinates() -> None:
    for row, source in ((20, "cell"), (60, "wifi"), (11, "cell"), (32, "wifi")):
        (message,) = messages(after_login(ALL[row - 1].payload))
        assert message.fix is not None
        assert (message.fix.source, message.fix.valid, message.fix.lat, message.fix.lon) == (
            source,
            False,
            None,
            None,
        )
    (lbs,) = messages(after_login(ALL[10].payload))
    assert lbs.fix is not None
    assert lbs.fix.time == CLOCK
    assert lbs.alarms == ("tamper",)


# ---------------------------------------------------------------------- login, replies


def test_login_then_gps_carries_the_imei() -> None:
    login, gps = run(LOGIN, GPS)
    assert isinstance(login, Message)
    assert isinstance(gps, Message)
    assert (login.kind, login.device_id, login.offset) == ("login", IMEI, 0)
    assert (gps.kind, gps.device_id, gps.offset) == ("position", IMEI, len(LOGIN))
    assert gps.fix is not None
    assert gps.fix.speed_kmh == 0.0
    assert gps.fix.satellites == 5
    assert gps.reply is None  # positions are not acknowledged


def test_gps_before_login_is_refused() -> None:
    refused, login, gps = run(GPS, LOGIN, GPS)
    assert isinstance(refused, FrameError)
    assert refused.reason.startswith("no login yet")
    assert refused.offset == 0
    assert refused.device_id is None
    assert isinstance(login, Message)
    assert isinstance(gps, Message)
    assert gps.device_id == IMEI


def test_a_second_login_switches_the_device() -> None:
    other = bytes.fromhex("78780d0103534190360660610003c3df0d0a")  # row 112
    items = messages(run(LOGIN, other, GPS))
    assert [m.device_id for m in items] == [IMEI, "353419036066061", "353419036066061"]


def test_login_reply_is_byte_exact() -> None:
    # The GT06 protocol document's own example: login 0123456789012345, serial 1
    # -> 78 78 05 01 00 01 D9 DC 0D 0A.
    login = bytes.fromhex("78780d01012345678901234500018cdd0d0a")
    (message,) = run(login)
    assert isinstance(message, Message)
    assert message.device_id == "123456789012345"
    assert message.reply == bytes.fromhex("787805010001d9dc0d0a")
    body = bytes([0x05, 0x01, 0x00, 0x01])
    assert message.reply == b"xx" + body + reference_crc(body).to_bytes(2, "big") + b"\r\n"


def test_heartbeat_reply_is_byte_exact() -> None:
    _, heartbeat = run(LOGIN, HEARTBEAT)
    assert isinstance(heartbeat, Message)
    assert heartbeat.kind == "heartbeat"
    body = bytes([0x05, 0x13, 0x01, 0x29])  # length 5, type 0x13, the heartbeat's serial 0x0129
    assert heartbeat.reply == b"xx" + body + reference_crc(body).to_bytes(2, "big") + b"\r\n"
    assert heartbeat.reply == bytes.fromhex("7878051301295d630d0a")
    assert heartbeat.battery_pct == 100


def test_alarm_packets_are_acknowledged() -> None:
    for row in (3, 13, 15, 47, 114):
        (message,) = messages(after_login(ALL[row - 1].payload))
        frame = ALL[row - 1].payload
        body = bytes([0x05, frame[3]]) + frame[-6:-4]
        assert message.reply == b"xx" + body + reference_crc(body).to_bytes(2, "big") + b"\r\n"


def test_unknown_types_are_other_and_acked_only_when_the_type_is() -> None:
    unknown, empty_status = messages(after_login(build_frame(0x99, 3, b"\x01\x02") + build_frame(0x13, 4)))
    assert (unknown.kind, unknown.reply, unknown.fix) == ("other", None, None)
    assert empty_status.kind == "other"
    assert empty_status.reply == build_frame(0x13, 4)


def test_time_request_is_answered_with_the_clock() -> None:
    (message,) = after_login(bytes.fromhex("7878058a000688290d0a"))  # row 135
    assert isinstance(message, Message)
    assert message.reply == build_frame(0x8A, 0, bytes([24, 5, 1, 12, 30, 45]))


# ---------------------------------------------------------------------- the stream


@pytest.mark.parametrize("capture", ALL, ids=ids(ALL))
def test_byte_by_byte_equals_whole(capture: Capture) -> None:
    data = LOGIN + capture.payload
    assert run(*(data[i : i + 1] for i in range(len(data)))) == run(data)


def test_all_captures_glued_and_split() -> None:
    data = LOGIN + b"".join(c.payload for c in ALL)
    whole = run(data)
    assert run(*(data[i : i + 1] for i in range(len(data)))) == whole
    rng = random.Random(20240501)
    cuts = sorted(rng.sample(range(1, len(data)), 400))
    assert run(*(data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True))) == whole
    assert len(messages(whole)) >= len(GOOD) + len(NULL)


def test_conforming_captures_glued_decode_as_alone() -> None:
    """Glued together, each capture decodes exactly as on its own (offsets shifted)."""
    expected: list[Message | FrameError] = []
    offset = len(LOGIN)
    for capture in (c for c in ALL if c.conforming):
        expected += [
            replace(item, offset=item.offset + offset - len(LOGIN)) for item in after_login(capture.payload)
        ]
        offset += len(capture.payload)
    items = run(LOGIN + b"".join(c.payload for c in ALL if c.conforming))[1:]
    # A login inside the run switches the device for what follows; compare all but the device.
    assert [replace(i, device_id=None) for i in items] == [replace(i, device_id=None) for i in expected]


def test_garbage_prefix_and_suffix_resync_with_offsets() -> None:
    prefix, middle, suffix = b"\x00\x01junk\xff", b"GARBAGE", b"\r\nbye"
    data = prefix + LOGIN + middle + GPS + HEARTBEAT + suffix
    items = run(data)
    assert [type(i).__name__ for i in items] == [
        "FrameError",
        "Message",
        "FrameError",
        "Message",
        "Message",
        "FrameError",
    ]
    first, login, junk, gps, heartbeat, tail = items
    assert isinstance(first, FrameError)
    assert first.offset == 0
    assert first.raw == prefix
    assert first.reason == f"skipped {len(prefix)} bytes of garbage at byte 0"
    assert login.offset == len(prefix)
    assert isinstance(junk, FrameError)
    assert junk.offset == len(prefix) + len(LOGIN)
    assert junk.raw == middle
    assert f"at byte {junk.offset}" in junk.reason
    assert junk.device_id == IMEI
    assert gps.offset == len(prefix) + len(LOGIN) + len(middle)
    assert heartbeat.offset == gps.offset + len(GPS)
    assert isinstance(tail, FrameError)
    assert tail.offset == len(data) - len(suffix)
    assert tail.raw == suffix
    assert run(*(data[i : i + 1] for i in range(len(data)))) == items


def test_trailing_garbage_waits_for_the_next_frame() -> None:
    d = decoder()
    assert len(d.feed(LOGIN + b"noise")) == 1  # the login; the noise is not yet bounded
    late = d.feed(HEARTBEAT)
    assert isinstance(late[0], FrameError)
    assert late[0].offset == len(LOGIN)
    assert late[0].raw == b"noise"
    assert isinstance(late[1], Message)
    assert late[1].kind == "heartbeat"


def test_false_start_in_garbage_does_not_swallow_the_login() -> None:
    """'78 78' inside garbage declares a long frame; the real login behind it must not wait for it."""
    garbage = b"\x01\x78\x78\x40\x13\x00\x00"
    d = decoder()
    items = d.feed(garbage + LOGIN)
    assert [type(i).__name__ for i in items][-1] == "Message"
    login = items[-1]
    assert isinstance(login, Message)
    assert login.kind == "login"
    assert login.offset == len(garbage)
    assert all(isinstance(i, FrameError) and i.offset < len(garbage) for i in items[:-1])
    data = garbage + LOGIN
    assert run(*(data[i : i + 1] for i in range(len(data))), finish=False) == items


def test_wrong_crc_is_one_error_and_the_next_frame_decodes() -> None:
    broken = bytearray(gps_frame(serial=8))
    broken[-3] ^= 0x01
    items = run(LOGIN, bytes(broken), GPS)
    assert [type(i).__name__ for i in items] == ["Message", "FrameError", "Message"]
    error, gps = items[1], items[2]
    assert isinstance(error, FrameError)
    assert isinstance(gps, Message)
    good = int.from_bytes(gps_frame(serial=8)[-4:-2], "big")
    assert error.reason == f"checksum mismatch (expected {good:04x}, got {good ^ 1:04x})"
    assert error.offset == len(LOGIN)
    assert error.raw == bytes(broken)
    assert error.device_id == IMEI
    assert gps.offset == len(LOGIN) + len(broken)
    assert gps.fix is not None


def test_absurd_values_are_refused_naming_the_field() -> None:
    cases = {
        "month 13": gps_frame(date=bytes([24, 13, 1, 12, 0, 0])),
        "hour 24": gps_frame(date=bytes([24, 5, 1, 24, 0, 0])),
        "day 31 out of range": gps_frame(date=bytes([24, 2, 31, 1, 0, 0])),
        "latitude 95.000000 out of range": gps_frame(lat=95.0),
        "longitude 181.000000 out of range": gps_frame(lon=181.0),
        "course 400 out of range": gps_frame(flags=0x1400 | 400),
    }
    for words, frame in cases.items():
        items = run(LOGIN, frame, GPS)
        assert isinstance(items[1], FrameError), words
        assert words in items[1].reason
        assert isinstance(items[2], Message)  # the next frame still decodes


def test_hemisphere_bits() -> None:
    south_west = gps_frame(lat=33.8688, lon=151.2093, flags=0x1000 | 0x0800 | 10)
    (message,) = messages(after_login(south_west))
    assert message.fix is not None
    assert message.fix.lat == pytest.approx(-33.8688, abs=1e-6)
    assert message.fix.lon == pytest.approx(-151.2093, abs=1e-6)
    assert message.fix.valid
    assert message.fix.course == 10
    assert message.fix.speed_kmh == 42
    no_fix = gps_frame(flags=0x0400)
    (message,) = messages(after_login(no_fix))
    assert message.fix is not None
    assert not message.fix.valid


def test_buffer_over_64k_without_a_frame_is_discarded() -> None:
    junk = b"\x00" * (MAX_BUFFER + 5000)
    whole = run(junk + LOGIN)
    chunked = run(*(junk[i : i + 1000] for i in range(0, len(junk), 1000)), LOGIN)
    assert whole == chunked
    overflow, rest, login = whole
    assert isinstance(overflow, FrameError)
    assert overflow.offset == 0
    assert "discarded" in overflow.reason
    assert len(overflow.raw) == MAX_BUFFER
    assert isinstance(rest, FrameError)
    assert rest.offset == MAX_BUFFER
    assert isinstance(login, Message)
    assert login.offset == len(junk)


def test_implausible_length_is_not_waited_for() -> None:
    items = run(b"\x79\x79\xff\xff\x01" + LOGIN, finish=False)
    assert isinstance(items[0], FrameError)
    assert "implausible frame length" in items[0].reason
    assert isinstance(items[1], Message)
    assert items[1].kind == "login"


def test_finish_reports_a_frame_cut_off() -> None:
    d = decoder()
    assert messages(d.feed(LOGIN + GPS[:20]))
    assert len(d.feed(b"")) == 0
    (cut,) = d.finish()
    assert isinstance(cut, FrameError)
    assert cut.offset == len(LOGIN)
    assert "cut off" in cut.reason


# ---------------------------------------------------------------------- properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 64), max_size=20))
def test_random_bytes_never_raise_nor_give_a_bad_latitude(data: bytes, cuts: list[int]) -> None:
    d = decoder()
    items = d.feed(LOGIN)
    position = 0
    for cut in cuts:
        items += d.feed(data[position : position + cut])
        position += cut
    items += d.feed(data[position:]) + d.finish()
    for item in items:
        assert isinstance(item, Message | FrameError)
        if isinstance(item, Message) and item.fix is not None and item.fix.lat is not None:
            assert -90 <= item.fix.lat <= 90
            assert item.fix.lon is not None
            assert -180 <= item.fix.lon <= 180


FRAME_TYPES = [
    0x01,
    0x10,
    0x11,
    0x12,
    0x13,
    0x16,
    0x17,
    0x19,
    0x22,
    0x23,
    0x24,
    0x26,
    0x27,
    0x28,
    0x2C,
    0x34,
    0x69,
    0x8A,
    0x95,
    0xA4,
    0xA5,
    0xF3,
    0x15,
    0x99,
]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(FRAME_TYPES), st.binary(max_size=80), st.booleans()), max_size=6),
    st.binary(max_size=8),
)
def test_random_content_in_valid_frames_never_raises(
    frames: list[tuple[int, bytes, bool]], noise: bytes
) -> None:
    """Well-framed, CRC-correct frames with random content reach the content decoders."""
    body = b"".join(
        build_frame(t, i, content, extended=extended) for i, (t, content, extended) in enumerate(frames)
    )
    stream = LOGIN + body + noise
    items = run(stream)
    assert run(*(stream[i : i + 1] for i in range(len(stream)))) == items
    for item in items:
        if isinstance(item, Message) and item.fix is not None and item.fix.lat is not None:
            assert -90 <= item.fix.lat <= 90
            assert item.fix.lon is not None
            assert -180 <= item.fix.lon <= 180
            assert item.fix.time.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0x21, 0x32, 0x33, 0x70, 0x94]), st.binary(max_size=120))
def test_random_extended_frames_never_raise(msg_type: int, content: bytes) -> None:
    items = run(LOGIN, build_frame(msg_type, 1, content, extended=True))
    assert len(items) == 2
    item = items[1]
    if isinstance(item, Message) and item.fix is not None and item.fix.lat is not None:
        assert -90 <= item.fix.lat <= 90
