"""The H02 decoder against Traccar's real device captures, and against a hostile stream.

captures/h02.tsv holds the frames of Traccar's H02ProtocolDecoderTest and H02FrameDecoderTest (see
captures/SOURCES.md); each row says what Traccar expects, and these tests hold the decoder to the
same expectations, plus what Traccar leaves to its frame decoder: cutting text and binary frames
(which have neither length nor terminator) out of a TCP stream.
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
from smartseoul.tracking.protocols.h02 import H02Decoder

CAPTURES = Path(__file__).parent / "captures" / "h02.tsv"
CLOCK = datetime(2024, 5, 1, 12, 30, 45, tzinfo=UTC)
PRIME = b"*HQ,1234567890,HTBT#"  # a frame that names a device, so an id-less capture has one to inherit
V1 = b"*HQ,4210051415,V1,164549,A,0956.3869,N,08406.7068,W,000.00,000,221215,FFFFFBFF,712,01,0,0,6#"
BINARY = bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")  # 32 bytes
BINARY_45 = bytes.fromhex(
    "24410600082621532131081504419390060740418306000000fffffbfdff0015060000002c02dc0c000000001f"
)


@dataclass(frozen=True)
class Capture:
    row: int
    payload: bytes
    expectation: str
    note: str

    @property
    def name(self) -> str:
        return f"row{self.row}-" + self.note.split(";")[0].split(" (")[0].replace(
            "DecoderTest.", "-"
        ).replace(" case ", "-")


def load() -> list[Capture]:
    rows = []
    for number, line in enumerate(CAPTURES.read_text(encoding="utf-8").splitlines(), start=1):
        kind, payload, expectation, note = line.split("\t")
        data = bytes.fromhex(payload) if kind == "hex" else payload.encode("latin-1")
        rows.append(Capture(number, data, expectation, note))
    return rows


ALL = load()
DECODER_ROWS = [c for c in ALL if not c.expectation.startswith("frame=")]
FRAME_ROWS = [c for c in ALL if c.expectation.startswith("frame=")]
GOOD = [c for c in DECODER_ROWS if not c.expectation.startswith("verifyNull")]
NULL = [c for c in DECODER_ROWS if c.expectation.startswith("verifyNull")]
POSITIONS = [c for c in GOOD if c.expectation.startswith("verifyPosition")]


def ids(captures: list[Capture]) -> list[str]:
    return [c.name for c in captures]


def run(*chunks: bytes, finish: bool = True) -> list[Message | FrameError]:
    d = H02Decoder(clock=lambda: CLOCK)
    out: list[Message | FrameError] = []
    for chunk in chunks:
        out += d.feed(chunk)
    if finish:
        out += d.finish()
    return out


def primed(payload: bytes) -> list[Message | FrameError]:
    items = run(PRIME, payload)
    assert isinstance(items[0], Message)
    assert items[0].device_id == "1234567890"
    return items[1:]


def messages(items: list[Message | FrameError]) -> list[Message]:
    return [i for i in items if isinstance(i, Message)]


def errors(items: list[Message | FrameError]) -> list[FrameError]:
    return [i for i in items if isinstance(i, FrameError)]


def own_id(payload: bytes) -> str | None:
    if payload[:1] == b"*":
        return payload.split(b",")[1].decode() or None
    if payload[:1] == b"$":
        digits = payload.hex()
        return digits[2:17] if len(payload) == 42 else digits[2:12]
    return None


# ---------------------------------------------------------------------- the captures


def test_captures_loaded() -> None:
    assert len(ALL) == 96
    assert len(FRAME_ROWS) == 10
    assert len(NULL) == 7


@pytest.mark.parametrize("capture", GOOD, ids=ids(GOOD))
def test_capture_decodes_to_a_message_of_its_device(capture: Capture) -> None:
    items = primed(capture.payload)
    assert not errors(items)
    (message,) = messages(items)
    assert message.protocol == "h02"
    assert message.offset == len(PRIME)
    assert message.device_id == (own_id(capture.payload) or "1234567890")


@pytest.mark.parametrize("capture", NULL, ids=ids(NULL))
def test_capture_traccar_ignores_gives_no_position(capture: Capture) -> None:
    items = primed(capture.payload)
    assert not errors(items)
    assert all(m.fix is None for m in messages(items))


@pytest.mark.parametrize("capture", POSITIONS, ids=ids(POSITIONS))
def test_expected_positions(capture: Capture) -> None:
    (message,) = messages(primed(capture.payload))
    fix = message.fix
    assert fix is not None
    assert fix.source == "gps"
    assert fix.lat is not None
    assert fix.lon is not None
    assert -90 <= fix.lat <= 90
    assert -180 <= fix.lon <= 180
    assert fix.time.tzinfo is UTC
    assert fix.time.year > 1999
    assert fix.speed_kmh is not None
    assert 0 <= fix.speed_kmh < 869 * 1.852
    expected = re.search(r"time=(\S+ \S+) UTC valid=(\w+) lat=(\S+) lon=(\S+)", capture.expectation)
    if expected:
        assert fix.time == datetime.fromisoformat(expected[1]).replace(tzinfo=UTC)
        assert fix.valid == (expected[2] == "true")
        assert fix.lat == pytest.approx(float(expected[3]), abs=1e-5)
        assert fix.lon == pytest.approx(float(expected[4]), abs=1e-5)


def test_explicit_positions_are_checked() -> None:
    assert [c.row for c in POSITIONS if "time=" in c.expectation] == [48, 52, 53, 76]


@pytest.mark.parametrize(
    "capture",
    [c for c in GOOD if "status=" in c.expectation],
    ids=ids([c for c in GOOD if "status=" in c.expectation]),
)
def test_status_word(capture: Capture) -> None:
    expected = re.search(r"status=(\d+)", capture.expectation)
    assert expected
    (message,) = messages(primed(capture.payload))
    assert message.extra["status"] == int(expected[1])


def test_heartbeat_battery_and_echo() -> None:
    (message,) = messages(run(ALL[2].payload))  # *HQ,135790246811220,HTBT,100#
    assert (message.kind, message.battery_pct) == ("heartbeat", 100)
    assert message.reply == b"*HQ,135790246811220,HTBT#"
    (bare,) = messages(run(ALL[5].payload))
    assert bare.reply == b"*HQ,135790246811220,HTBT#"
    assert bare.battery_pct is None


def test_v1_is_answered_with_the_server_time() -> None:
    (message,) = messages(run(V1))
    assert message.reply == b"*HQ,4210051415,V4,V1,20240501123045#"


def test_nbr_is_a_cell_report_answered_like_traccar() -> None:
    (message,) = messages(run(ALL[36].payload))  # row 37
    assert message.reply == b"*HQ,7401004662,V4,NBR,20240501123045#"
    assert message.fix is not None
    assert (message.fix.source, message.fix.lat, message.fix.valid) == ("cell", None, False)
    assert message.fix.time == datetime(2019, 10, 29, 16, 4, 53, tzinfo=UTC)
    assert message.extra["cells"] == [(21580, 27766), (21580, 27766)]


def test_nbr_with_an_impossible_second_keeps_the_report() -> None:
    (message,) = messages(run(ALL[40].payload))  # row 41 says 16:01:69
    assert message.fix is not None
    assert message.fix.time == CLOCK
    assert "second 69" in str(message.extra["time_error"])


def test_speed_is_converted_from_knots() -> None:
    (message,) = messages(run(ALL[6].payload))  # row 7: "  3.34" knots
    assert message.fix is not None
    assert message.fix.speed_kmh == pytest.approx(3.34 * 1.852)


def test_coordinate_formats() -> None:
    expected = {
        1: (-37.955653, 145.061703),  # 37573392,S / 145037022,E (no decimal point)
        51: (-23.589013, -48.048210),  # -23-35.3408,S / -48-2.8926,W
        57: (52.242243, 21.291138),  # 2117.4683 (four integer digits for a longitude)
        59: (-7.031525, -34.838998),  # 701.8915,S
    }
    for row, (lat, lon) in expected.items():
        (message,) = messages(run(ALL[row - 1].payload))
        assert message.fix is not None
        assert message.fix.lat == pytest.approx(lat, abs=1e-5)
        assert message.fix.lon == pytest.approx(lon, abs=1e-5)


def test_status_bits_raise_alarms() -> None:
    def alarms(status: str) -> tuple[str, ...]:
        frame = f"*HQ,4210051415,V1,164549,A,0956.3869,N,08406.7068,W,000.00,000,221215,{status}#"
        (message,) = messages(run(frame.encode()))
        return message.alarms

    assert alarms("FFFFFBFF") == ()
    assert alarms("FFFFFBFE") == ("vibration",)
    assert alarms("FFFFFBFD") == ("sos",)
    assert alarms("FFFFFBFB") == ("overspeed",)
    assert alarms("FFF7FBFF") == ("power_cut",)
    assert alarms("FFFBFFFF") == ()  # bit 18: Traccar's SOS, not ours (see the module docstring)
    assert set(alarms("FFF7FBF8")) == {"vibration", "sos", "overspeed", "power_cut"}


def test_sos_in_a_binary_frame() -> None:
    (message,) = messages(run(BINARY_45))  # status fffffbfd
    assert message.alarms == ("sos",)
    assert message.kind == "alarm"
    assert message.battery_pct == 100
    assert message.device_id == "4106000826"


def test_link_is_a_heartbeat_with_battery() -> None:
    (message,) = messages(run(ALL[22].payload))  # row 23
    assert (message.kind, message.battery_pct, message.fix) == ("heartbeat", 84, None)


def test_frame_without_id_inherits_or_is_refused() -> None:
    idless = ALL[12].payload  # row 13: *HQ,,V1,...
    (refused,) = run(idless)
    assert isinstance(refused, FrameError)
    assert "device id" in refused.reason
    _, message = run(V1, idless)
    assert isinstance(message, Message)
    assert message.device_id == "4210051415"


def test_long_id_binary_frame() -> None:
    (message,) = messages(run(ALL[9].payload))  # row 10, 42 bytes, 8-byte id
    assert message.device_id == "352483084193293"
    assert message.fix is not None
    assert message.fix.time == datetime(2017, 8, 18, 10, 47, 59, tzinfo=UTC)
    assert message.fix.speed_kmh == pytest.approx(24 * 1.852)
    assert message.fix.course == 138


def test_x_frame_is_other() -> None:
    items = run(BINARY, ALL[94].payload)  # row 95, an 'X' frame
    assert isinstance(items[1], Message)
    assert items[1].kind == "other"
    assert items[1].fix is None
    assert items[1].offset == len(BINARY)


@pytest.mark.parametrize("capture", FRAME_ROWS, ids=ids(FRAME_ROWS))
def test_frame_decoder_rows_cut_the_expected_frame(capture: Capture) -> None:
    frame = bytes.fromhex(capture.expectation.removeprefix("frame="))
    assert capture.payload.startswith(frame)
    items = primed(capture.payload)
    assert not errors(items)
    assert items[0].offset == len(PRIME)
    rest = capture.payload[len(frame) :]
    if rest.strip(b"\r\n"):  # another frame follows: it starts right where Traccar's frame ends
        assert [i.offset for i in items] == [len(PRIME), len(PRIME) + len(frame)]
    else:
        assert len(items) == 1


# ---------------------------------------------------------------------- the stream


@pytest.mark.parametrize("capture", ALL, ids=ids(ALL))
def test_byte_by_byte_equals_whole(capture: Capture) -> None:
    data = PRIME + capture.payload
    assert run(*(data[i : i + 1] for i in range(len(data)))) == run(data)


def test_all_captures_glued_and_split() -> None:
    data = b"".join(c.payload for c in ALL)
    whole = run(data)
    assert run(*(data[i : i + 1] for i in range(len(data)))) == whole
    rng = random.Random(20240501)
    cuts = sorted(rng.sample(range(1, len(data)), 300))
    assert run(*(data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True))) == whole
    assert not errors(whole)  # the id-less row 13 and the X frame of row 95 inherit the device before them


def test_captures_glued_decode_as_alone() -> None:
    """Glued together, each capture decodes exactly as on its own (offsets shifted)."""
    expected: list[Message | FrameError] = []
    offset = len(PRIME)
    for capture in ALL:
        expected += [replace(i, offset=i.offset + offset - len(PRIME)) for i in primed(capture.payload)]
        offset += len(capture.payload)
    items = run(PRIME + b"".join(c.payload for c in ALL))[1:]
    # Frames without an id take the previous frame's device: compare all but the device.
    assert [replace(i, device_id=None) for i in items] == [replace(i, device_id=None) for i in expected]


def test_binary_frame_is_decoded_before_its_end_is_known() -> None:
    """A binary frame has no terminator; its position must not wait for the device's next report."""
    d = H02Decoder(clock=lambda: CLOCK)
    (message,) = d.feed(BINARY_45)
    assert isinstance(message, Message)
    assert message.fix is not None
    follow = d.feed(V1)
    assert [type(i).__name__ for i in follow] == ["Message"]
    assert follow[0].offset == len(BINARY_45)


