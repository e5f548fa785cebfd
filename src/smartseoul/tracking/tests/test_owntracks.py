"""OwnTracks messages. Traccar has no OwnTracks captures, so every payload here is CONSTRUCTED
from the OwnTracks JSON format documentation (``_type`` location / transition / waypoint / lwt /
card / encrypted), not recorded from a phone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartseoul.tracking.protocols import FrameError, Message
from smartseoul.tracking.protocols.owntracks import decode_owntracks

# Constructed: the documented shape of an Android location report.
LOCATION = {
    "_type": "location",
    "acc": 14,
    "alt": 38,
    "batt": 81,
    "bs": 1,
    "conn": "m",
    "cog": 271,
    "lat": 37.566535,
    "lon": 126.977969,
    "t": "p",
    "tid": "jh",
    "tst": 1735700000,
    "vac": 3,
    "vel": 12,
}


def encode(document: object) -> bytes:
    return json.dumps(document).encode()


def test_location() -> None:
    message = decode_owntracks(encode(LOCATION), user="kim", device="phone", offset=4)
    assert isinstance(message, Message)
    assert (message.protocol, message.device_id, message.kind, message.offset) == (
        "owntracks",
        "kim/phone",
        "position",
        4,
    )
    fix = message.fix
    assert fix is not None
    assert fix.valid
    assert fix.source == "gps"
    assert fix.time == datetime.fromtimestamp(1735700000, UTC)
    assert fix.time.tzinfo is UTC
    assert (fix.lat, fix.lon) == pytest.approx((37.566535, 126.977969))
    assert (fix.accuracy_m, fix.altitude_m, fix.speed_kmh, fix.course) == (14, 38, 12, 271)
    assert message.battery_pct == 81
    assert message.extra["trigger"] == "ping"
    assert message.extra["tid"] == "jh"
    assert message.extra["conn"] == "m"
    assert message.alarms == ()
    assert message.reply is None


def test_minimal_location_and_manual_trigger() -> None:
    message = decode_owntracks(
        encode({"_type": "location", "lat": -33.9, "lon": 151.2, "tst": 1700000000, "t": "u"}),
        user="a",
        device="b",
    )
    assert isinstance(message, Message)
    assert message.fix is not None
    assert message.fix.accuracy_m is None
    assert message.battery_pct is None
    assert message.extra == {"trigger": "manual"}


def test_identifier_from_topic_in_payload() -> None:
    payload = encode({**LOCATION, "topic": "owntracks/lee/tablet"})
    message = decode_owntracks(payload, user=None, device=None)
    assert isinstance(message, Message)
    assert message.device_id == "lee/tablet"
    # The transport's identity wins over the payload's own claim.
    assert decode_owntracks(payload, user="kim", device="phone").device_id == "kim/phone"


@pytest.mark.parametrize(("user", "device"), [(None, None), ("kim", None), (None, "phone"), ("  ", "phone")])
def test_missing_identifier_is_refused(user: str | None, device: str | None) -> None:
    error = decode_owntracks(encode(LOCATION), user=user, device=device)
    assert isinstance(error, FrameError)
    assert "X-Limit-U" in error.reason


def test_lwt_means_offline() -> None:
    message = decode_owntracks(b'{"_type":"lwt","tst":1735700000}', user="kim", device="phone")
    assert isinstance(message, Message)
    assert message.kind == "other"
    assert message.fix is None
    assert message.extra["offline"] is True
    assert "offline" in str(message.extra["note"])
    assert message.extra["since"] == datetime.fromtimestamp(1735700000, UTC)


@pytest.mark.parametrize(
    "document",
    [
        {
            "_type": "transition",
            "wtst": 1735600000,
            "lat": 37.5,
            "lon": 127.0,
            "tst": 1735700000,
            "acc": 10,
            "tid": "jh",
            "event": "leave",
            "desc": "School",
            "t": "c",
        },
        {"_type": "waypoint", "desc": "Home", "lat": 37.5, "lon": 127.0, "rad": 100, "tst": 1735600000},
        {"_type": "card", "name": "Ji-ho", "face": "aGVsbG8="},
        {"_type": "status", "android": {"hib": 1}},
        {"_type": "somethingnew"},
    ],
)
def test_other_types(document: dict[str, object]) -> None:
    message = decode_owntracks(encode(document), user="kim", device="phone")
    assert isinstance(message, Message)
    assert message.kind == "other"
    assert message.fix is None
    assert message.alarms == ()
    assert message.extra["type"] == document["_type"]
    if document["_type"] == "transition":
        assert message.extra["event"] == "leave"
        assert message.extra["desc"] == "School"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", "malformed JSON"),
        (b"", "malformed JSON"),
        (b"\xff\xff", "malformed JSON"),
        (b"[]", "not a JSON object"),
        (b'{"lat": 1}', "_type"),
        (b'{"_type": "location", "lon": 1, "tst": 1}', "lat"),
        (b'{"_type": "location", "lat": 1, "tst": 1}', "lon"),
        (b'{"_type": "location", "lat": 1, "lon": 2}', "tst"),
        (b'{"_type": "location", "lat": 91, "lon": 2, "tst": 1}', "latitude"),
        (b'{"_type": "location", "lat": 1, "lon": 200, "tst": 1}', "longitude"),
        (b'{"_type": "location", "lat": "north", "lon": 2, "tst": 1}', "lat"),
        (b'{"_type": "location", "lat": true, "lon": 2, "tst": 1}', "lat"),
        (b'{"_type": "location", "lat": 1, "lon": 2, "tst": 1e300}', "tst"),
        (b'{"_type": "encrypted", "data": "abc"}', "encrypted"),
    ],
)
def test_malformed_is_refused_with_the_reason(payload: bytes, reason: str) -> None:
    error = decode_owntracks(payload, user="kim", device="phone", offset=9)
    assert isinstance(error, FrameError)
    assert reason in error.reason
    assert error.offset == 9


def test_out_of_range_battery_and_unknown_course_are_dropped() -> None:
    payload = encode({**LOCATION, "batt": 250, "cog": -1, "vel": -1, "acc": -1})
    message = decode_owntracks(payload, user="kim", device="phone")
    assert isinstance(message, Message)
    assert message.battery_pct is None
    assert message.fix is not None
    assert (message.fix.course, message.fix.speed_kmh, message.fix.accuracy_m) == (None, None, None)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(payload: bytes) -> None:
    check(decode_owntracks(payload, user="kim", device="phone"))


VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(["lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt", "t", "tid"]), VALUE
    ),
    st.sampled_from(["location", "lwt", "transition"]),
)
def test_random_fields_never_raise(fields: dict[str, object], kind: str) -> None:
    check(decode_owntracks(encode({"_type": kind, **fields}), user="kim", device="phone"))


def check(item: Message | FrameError) -> None:
    if isinstance(item, Message) and item.fix is not None:
        assert item.fix.lat is None or -90 <= item.fix.lat <= 90
        assert item.fix.lon is None or -180 <= item.fix.lon <= 180
        assert item.fix.time.tzinfo is UTC
