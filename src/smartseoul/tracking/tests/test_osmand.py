"""OsmAnd / Traccar Client decoding against Traccar's real request captures, plus refusals.

captures/osmand.tsv holds the requests of Traccar's OsmAndProtocolDecoderTest (see
captures/SOURCES.md): query URIs as the phone sent them and JSON bodies of Traccar Client. The
parameters are built the way the listener builds them (``merge_params(parse_qsl(query))``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartseoul.tracking.listeners import merge_params
from smartseoul.tracking.protocols import FrameError, Message
from smartseoul.tracking.protocols.osmand import decode_json, decode_params

CAPTURES = Path(__file__).parent / "captures" / "osmand.tsv"


@dataclass(frozen=True)
class Capture:
    payload: str
    expectation: str
    note: str

    @property
    def is_json(self) -> bool:
        return self.payload.startswith("{")

    @property
    def name(self) -> str:
        return self.note.split(";")[0].replace("OsmAndProtocolDecoderTest.", "").replace(" case ", "-")

    def params(self) -> dict[str, str]:
        return merge_params(parse_qsl(urlsplit(self.payload).query, keep_blank_values=True))

    def decode(self) -> Message | FrameError:
        return decode_json(self.payload.encode()) if self.is_json else decode_params(self.params())


ALL = [Capture(*line.split("\t")[1:]) for line in CAPTURES.read_text(encoding="utf-8").splitlines()]


def test_captures_loaded() -> None:
    assert len(ALL) == 15
    assert len([c for c in ALL if c.is_json]) == 4


@pytest.mark.parametrize(
    "capture", [c for c in ALL if c.expectation == "verifyPosition"], ids=lambda c: c.name
)
def test_capture_position(capture: Capture) -> None:
    message = capture.decode()
    assert isinstance(message, Message), message
    assert message.protocol == "osmand"
    assert message.kind == "position"
    fix = message.fix
    assert fix is not None
    assert fix.valid
    assert fix.source == "gps"
    assert fix.time.tzinfo is not None
    assert fix.time.utcoffset() == timedelta(0)
    if capture.is_json:
        document = json.loads(capture.payload)
        assert message.device_id == document["device_id"]
        coords = document["location"]["coords"]
        expected = (coords["latitude"], coords["longitude"])
        assert fix.time == datetime.fromisoformat(document["location"]["timestamp"])
    else:
        params = capture.params()
        assert message.device_id == params.get("id", params.get("deviceid"))
        if "location" in params:
            expected = tuple(float(v) for v in params["location"].split(","))  # type: ignore[assignment]
        else:
            expected = (float(params["lat"]), float(params["lon"]))
    assert fix.lat == pytest.approx(expected[0], abs=1e-5)
    assert fix.lon == pytest.approx(expected[1], abs=1e-5)


def test_capture_times() -> None:
    """Every timestamp form in the captures: epoch s, epoch ms, ISO 8601, and 'yyyy-MM-dd HH:mm:ss'."""
    times = {c.name: c.decode() for c in ALL if not c.is_json}
    expected = {
        "testDecodeQuery-7": datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC),
        "testDecodeQuery-8": datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=UTC),
        "testDecodeQuery-9": datetime(2014, 6, 4, 9, 10, 11, tzinfo=UTC),
        "testDecodeQuery-10": datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC),
    }
    for name, time in expected.items():
        message = times[name]
        assert isinstance(message, Message)
        assert message.fix is not None
        assert message.fix.time == time


def test_capture_without_timestamp_is_now() -> None:
    (capture,) = [c for c in ALL if c.name == "testDecodeQuery-12"]
    message = capture.decode()
    assert isinstance(message, Message)
    assert message.fix is not None
    assert abs(message.fix.time - datetime.now(UTC)) < timedelta(seconds=5)
    assert message.device_id == "123456"  # deviceid= rather than id=


def test_capture_cell_and_wifi_without_position() -> None:
    (capture,) = [c for c in ALL if c.expectation == "verifyNotNull"]
    message = capture.decode()
    assert isinstance(message, Message)
    assert message.device_id == "123456"
    fix = message.fix
    assert fix is not None
    assert fix.lat is None
    assert fix.lon is None
    assert fix.valid is False
    assert fix.source == "wifi"
    # Repeated cell= and wifi= parameters are each one tower or access point: all are kept.
    assert message.extra["cells"] == [
        {"mcc": 257, "mnc": 2, "lac": 16, "cid": 2224},
        {"mcc": 257, "mnc": 2, "lac": 16, "cid": 2223, "rssi": -90},
    ]
    assert message.extra["wifi"] == [
        {"mac": "00:14:22:01:23:45", "rssi": -80},
        {"mac": "00:1c:b3:09:85:15", "rssi": -70},
    ]


def test_capture_without_id_is_refused() -> None:
    (capture,) = [c for c in ALL if c.expectation == "verifyNull"]
    error = capture.decode()
    assert isinstance(error, FrameError)
    assert "id" in error.reason


def test_capture_units_and_extras() -> None:
    by_name = {c.name: c.decode() for c in ALL}
    obd = by_name["testDecodeQuery-15"]
    assert isinstance(obd, Message)
    assert obd.fix is not None
    assert obd.fix.speed_kmh == pytest.approx(40 * 1.852)  # knots
    assert obd.fix.course == pytest.approx(7.19889788244)
    assert obd.extra == {"ignition": True, "rpm": 933.0, "fuel": 24.0}
    battery = by_name["testDecodeQuery-13"]
    assert isinstance(battery, Message)
    assert battery.battery_pct == 87
    json_moving = by_name["testDecodeJson-4"]
    assert isinstance(json_moving, Message)
    assert json_moving.fix is not None
    assert json_moving.fix.speed_kmh == pytest.approx(18.67 * 3.6)  # m/s in the JSON body
    assert json_moving.fix.course == 63
    assert json_moving.fix.accuracy_m == 3.8
    assert json_moving.battery_pct == 79
    json_still = by_name["testDecodeJson-1"]
    assert isinstance(json_still, Message)
    assert json_still.fix is not None
    assert json_still.fix.course is None
    assert json_still.battery_pct == 100
    json_unknown = by_name["testDecodeJson-3"]
    assert isinstance(json_unknown, Message)
    assert json_unknown.battery_pct is None
    assert json_unknown.fix is not None
    assert json_unknown.fix.speed_kmh is None


# ------------------------------------------------------------ constructed requests


def test_offset_is_passed_through() -> None:
    message = decode_params({"id": "7", "lat": "37.5", "lon": "127.0"}, offset=12)
    assert isinstance(message, Message)
    assert message.offset == 12
    error = decode_params({"lat": "37.5"}, offset=13)
    assert isinstance(error, FrameError)
    assert error.offset == 13


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"id": "7", "lat": "north", "lon": "127.0"}, "lat"),
        ({"id": "7", "lat": "37.5", "lon": "nan"}, "lon"),
        ({"id": "7", "lat": "37.5"}, "lon"),
        ({"id": "7", "location": "37.5"}, "location"),
        ({"id": "7", "lat": "91", "lon": "127.0"}, "lat"),
        ({"id": "7", "lat": "37.5", "lon": "-181"}, "lon"),
        ({"id": "7", "lat": "37.5", "lon": "127", "speed": "fast"}, "speed"),
        ({"id": "7", "lat": "37.5", "lon": "127", "timestamp": "yesterday"}, "timestamp"),
        ({"id": "7", "lat": "37.5", "lon": "127", "timestamp": "2025-13-01T00:00:00Z"}, "timestamp"),
        ({"id": "7", "lat": "37.5", "lon": "127", "timestamp": "99999999999999999999"}, "timestamp"),
        ({"id": "7", "lat": "37.5", "lon": "127", "batt": "full"}, "batt"),
        ({"id": "7", "lat": "37.5", "lon": "127", "valid": "maybe"}, "valid"),
        ({"id": "7", "cell": "450,05,1234"}, "cell"),
        ({"id": "7", "wifi": "not-a-mac,-70"}, "wifi"),
        ({"deviceid": "  ", "lat": "37.5", "lon": "127"}, "id"),
    ],
)
def test_unreadable_parameters_are_refused_by_name(params: dict[str, str], name: str) -> None:
    error = decode_params(params)
    assert isinstance(error, FrameError)
    assert f"parameter {name}" in error.reason or (name == "id" and "parameter id" in error.reason)


def test_full_traccar_client_request() -> None:
    message = decode_params(
        {
            "id": "child-1",
            "timestamp": "1735689600000",
            "lat": "37.5665",
            "lon": "126.978",
            "speed": "10",
            "bearing": "90",
            "altitude": "38",
            "accuracy": "12.5",
            "batt": "64.6",
            "charge": "true",
        }
    )
    assert isinstance(message, Message)
    assert message.kind == "position"
    assert message.battery_pct == 65
    assert message.fix is not None
    assert message.fix.time == datetime(2025, 1, 1, tzinfo=UTC)
    assert message.fix.speed_kmh == pytest.approx(18.52)
    assert (message.fix.course, message.fix.altitude_m, message.fix.accuracy_m) == (90.0, 38.0, 12.5)
    assert message.extra == {"charge": True}


def test_valid_false_and_zero_position() -> None:
    invalid = decode_params({"id": "7", "lat": "37.5", "lon": "127", "valid": "false"})
    assert isinstance(invalid, Message)
    assert invalid.fix is not None
    assert invalid.fix.valid is False
    zero = decode_params({"id": "7", "lat": "0", "lon": "0", "batt": "50"})
    assert isinstance(zero, Message)
    assert zero.fix is None
    assert zero.kind == "heartbeat"
    cell = decode_params({"id": "7", "lat": "0", "lon": "0", "cell": "450,5,1234,5678"})
    assert isinstance(cell, Message)
    assert cell.fix is not None
    assert cell.fix.source == "cell"
    assert cell.fix.lat is None
    assert cell.fix.valid is False


def test_alarms() -> None:
    sos = decode_params({"id": "7", "lat": "37.5", "lon": "127", "alarm": "sos"})
    assert isinstance(sos, Message)
    assert sos.alarms == ("sos",)
    assert sos.kind == "alarm"
    several = decode_params({"id": "7", "alarm": "fallDown,lowBattery,sos,wobble"})
    assert isinstance(several, Message)
    assert several.alarms == ("fall", "low_battery", "sos")
    assert several.extra["unknown_alarms"] == ["wobble"]
    assert several.fix is None
    json_sos = decode_json(
        json.dumps(
            {
                "device_id": "7",
                "location": {"coords": {"latitude": 1, "longitude": 2}, "extras": {"alarm": "sos"}},
            }
        ).encode()
    )
    assert isinstance(json_sos, Message)
    assert json_sos.alarms == ("sos",)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"location": {"coords": {"latitude": 1, "longitude": 2}}}', "device_id"),
        (b'{"device_id": "7"}', "location"),
        (b'{"device_id": "7", "location": {"coords": {"latitude": "x", "longitude": 2}}}', "coords.latitude"),
        (b'{"device_id": "7", "location": {"coords": {"latitude": 95, "longitude": 2}}}', "latitude"),
        (b'{"device_id": "7", "location": {"coords": {"latitude": 1}}}', "longitude"),
        (
            b'{"device_id": "7", "location": {"timestamp": "x", "coords": {"latitude": 1, "longitude": 2}}}',
            "timestamp",
        ),
        (b"\xff\xfe\x00", "malformed JSON"),
    ],
)
def test_bad_json_is_refused(body: bytes, reason: str) -> None:
    error = decode_json(body, offset=3)
    assert isinstance(error, FrameError)
    assert reason in error.reason
    assert error.offset == 3


def test_json_device_id_in_extras_and_number() -> None:
    extras = decode_json(
        b'{"location": {"coords": {"latitude": 1, "longitude": 2}, "extras": {"device_id": "x"}}}'
    )
    assert isinstance(extras, Message)
    assert extras.device_id == "x"
    number = decode_json(b'{"device_id": 42, "location": {"coords": {"latitude": 1, "longitude": 2}}}')
    assert isinstance(number, Message)
    assert number.device_id == "42"


# ------------------------------------------------------------ properties


TEXT = st.text(max_size=30)
NAMES = st.sampled_from(
    [
        "id",
        "deviceid",
        "lat",
        "lon",
        "location",
        "timestamp",
        "speed",
        "bearing",
        "heading",
        "altitude",
        "accuracy",
        "batt",
        "valid",
        "cell",
        "wifi",
        "alarm",
        "other",
    ]
)


@settings(max_examples=300)
@given(st.dictionaries(NAMES, st.one_of(TEXT, st.floats().map(str), st.integers().map(str)), max_size=10))
def test_random_parameters_never_raise(params: dict[str, str]) -> None:
    check(decode_params(params))


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bodies_never_raise(body: bytes) -> None:
    check(decode_json(body))


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(["latitude", "longitude", "speed", "heading", "accuracy", "altitude"]), JSON
    ),
    JSON,
    JSON,
)
def test_random_json_shapes_never_raise(coords: dict[str, object], stamp: object, battery: object) -> None:
    body = {"device_id": "7", "location": {"coords": coords, "timestamp": stamp, "battery": battery}}
    check(decode_json(json.dumps(body).encode()))


def check(item: Message | FrameError) -> None:
    if isinstance(item, Message) and item.fix is not None:
        assert item.fix.lat is None or -90 <= item.fix.lat <= 90
        assert item.fix.lon is None or -180 <= item.fix.lon <= 180
        assert item.fix.time.utcoffset() == timedelta(0)