def test_garbage_prefix_and_suffix_resync_with_offsets() -> None:
    prefix, middle, suffix = b"\x00\xffjunk\r\n", b"GARBAGE!", b"zz"
    data = prefix + V1 + b"\r\n" + middle + BINARY + V1 + suffix
    items = run(data)
    assert [type(i).__name__ for i in items] == [
        "FrameError",
        "Message",
        "FrameError",
        "Message",
        "Message",
        "FrameError",
    ]
    first, v1, junk, binary, second, tail = items
    assert isinstance(first, FrameError)
    assert first.offset == 0
    assert first.raw == prefix
    assert first.reason == f"skipped {len(prefix)} bytes of garbage at byte 0"
    assert v1.offset == len(prefix)
    assert isinstance(junk, FrameError)
    assert junk.offset == len(prefix) + len(V1) + 2
    assert junk.raw == middle
    assert f"at byte {junk.offset}" in junk.reason
    assert junk.device_id == "4210051415"
    assert binary.offset == junk.offset + len(middle)
    assert second.offset == binary.offset + len(BINARY)
    assert isinstance(tail, FrameError)
    assert tail.offset == len(data) - len(suffix)
    assert run(*(data[i : i + 1] for i in range(len(data)))) == items


def test_binary_tail_then_garbage() -> None:
    """Past 64 bytes without a frame start, a binary frame is taken as 32 bytes; the rest is garbage."""
    data = BINARY + b"\xee" * 50 + V1
    items = run(data)
    assert [type(i).__name__ for i in items] == ["Message", "FrameError", "Message"]
    assert items[1].offset == 32
    assert items[2].offset == 82
    assert run(*(data[i : i + 1] for i in range(len(data)))) == items


