"""OwnTracks: the phone app's JSON messages, over MQTT (``owntracks/USER/DEVICE``) or HTTP.

OwnTracks is what a family installs on a teenager's phone instead of a watch. A message is one
JSON object whose ``_type`` says what it is; only ``location`` carries a position (``lat``,
``lon``, ``tst`` epoch seconds, ``acc`` and ``alt`` in metres, ``vel`` in km/h, ``cog`` degrees,
``batt`` percent, ``tid`` the two-letter tracker id, ``t`` what triggered the report). The
payload itself names no device: the identifier is ``USER/DEVICE``, from the MQTT topic or, over
HTTP, from the ``X-Limit-U`` / ``X-Limit-D`` headers (newer apps also put ``topic`` in the payload,
used when neither is given). Encrypted payloads (``_type: encrypted``) are refused: no key is kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from smartseoul.tracking.protocols import Fix, FrameError, Message

PROTOCOL = "owntracks"

# What the 't' field says triggered a location report.
TRIGGERS: dict[str, str] = {
    "p": "ping",
    "c": "region",
    "b": "beacon",
    "r": "report_requested",
    "u": "manual",
    "t": "timer",
    "v": "move_mode",
    "w": "watch",
    "l": "location_service",
}


class _Bad(ValueError):
    """A field that cannot be read; the message names it."""


def _number(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, str):  # hand-made HTTP clients (curl, scripts) often quote numbers
        text = value
        try:
            value = float(text)
        except ValueError:
            raise _Bad(f"field {name}: not a number: {text[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad(f"field {name}: not a number: {str(value)[:40]!r}")
    return float(value)


def _time(payload: Mapping[str, Any], name: str) -> datetime:
    stamp = _number(payload, name)
    if stamp is None:
        raise _Bad(f"field {name} missing")
    try:
        return datetime.fromtimestamp(stamp, UTC)
    except (ValueError, OverflowError, OSError):
        raise _Bad(f"field {name}: not a time: {stamp}") from None


def _identifier(payload: Mapping[str, Any], user: str | None, device: str | None) -> str | None:
    user = (user or "").strip()
    device = (device or "").strip()
    if user and device:
        return f"{user}/{device}"
    topic = payload.get("topic")
    if not (user or device) and isinstance(topic, str):
        parts = topic.strip("/").split("/")
        if len(parts) >= 3 and parts[1] and parts[2]:
            return f"{parts[1]}/{parts[2]}"
    return None


def decode_owntracks(
    payload: bytes, *, user: str | None, device: str | None, offset: int = 0
) -> Message | FrameError:
    """One OwnTracks message -> a Message (``location`` -> position, the rest -> ``other``)."""
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError) as error:
        return FrameError(PROTOCOL, offset, f"malformed JSON: {error}", raw=payload[:256])
    if not isinstance(document, dict):
        return FrameError(PROTOCOL, offset, "payload is not a JSON object", raw=payload[:256])
    identifier = _identifier(document, user, device)
    kind = document.get("_type")
    if identifier is None:
        return FrameError(
            PROTOCOL,
            offset,
            "no device identifier: need the MQTT topic owntracks/USER/DEVICE "
            "or the X-Limit-U and X-Limit-D headers",
            raw=payload[:256],
        )
    if not isinstance(kind, str):
        return FrameError(PROTOCOL, offset, "field _type missing", identifier, payload[:256])
    try:
        if kind == "location":
            return _location(document, identifier, offset)
        if kind == "encrypted":
            raise _Bad("encrypted payload: no key is configured to read it")
        return _other(kind, document, identifier, offset)
    except _Bad as error:
        return FrameError(PROTOCOL, offset, f"{kind}: {error}", identifier, payload[:256])


def _location(payload: Mapping[str, Any], identifier: str, offset: int) -> Message:
    lat, lon = _number(payload, "lat"), _number(payload, "lon")
    if lat is None:
        raise _Bad("field lat missing")
    if lon is None:
        raise _Bad("field lon missing")
    if not -90 <= lat <= 90:
        raise _Bad(f"field lat: impossible latitude {lat}")
    if not -180 <= lon <= 180:
        raise _Bad(f"field lon: impossible longitude {lon}")
    time = _time(payload, "tst")
    accuracy = _number(payload, "acc")
    speed = _number(payload, "vel")
    course = _number(payload, "cog")
    battery = _number(payload, "batt")
    point = (None, None) if lat == 0 and lon == 0 else (lat, lon)
    fix = Fix(
        time=time,
        lat=point[0],
        lon=point[1],
        valid=point[0] is not None,
        source="gps",
        speed_kmh=speed if speed is not None and speed >= 0 else None,
        course=course if course is not None and 0 <= course <= 360 else None,
        altitude_m=_number(payload, "alt"),
        accuracy_m=accuracy if accuracy is not None and accuracy >= 0 else None,
    )
    extra: dict[str, object] = {}
    trigger = payload.get("t")
    if isinstance(trigger, str):
        extra["trigger"] = TRIGGERS.get(trigger, trigger)
    for key in ("tid", "conn", "SSID", "BSSID", "bs", "m"):
        value = payload.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            extra[key.lower()] = value
    regions = payload.get("inregions")
    if isinstance(regions, list) and all(isinstance(region, str) for region in regions):
        extra["inregions"] = regions
    return Message(
        PROTOCOL,
        identifier,
        "position",
        offset,
        fix=fix,
        battery_pct=round(battery) if battery is not None and 0 <= battery <= 100 else None,
        extra=extra,
    )


def _other(kind: str, payload: Mapping[str, Any], identifier: str, offset: int) -> Message:
    """Everything but ``location``: kept for the record, never a position or an alarm."""
    extra: dict[str, object] = {"type": kind}
    if kind == "lwt":  # the broker publishes this when the phone drops off without saying goodbye
        extra["offline"] = True
        extra["note"] = "device went offline (MQTT last will)"
        if payload.get("tst") is not None:
            extra["since"] = _time(payload, "tst")
    elif kind == "transition":
        for key in ("event", "desc", "t"):
            if isinstance(payload.get(key), str):
                extra[key] = payload[key]
    elif kind in ("card", "waypoint", "waypoints", "status", "steps", "cmd", "dump"):
        for key in ("name", "desc", "action"):
            if isinstance(payload.get(key), str):
                extra[key] = payload[key]
    return Message(PROTOCOL, identifier, "other", offset, extra=extra)
