"""The '3G' watch decoder against Traccar's real device captures, and against a hostile stream.

captures/watch.tsv holds the frames of Traccar's WatchProtocolDecoderTest and WatchFrameDecoderTest
(see captures/SOURCES.md); each row says what Traccar expects, and these tests hold the decoder to
the same expectations, plus what Traccar leaves to Netty: cutting frames out of a TCP stream.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartseoul.tracking.protocols import FrameError, Message
from smartseoul.tracking.protocols.watch import MAX_BUFFER, WatchDecoder

CAPTURES = Path(__file__).parent / "captures" / "watch.tsv"


@dataclass(frozen=True)
class Capture:
    payload: bytes
    expectation: str
    note: str

    @property
    def name(self) -> str:
        return (
            self.note.split(";")[0].split(" (")[0].replace("ProtocolDecoderTest.", "").replace(" case ", "-")
        )

    @property
    def device_id(self) -> str:
        match = re.match(rb"\[[A-Z0-9]+\*([^*]+)\*", self.payload)
        assert match, self.payload[:40]
        return match.group(1).decode()


def load() -> list[Capture]:
    rows = []
    for line in CAPTURES.read_text(encoding="utf-8").splitlines():
        kind, payload, expectation, note = line.split("\t")
        data = bytes.fromhex(payload) if kind == "hex" else payload.encode("latin-1")
        rows.append(Capture(data, expectation, note))
    return rows


ALL = load()
DECODED = [c for c in ALL if not c.expectation.startswith("verifyNull")]
NULL = [c for c in ALL if c.expectation.startswith("verifyNull")]


def decode(*chunks: bytes) -> list[Message | FrameError]:
    decoder = WatchDecoder()
    out: list[Message | FrameError] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


def messages(items: list[Message | FrameError]) -> list[Message]:
    assert not [i for i in items if isinstance(i, FrameError)], items
    return [i for i in items if isinstance(i, Message)]


def frame(text: str, vendor: str = "3G", device: str = "1234567890") -> bytes:
    """A well-formed frame around ``text`` (constructed, for the cases the captures lack)."""
    body = text.encode("latin-1")
    return b"[%s*%s*%04X*%s]" % (vendor.encode(), device.encode(), len(body), body)


def test_captures_loaded() -> None:
    assert len(ALL) == 51
    assert len(NULL) == 3


# ------------------------------------------------------------ Traccar's expectations


@pytest.mark.parametrize("capture", DECODED, ids=lambda c: c.name)
def test_capture_decodes_to_a_message_of_its_device(capture: Capture) -> None:
    (message,) = messages(decode(capture.payload))
    assert message.protocol == "watch"
    assert message.device_id == capture.device_id
    assert message.offset == 0
    if capture.expectation.startswith("verifyPosition"):
        fix = message.fix
        assert fix is not None
        assert fix.time.tzinfo is UTC
        assert fix.time.year > 1999
        assert fix.lat is None or -90 <= fix.lat <= 90
        assert fix.lon is None or -180 <= fix.lon <= 180
        assert fix.speed_kmh is None or 0 <= fix.speed_kmh < 1600
        assert fix.course is None or 0 <= fix.course <= 360
        assert fix.valid == (fix.source == "gps")
    elif capture.expectation.startswith("verifyAttributes"):
        assert len(message.extra) > 2  # more than vendor and command


@pytest.mark.parametrize("capture", NULL, ids=lambda c: c.name)
def test_capture_traccar_ignores_gives_no_position(capture: Capture) -> None:
    (message,) = messages(decode(capture.payload))
    assert message.device_id == capture.device_id
    assert message.fix is None
    assert message.kind in ("heartbeat", "other")
    assert message.reply is not None  # LK and TKQ are still answered


POSITION = re.compile(r"time=(\S+ \S+) UTC valid=(\w+) lat=(\S+) lon=(\S+)")


@pytest.mark.parametrize("capture", [c for c in ALL if "time=" in c.expectation], ids=lambda c: c.name)
def test_expected_positions(capture: Capture) -> None:
    match = POSITION.search(capture.expectation)
    assert match
    (message,) = messages(decode(capture.payload))
    fix = message.fix
    assert fix is not None
    assert fix.time == datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    assert fix.valid == (match.group(2) == "true")
    assert fix.lat == pytest.approx(float(match.group(3)), abs=1e-5)
    assert fix.lon == pytest.approx(float(match.group(4)), abs=1e-5)


def test_expected_position_count() -> None:
    assert len([c for c in ALL if "time=" in c.expectation]) == 2


def by_case(number: int, cls: str = "WatchProtocolDecoderTest") -> Capture:
    (capture,) = [c for c in ALL if re.match(rf"{cls}\.\w+ case {number}\b", c.note)]
    return capture


def only(capture: Capture) -> Message:
    (message,) = messages(decode(capture.payload))
    return message


def test_attribute_expectations() -> None:
    assert only(by_case(3)).extra["temperature_c"] == 36.5  # ZJ TEMP (Traccar temp1)
    assert only(by_case(7)).extra["temperature_c"] == 35.29  # btemp2
    assert "removal" in only(by_case(4)).alarms  # Traccar alarm="removing"
    audio = only(by_case(47)).extra
    assert audio["audio_format"] == "amr"
    assert audio["audio"] == b"#!AMR}[],*\xff"


def test_al_with_v_and_zero_position_is_sos_without_a_fix() -> None:
    message = only(
        by_case(13)
    )  # [3G*8809008845*00C0*AL,271219,094744,V,00.000000,N, 0.0000000,E,...,00010000,...]
    assert "sos" in message.alarms
    assert message.kind == "alarm"
    assert message.fix is not None
    assert message.fix.valid is False
    assert message.fix.lat is None
    assert message.fix.lon is None
    assert message.fix.source == "cell"  # seven cell towers follow
    assert message.fix.time == datetime(2019, 12, 27, 9, 47, 44, tzinfo=UTC)
    assert message.reply == b"[3G*8809008845*0002*AL]"


def test_al_with_no_alarm_bit_is_sos() -> None:
    message = only(by_case(1))  # SG AL, status 00000000, V
    assert message.alarms == ("sos",)
    assert message.reply == b"[SG*9059011020*0002*AL]"
    constructed = frame("AL,010125,101010,V,0.000000,N,0.000000,E,0,0,0,0,10,50,0,0,00000000,0,0")
    (alarm,) = messages(decode(constructed))
    assert alarm.alarms == ("sos",)
    assert alarm.fix is not None
    assert alarm.fix.valid is False
    assert alarm.fix.source == "none"
    assert alarm.battery_pct == 50


def test_status_bits() -> None:
    assert only(by_case(19)).alarms == ("fall",)  # 00200010: bit 21, and bit 4 (motion)
    assert only(by_case(19)).extra["motion"] is True
    assert only(by_case(11)).alarms == ("removal",)  # ALCUSTOMER1 00100008
    assert only(by_case(39)).alarms == ("low_battery",)  # AL with the low-battery state bit
    template = "UD,010125,101010,A,37.5,N,127.0,E,0,0,0,5,10,50,0,0,{},0,0"
    (state_only,) = messages(decode(frame(template.format("00000001"))))
    assert state_only.alarms == ()
    assert state_only.kind == "position"
    assert state_only.extra["low_battery"] is True
    (events,) = messages(decode(frame(template.format("007F0000"))))
    assert events.alarms == ("sos", "low_battery", "geofence_exit", "geofence_enter", "removal", "fall")
    assert events.kind == "alarm"


def test_lk_is_answered_exactly() -> None:
    message = only(by_case(35))  # [3G*4700186508*000B*LK,0,10,100]
    assert message.reply == b"[3G*4700186508*0002*LK]"
    assert message.kind == "heartbeat"
    assert message.battery_pct == 100
    assert only(by_case(34)).reply == b"[SG*8800000015*0002*LK]"
    zj = only(by_case(4, "WatchFrameDecoderTest"))  # ZJ frames carry an index that the answer echoes
    assert zj.reply == b"[ZJ*014111001350304*0034*0002*LK]"
    assert zj.battery_pct == 19


def test_tkq_is_answered() -> None:
    assert only(by_case(32)).reply == b"[3G*8800000015*0003*TKQ]"
    (tkq2,) = messages(decode(frame("TKQ2", vendor="CS")))
    assert tkq2.reply == b"[CS*1234567890*0004*TKQ2]"


def test_health_readings() -> None:
    assert (
        only(by_case(17)).extra.items()
        >= {"pressure_high": 120, "pressure_low": 79, "heart_rate": 73}.items()
    )
    assert only(by_case(18)).extra.items() >= {"pressure_high": 109, "pressure_low": 68}.items()
    assert only(by_case(40)).extra["heart_rate"] == 72
    assert only(by_case(42)).extra["heart_rate"] == 71
    assert "heart_rate" not in only(by_case(41)).extra  # heart,0: the watch is not worn
    for case in (3, 7, 17, 18, 40, 41, 42):
        assert only(by_case(case)).kind == "other"


def test_network_lists() -> None:
    wifi_only = only(by_case(46))  # 3G layout: no cell, then five access points
    assert wifi_only.fix is not None
    assert wifi_only.fix.source == "wifi"
    assert wifi_only.fix.lat is None
    wifi = wifi_only.extra["wifi"]
    assert isinstance(wifi, list)
    assert [w["mac"] for w in wifi[:2]] == ["f4:db:e6:d2:a8:00", "f4:db:e6:da:d0:80"]
    cells = only(by_case(1)).extra["cells"]
    assert cells == [{"mcc": 234, "mnc": 10, "lac": 0x55C0, "cid": 0x3B882A2, "rssi": 132}]
    assert "cells" not in only(by_case(2)).extra  # FFFF,FFFF: no network identity


def test_length_mismatch_is_tolerated_and_reported() -> None:
    assert only(by_case(29)).extra["length_mismatch"] == {"declared": 9, "actual": 8}
    assert only(by_case(36)).extra["length_mismatch"] == {"declared": 0x87, "actual": 143}
    assert "length_mismatch" not in only(by_case(35)).extra


def test_frame_decoder_captures_give_the_expected_frame() -> None:
    """The escaped input of WatchFrameDecoderTest decodes exactly like the frame Traccar extracts."""
    for capture in [c for c in ALL if c.expectation.startswith("frame=")]:
        expected = bytes.fromhex(capture.expectation.removeprefix("frame="))
        assert messages(decode(capture.payload)) == messages(decode(expected)), capture.note


# ------------------------------------------------------------ streams


@pytest.mark.parametrize("capture", ALL, ids=lambda c: c.name)
def test_byte_by_byte_equals_whole(capture: Capture) -> None:
    whole = decode(capture.payload)
    assert decode(*[capture.payload[i : i + 1] for i in range(len(capture.payload))]) == whole


def test_all_captures_glued_and_split() -> None:
    stream = b"".join(c.payload for c in ALL)
    whole = messages(decode(stream))
    assert len(whole) == len(ALL)
    starts = [sum(len(c.payload) for c in ALL[:k]) for k in range(len(ALL))]
    assert [m.offset for m in whole] == starts
    assert [m.device_id for m in whole] == [c.device_id for c in ALL]
    assert decode(*[stream[i : i + 1] for i in range(len(stream))]) == whole
    rng = random.Random(20250101)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(stream)), 40))
        chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        assert decode(*chunks) == whole


def test_garbage_is_skipped_with_its_offset() -> None:
    lk = by_case(35).payload
    ud = by_case(36).payload
    junk1 = b"\x00\xffGET / HTTP/1.1\r\n"
    junk2 = b"]]\x13[[xx*1*0002*"
    stream = junk1 + lk + junk2 + ud
    whole = decode(stream)
    assert decode(*[stream[i : i + 1] for i in range(len(stream))]) == whole
    assert [type(i).__name__ for i in whole] == ["FrameError", "Message", "FrameError", "Message"]
    first, lk_message, second, ud_message = whole
    assert isinstance(first, FrameError)
    assert first.offset == 0
    assert f"skipped {len(junk1)} bytes" in first.reason
    assert "bytes 0-" in first.reason
    assert isinstance(lk_message, Message)
    assert lk_message.offset == len(junk1)
    assert isinstance(second, FrameError)
    assert second.offset == len(junk1) + len(lk)
    assert f"skipped {len(junk2)} bytes" in second.reason
    assert second.device_id == "4700186508"  # the connection's device, for the log
    assert isinstance(ud_message, Message)
    assert ud_message.offset == len(junk1) + len(lk) + len(junk2)


def test_frame_cut_short_by_the_next_frame() -> None:
    cut = b"[3G*1234567890*0040*UD,010125,1010"
    lk = by_case(35).payload
    items = decode(cut + lk)
    error, message = items
    assert isinstance(error, FrameError)
    assert error.offset == 0
    assert "cut short" in error.reason
    assert error.device_id == "1234567890"
    assert isinstance(message, Message)
    assert message.offset == len(cut)
    assert message.reply is not None


def test_buffer_over_64k_is_discarded() -> None:
    decoder = WatchDecoder()
    start = b"[3G*1234567890*FFFF*UD,"
    out = decoder.feed(start)
    for _ in range(20):
        out += decoder.feed(b"x" * 4096)
    errors = [i for i in out if isinstance(i, FrameError)]
    assert len(errors) == 1
    assert "discarded" in errors[0].reason
    assert errors[0].offset == 0
    assert errors[0].device_id == "1234567890"
    # The connection recovers at the next frame; the rest of the oversized frame is garbage.
    tail = decoder.feed(b"xxxx" + by_case(35).payload)
    assert isinstance(tail[0], FrameError)
    assert "garbage" in tail[0].reason
    assert isinstance(tail[1], Message)
    assert tail[1].battery_pct == 100
    assert tail[1].offset == len(start) + 20 * 4096 + 4


def test_endless_garbage_is_reported_once_past_64k() -> None:
    decoder = WatchDecoder()
    out: list[Message | FrameError] = []
    for _ in range(17):
        out += decoder.feed(b"\x00" * 4096)
    assert len(out) == 1
    assert isinstance(out[0], FrameError)
    assert out[0].offset == 0
    assert len(out[0].raw) <= 64
    assert MAX_BUFFER == 65536


def test_finish_reports_what_is_left() -> None:
    decoder = WatchDecoder()
    assert decoder.feed(b"junk[3G*12") == []  # the header is not complete: the junk may go on
    errors = decoder.finish()
    assert [e.offset for e in errors] == [0, 4]
    decoder = WatchDecoder()
    (junk,) = decoder.feed(b"junk[3G*1234567890*000B*LK,0")  # a real header ends the junk
    assert junk.offset == 0
    (rest,) = decoder.finish()
    assert rest.offset == 4
    assert "closed inside a frame" in rest.reason


def test_escaped_voice_frame() -> None:
    """On the wire 0x7d escapes ``} [ ] , *``; the length counts the unescaped bytes."""
    audio = b"#!AMR\n\x7d\x5b\x5d\x2c\x2a\x00\xff"
    escaped = audio.replace(b"}", b"}\x01").replace(b"[", b"}\x02").replace(b"]", b"}\x03")
    escaped = escaped.replace(b",", b"}\x04").replace(b"*", b"}\x05")
    wire = b"[3G*1234567890*%04X*TK," % (3 + len(audio)) + escaped + b"]"
    (message,) = messages(decode(wire))
    assert message.extra["audio"] == audio
    assert "length_mismatch" not in message.extra
    assert messages(decode(*[wire[i : i + 1] for i in range(len(wire))])) == [message]


# ------------------------------------------------------------ refused values


def test_absurd_values_are_refused_naming_the_field() -> None:
    ud = "UD,{},{},A,{},N,{},E,0,0,0,5,10,50,0,0,00000000,0,0"
    cases = {
        "month": ud.format("011325", "101010", "37.5", "127.0"),
        "day": ud.format("310225", "101010", "37.5", "127.0"),
        "time": ud.format("010125", "256000", "37.5", "127.0"),
        "latitude": ud.format("010125", "101010", "91.5", "127.0"),
        "longitude": ud.format("010125", "101010", "37.5", "181.0"),
    }
    for name, text in cases.items():
        (error,) = decode(frame(text))
        assert isinstance(error, FrameError), name
        assert name in error.reason
        assert error.device_id == "1234567890"
        assert error.offset == 0


def test_alarm_with_absurd_clock_still_raises_sos() -> None:
    text = "AL,001325,101010,V,0.0,N,0.0,E,0,0,0,0,10,50,0,0,00010000,0,0"
    error, alarm = decode(frame(text))
    assert isinstance(error, FrameError)
    assert "month" in error.reason
    assert isinstance(alarm, Message)
    assert alarm.alarms == ("sos",)
    assert alarm.fix is None
    assert alarm.reply == b"[3G*1234567890*0002*AL]"


def test_unknown_command_is_kept() -> None:
    message = only(by_case(2, "WatchFrameDecoderTest"))
    assert message.kind == "other"
    assert message.extra["command"] == "rcapture"
    assert message.reply is None


# ------------------------------------------------------------ properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.lists(st.integers(min_value=1, max_value=64), max_size=30))
def test_random_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    decoder = WatchDecoder()
    position = 0
    for size in [*cuts, len(data)]:
        for item in decoder.feed(data[position : position + size]):
            check(item)
        position += size
    decoder.finish()


FIELD = st.text(alphabet="0123456789.-+ ,ANSVEW*[]}xF¹²³\xa0", max_size=14)


@settings(max_examples=400)
@given(
    st.sampled_from(["UD", "UD2", "AL", "WT", "LK", "heart", "BLOOD", "btemp2", "TEMP", "TK", "JXTK"]),
    st.lists(FIELD, min_size=0, max_size=30),
    st.booleans(),
)
def test_random_frames_never_raise(command: str, fields: list[str], index: bool) -> None:
    body = ",".join([command, *fields]).encode("latin-1")
    head = b"[ZJ*123*0001*" if index else b"[3G*123*"
    data = head + b"%04X*" % len(body) + body + b"]" + frame("LK")
    for item in WatchDecoder().feed(data):
        check(item)


def check(item: Message | FrameError) -> None:
    if isinstance(item, Message) and item.fix is not None:
        assert item.fix.lat is None or -90 <= item.fix.lat <= 90
        assert item.fix.lon is None or -180 <= item.fix.lon <= 180
        assert item.fix.time.tzinfo is UTC
    if isinstance(item, Message):
        assert set(item.alarms) <= {
            "sos",
            "fall",
            "removal",
            "low_battery",
            "power_cut",
            "geofence_enter",
            "geofence_exit",
        }