def test_text_frame_that_lost_its_end() -> None:
    cut = V1[:40]
    items = run(cut + V1)
    assert isinstance(items[0], FrameError)
    assert items[0].offset == 0
    assert "has no '#'" in items[0].reason
    assert isinstance(items[1], Message)
    assert items[1].offset == len(cut)


def test_absurd_values_are_refused_naming_the_field() -> None:
    base = "*HQ,4210051415,V1,{time},A,{lat},N,08406.7068,W,000.00,{course},{date},FFFFFBFF#"
    good = {"time": "164549", "lat": "0956.3869", "course": "000", "date": "221215"}
    cases = {
        "month 13": {"date": "221315"},
        "hour 25": {"time": "254549"},
        "day 0": {"date": "001215"},
        "latitude 95.000000 out of range": {"lat": "9500.0000"},
        "latitude minutes 75.0 out of range": {"lat": "1075.0000"},
        "course 400.0 out of range": {"course": "400"},
    }
    for words, change in cases.items():
        frame = base.format(**{**good, **change}).encode()
        items = run(frame, V1)
        assert isinstance(items[0], FrameError), words
        assert words in items[0].reason
        assert isinstance(items[1], Message)
    binary = bytearray(BINARY)
    binary[10] = 0x13  # month 13 in the BCD date
    (error,) = run(bytes(binary))
    assert isinstance(error, FrameError)
    assert "month 13" in error.reason


