"""The watch decoder's fast paths decide exactly what its general paths decide.

Two shortcuts make the common frame cheap: a whole plain frame cut by one regular expression
(instead of the header parser and the byte-by-byte scan), and the position fields of the usual
shape checked by one regular expression (instead of one check per field). Each must be invisible:
the same Messages, the same errors with the same offsets. Feeding a stream one byte at a time never
takes the frame shortcut (no frame is complete when its header is parsed), so it is the reference
for the first; ``_any_position`` (the field-by-field decoder) is the reference for the second.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartseoul.tracking.protocols import FrameError, Message
from smartseoul.tracking.protocols.watch import (
    WatchDecoder,
    _any_position,
    _BadField,
    _common_position,
)
from smartseoul.tracking.simulate import position_content, watch_frame

DATES = ["010125", "311224", "290224", "290223", "310425", "001325", "011325", "000125", "1a0125", " 010125"]
CLOCKS = ["000000", "235959", "240000", "236000", "235960", "101010", "10101", "1010100", " 101010"]
REALS = [
    "",
    "0",
    "0.0",
    "-0.0",
    "00.000000",
    "1.",
    "90",
    "90.0",
    "90.000001",
    "-91",
    "180",
    "180.5",
    "1600",
    "1600.01",
    "-5",
    "360",
    "361",
    " 3",
    "1e3",
    "nan",
    "inf",
    "-",
    ".5",
    "x",
]
INTS = ["", "0", "9", "007", "100", "101", "-1", " 5", "x", "¹"]
STATUSES = ["", "00000000", "00000001", "00000010", "00010000", "007F0011", "FFFFFFFF", "ffff", "zz", " 1"]
TAILS = [
    None,
    "",
    "0",
    "0,0",
    "0,0,0",
    "0,1,home,aa:bb:cc:dd:ee:ff,-50",
    "0,0,460,0,2,a,00:11:22:33:44:55,-60,b,00-11-22-33-44-66,-70",
    "1,0,460,0,9520,3671,13",
    "1,0,FFFF,FFFF,9520,3671,13",
    "2,0,460,0,9520,3671,13",
]

real = st.one_of(st.sampled_from(REALS), st.floats(-200, 2000).map(lambda f: f"{f:.6f}"))
whole = st.one_of(st.sampled_from(INTS), st.integers(0, 200).map(str))
status = st.one_of(st.sampled_from(STATUSES), st.integers(0, 2**32 - 1).map(lambda n: f"{n:08X}"))
# Per field: what a working watch sends, and the odd values (some refused, some tolerated).
USUAL = [
    st.dates().map(lambda d: f"{d:%d%m%y}"),
    st.times().map(lambda t: f"{t:%H%M%S}"),
    st.sampled_from(["A", "V"]),
    st.floats(-90, 90).map(lambda f: f"{f:.6f}"),
    st.sampled_from(["N", "S", ""]),
    st.floats(-180, 180).map(lambda f: f"{f:.6f}"),
    st.sampled_from(["E", "W", ""]),
    st.floats(0, 200).map(lambda f: f"{f:.2f}"),
    st.floats(0, 360).map(lambda f: f"{f:.1f}"),
    st.floats(-100, 3000).map(lambda f: f"{f:.1f}"),
    st.integers(0, 20).map(str),
    st.integers(0, 100).map(str),
    st.integers(0, 100).map(str),
    st.integers(0, 99999).map(str),
    st.sampled_from(["0", ""]),
    st.integers(0, 2**32 - 1).map(lambda n: f"{n:08X}"),
]
ODD = [
    st.sampled_from(DATES),
    st.sampled_from(CLOCKS),
    st.sampled_from([" A", "X", ""]),
    real,
    st.sampled_from([" N", "E", "n"]),
    real,
    st.sampled_from(["W ", "N", "w"]),
    real,
    real,
    real,
    whole,
    whole,
    whole,
    whole,
    st.sampled_from(["anything", " "]),
    status,
]


@st.composite
def position_texts(draw: st.DrawFn) -> str:
    """UD/AL field lists: the usual shape, often with one or two fields odd, sometimes cut short."""
    fields = [draw(strategy) for strategy in USUAL]
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, 15))
        fields[at] = draw(ODD[at])
    fields = fields[: draw(st.sampled_from([16, 16, 16, 15, 12]))]
    tail = draw(st.sampled_from(TAILS))
    return ",".join(fields if tail is None else [*fields, tail])


def outcome(decode: object, text: str) -> object:
    assert callable(decode)
    try:
        return decode(text)
    except _BadField as error:
        return ("refused", str(error))


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(position_texts())
def test_common_position_is_the_general_decoding_or_declines(text: str) -> None:
    common = _common_position(text)
    if common is not None:
        assert common == outcome(_any_position, text)


def test_common_position_takes_the_frames_watches_send() -> None:
    """The shortcut must not be dead code: the simulator's (and real watches') frames take it."""
    when = datetime(2025, 1, 22, 10, 10, 10, tzinfo=UTC)
    for lat, lon, status in ((37.5665, 126.978, "00000000"), (-33.9, -70.6, "00010000"), (None, None, "0")):
        text = position_content(lat, lon, when, status=status).split(",", 1)[1]
        common = _common_position(text)
        assert common is not None, text
        assert common == _any_position(text)
        assert common[0].time == when


def test_impossible_dates_are_refused_every_time() -> None:
    """The date part is remembered: an impossible one must stay refused, by name, on each frame."""
    text = "310225,101010,A,37.5,N,127.0,E,0,0,0,5,10,50,0,0,00000000,0,0"
    for _ in range(3):
        (error,) = WatchDecoder().feed(watch_frame("1234567890", f"UD,{text}"))
        assert isinstance(error, FrameError)
        assert "day" in error.reason


VENDORS = ["3G", "SG", "ZJ", "CS", "A1234567", "ABCDEFGHI", "", "3g"]
IDENTIFIERS = ["1234567890", "860000000000000", "a-b_C", "x" * 32, "x" * 33, "bad id", ""]
CONTENTS = [
    "LK",
    "LK,0,0,80",
    "LK,50,100,101",
    "TKQ",
    "TK,1",
    "TK,#!AMR",
    "JXTK,a,1,1,1,AMR",
    "heart,72",
    "bphrt,120,79,73",
    "rcapture",
    "INIT",
    "UD,bad",
    "0010*LK",
    "UD,01[0125",
    "AL,}x",
    "UD,\x00",
    "",
]
GAPS = ["", "", "", "junk", "]]", "[", "[3G*", "\r\n", "[3G*1*"]


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """One frame, well-formed or not, with a length field that may lie, and maybe junk before it."""
    vendor = draw(st.sampled_from(VENDORS))
    identifier = draw(st.sampled_from(IDENTIFIERS))
    command = draw(st.sampled_from(["UD", "UD2", "UD_LTE", "UD_WCDMA", "AL", "WT", "ALCUSTOMER1"]))
    content = draw(
        st.one_of(st.sampled_from(CONTENTS), position_texts().map(lambda text: f"{command},{text}"))
    ).encode("latin-1")
    length = draw(st.one_of(st.just(len(content)), st.integers(0, 0xFFFF)))
    index = draw(st.sampled_from(["", "0001*", "00AB*"]))
    head = f"[{vendor}*{identifier}*{index}{length:04X}*".encode()
    return draw(st.sampled_from(GAPS)).encode() + head + content + b"]"


def decode(chunks: list[bytes]) -> list[Message | FrameError]:
    decoder = WatchDecoder()
    out: list[Message | FrameError] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out + list(decoder.finish())


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames(), min_size=1, max_size=8), st.lists(st.integers(1, 300), max_size=10))
def test_whole_frames_decode_as_byte_by_byte(parts: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(parts)
    reference = decode([stream[i : i + 1] for i in range(len(stream))])
    assert decode([stream]) == reference
    chunks, start = [], 0
    for size in cuts:
        chunks.append(stream[start : start + size])
        start += size
    assert decode([*chunks, stream[start:]]) == reference


def test_frames_of_the_usual_shape_take_the_whole_frame_path() -> None:
    """A stream of ordinary frames is decoded with no per-frame scan state left behind."""
    when = datetime(2025, 1, 22, 10, 10, 10, tzinfo=UTC)
    stream = b"".join(
        watch_frame("860000000000000", content)
        for content in (position_content(37.5, 127.0, when), "LK,0,0,80", "TKQ")
    )
    decoder = WatchDecoder()
    items = decoder.feed(stream)
    assert [type(item).__name__ for item in items] == ["Message"] * 3
    assert decoder._scan is None
    assert len(decoder._headers) == 3