def test_buffer_over_64k_without_a_frame_is_discarded() -> None:
    junk = b"\x00" * (MAX_BUFFER + 3000)
    whole = run(junk + V1)
    assert run(*(junk[i : i + 999] for i in range(0, len(junk), 999)), V1) == whole
    overflow, rest, v1 = whole
    assert isinstance(overflow, FrameError)
    assert overflow.offset == 0
    assert "discarded" in overflow.reason
    assert isinstance(rest, FrameError)
    assert rest.offset == MAX_BUFFER
    assert isinstance(v1, Message)
    assert v1.offset == len(junk)


def test_finish_reports_what_is_left() -> None:
    d = H02Decoder(clock=lambda: CLOCK)
    assert d.feed(V1[:30]) == []
    (cut,) = d.finish()
    assert isinstance(cut, FrameError)
    assert cut.offset == 0


# ---------------------------------------------------------------------- properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 64), max_size=20))
def test_random_bytes_never_raise_nor_give_a_bad_latitude(data: bytes, cuts: list[int]) -> None:
    d = H02Decoder(clock=lambda: CLOCK)
    items = d.feed(PRIME)
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


FIELD = st.one_of(
    st.text(alphabet="0123456789.-ABCDEFNSWV ", max_size=12),
    st.sampled_from(
        [
            "A",
            "V",
            "N",
            "S",
            "E",
            "W",
            "",
            "FFFFFBFF",
            "221215",
            "164549",
            "9999.9999",
            "-23-3.3408",
            "000000",
        ]
    ),
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["V1", "V4", "V19", "NBR", "V3", "VP1", "LINK", "HTBT", "XT"]),
    st.lists(FIELD, max_size=16),
    st.binary(min_size=0, max_size=40),
)
def test_random_fields_never_raise(msg_type: str, fields: list[str], binary: bytes) -> None:
    """Well-framed text with random fields, and '$' frames with random bodies, reach the parsers."""
    text = ",".join(["*HQ", "4210051415", msg_type, *fields]).encode() + b"#"
    binary_frame = b"$" + bytes.fromhex("4106011660124543131116") + binary[:20].ljust(20, b"\x00")
    stream = text + binary_frame + V1
    items = run(stream)
    assert run(*(stream[i : i + 1] for i in range(len(stream)))) == items
    assert isinstance(items[-1], Message)
    assert items[-1].offset == len(text) + len(binary_frame)
    for item in items:
        if isinstance(item, Message) and item.fix is not None and item.fix.lat is not None:
            assert -90 <= item.fix.lat <= 90
            assert item.fix.lon is not None
            assert -180 <= item.fix.lon <= 180
