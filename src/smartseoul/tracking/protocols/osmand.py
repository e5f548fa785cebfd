"""OsmAnd / Traccar Client over HTTP: one position per request, as parameters or as a JSON body.

Phones and the Traccar Client app report with ``GET /?id=...&lat=...&lon=...`` (or the same as a
form POST); newer Traccar Client versions POST a JSON body in the shape of the background
geolocation library they use. Both are stateless, so they are plain functions: the listener merges
the query and form parameters of one request and calls :func:`decode_params` (or
:func:`decode_json` for a JSON body), with ``offset`` counting the requests of the connection.

Units follow Traccar: ``speed`` as a parameter is in knots (what OsmAnd and Traccar Client send);
in the JSON body it is in m/s. Both become km/h. A number that does not parse is refused with a
FrameError that names the parameter: guessing would put a child on the map where they are not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from smartseoul.tracking.protocols import Fix, FrameError, Kind, Message, Source

PROTOCOL = "osmand"
KNOT_KMH = 1.852
MPS_KMH = 3.6
_EPOCH_SECONDS_LIMIT = 2**31 - 1  # Traccar's rule: below this a timestamp is seconds, above it milliseconds
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}")

# Alarm names as Traccar Client and Traccar's own attribute values spell them.
ALARM_NAMES: dict[str, str] = {
    "sos": "sos",
    "fall": "fall",
    "falldown": "fall",
    "removing": "removal",
    "removal": "removal",
    "lowbattery": "low_battery",
    "low_battery": "low_battery",
    "powercut": "power_cut",
    "power_cut": "power_cut",
    "vibration": "vibration",
    "overspeed": "overspeed",
    "geofenceenter": "geofence_enter",
    "geofence_enter": "geofence_enter",
    "geofenceexit": "geofence_exit",
    "geofence_exit": "geofence_exit",
    "tampering": "tamper",
    "tamper": "tamper",
}

_KNOWN = frozenset(
    {
        "id",
        "deviceid",
        "timestamp",
        "lat",
        "lon",
        "location",
        "speed",
        "bearing",
        "heading",
        "altitude",
        "accuracy",
        "hacc",
        "batt",
        "valid",
        "cell",
        "wifi",
        "alarm",
    }
)


class _Bad(ValueError):
    """A parameter that cannot be read; the message names it."""


def _float(name: str, value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise _Bad(f"parameter {name}: not a number: {value[:40]!r}") from None
    if not math.isfinite(number):
        raise _Bad(f"parameter {name}: not a finite number: {value[:40]!r}")
    return number


def _int(name: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise _Bad(f"parameter {name}: not an integer: {value[:40]!r}") from None


def parse_timestamp(value: str, name: str = "timestamp") -> datetime:
    """Epoch seconds, epoch milliseconds, ISO 8601, or ``yyyy-MM-dd HH:mm:ss``; naive means UTC."""
    text = value.strip()
    try:
        if re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", text):
            number = float(text)
            if number >= _EPOCH_SECONDS_LIMIT:
                number /= 1000.0
            return datetime.fromtimestamp(number, UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise _Bad(f"parameter {name}: not a time: {value[:40]!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _check_point(lat: float, lon: float) -> None:
    if not -90 <= lat <= 90:
        raise _Bad(f"parameter lat: impossible latitude {lat}")
    if not -180 <= lon <= 180:
        raise _Bad(f"parameter lon: impossible longitude {lon}")


def _cells(value: str) -> list[dict[str, object]]:
    """``mcc,mnc,lac,cid[,rssi]``; several towers may be joined with ';'."""
    cells: list[dict[str, object]] = []
    for item in filter(None, value.split(";")):
        parts = item.split(",")
        if len(parts) not in (4, 5):
            raise _Bad(f"parameter cell: expected mcc,mnc,lac,cid[,rssi]: {item[:40]!r}")
        cell: dict[str, object] = {
            key: _int("cell", part) for key, part in zip(("mcc", "mnc", "lac", "cid"), parts, strict=False)
        }
        if len(parts) == 5:
            cell["rssi"] = _int("cell", parts[4])
        cells.append(cell)
    return cells


def _wifi(value: str) -> list[dict[str, object]]:
    """``mac,rssi`` (the MAC may use '-'); several access points may be joined with ';'."""
    points: list[dict[str, object]] = []
    for item in filter(None, value.split(";")):
        parts = item.split(",")
        if len(parts) != 2 or not _MAC.fullmatch(parts[0].strip()):
            raise _Bad(f"parameter wifi: expected mac,rssi: {item[:40]!r}")
        points.append({"mac": parts[0].strip().lower().replace("-", ":"), "rssi": _int("wifi", parts[1])})
    return points


def _alarms(value: str) -> tuple[tuple[str, ...], list[str]]:
    known: list[str] = []
    unknown: list[str] = []
    for name in filter(None, (part.strip() for part in value.split(","))):
        mapped = ALARM_NAMES.get(name.lower())
        if mapped is None:
            unknown.append(name)
        elif mapped not in known:
            known.append(mapped)
    return tuple(known), unknown


def _plain(value: str) -> object:
    """Other parameters are kept as Traccar keeps them: numbers, booleans, or text."""
    if value in ("true", "false"):
        return value == "true"
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def decode_params(params: Mapping[str, str], offset: int = 0) -> Message | FrameError:
    """One OsmAnd request's parameters -> a Message, or a FrameError naming the bad parameter."""
    device = (params.get("id") or params.get("deviceid") or "").strip()
    if not device:
        return FrameError(PROTOCOL, offset, "missing parameter id (or deviceid)")
    try:
        return _decode_params(params, device, offset)
    except _Bad as error:
        return FrameError(PROTOCOL, offset, str(error), device)


def _decode_params(params: Mapping[str, str], device: str, offset: int) -> Message:
    time = parse_timestamp(params["timestamp"]) if params.get("timestamp") else datetime.now(UTC)
    lat = lon = None
    if "location" in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise _Bad(f"parameter location: expected lat,lon: {params['location'][:40]!r}")
        lat, lon = _float("location", parts[0]), _float("location", parts[1])
    if "lat" in params or "lon" in params:
        if "lat" not in params:
            raise _Bad("parameter lat missing (lon given)")
        if "lon" not in params:
            raise _Bad("parameter lon missing (lat given)")
        lat, lon = _float("lat", params["lat"]), _float("lon", params["lon"])
    if lat is not None and lon is not None:
        _check_point(lat, lon)
    extra: dict[str, object] = {}
    speed = course = altitude = accuracy = None
    if "speed" in params:
        speed = _float("speed", params["speed"]) * KNOT_KMH
        speed = speed if speed >= 0 else None
    for name in ("bearing", "heading"):
        if name in params:
            course = _float(name, params[name])
            course = course if 0 <= course <= 360 else None
    if "altitude" in params:
        altitude = _float("altitude", params["altitude"])
    for name in ("hacc", "accuracy"):
        if name in params:
            accuracy = _float(name, params[name])
            accuracy = accuracy if accuracy >= 0 else None
    battery = None
    if "batt" in params:
        level = _float("batt", params["batt"])
        battery = round(level) if 0 <= level <= 100 else None
    valid = True
    if "valid" in params:
        flag = params["valid"].strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise _Bad(f"parameter valid: not a boolean: {params['valid'][:40]!r}")
        valid = flag in ("true", "1")
    cells = _cells(params["cell"]) if params.get("cell") else []
    wifi = _wifi(params["wifi"]) if params.get("wifi") else []
    if cells:
        extra["cells"] = cells
    if wifi:
        extra["wifi"] = wifi
    alarms: tuple[str, ...] = ()
    if params.get("alarm"):
        alarms, unknown = _alarms(params["alarm"])
        if unknown:
            extra["unknown_alarms"] = unknown
    for name, value in params.items():
        if name not in _KNOWN:
            extra[name] = _plain(value)
    fix = _fix(time, lat, lon, valid, cells, wifi, speed, course, altitude, accuracy)
    kind: Kind = "alarm" if alarms else "position" if fix is not None else "heartbeat"
    return Message(PROTOCOL, device, kind, offset, fix=fix, alarms=alarms, battery_pct=battery, extra=extra)


def _fix(
    time: datetime,
    lat: float | None,
    lon: float | None,
    valid: bool,
    cells: list[dict[str, object]],
    wifi: list[dict[str, object]],
    speed: float | None,
    course: float | None,
    altitude: float | None,
    accuracy: float | None,
) -> Fix | None:
    """The position; without coordinates, a cell/Wi-Fi report for the server to locate (not a fix)."""
    if lat == 0 and lon == 0:  # what a phone without a fix sends
        lat = lon = None
    source: Source = "gps"
    if lat is None or lon is None:
        if not (cells or wifi):
            return None
        lat = lon = None
        valid = False
        source = "wifi" if wifi else "cell"
    return Fix(
        time=time,
        lat=lat,
        lon=lon,
        valid=valid,
        source=source,
        speed_kmh=speed,
        course=course,
        altitude_m=altitude,
        accuracy_m=accuracy,
    )


# ------------------------------------------------------------ JSON body


def decode_json(body: bytes, offset: int = 0) -> Message | FrameError:
    """A Traccar Client JSON POST (``{"location": {...}, "device_id": ...}``) -> a Message."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        return FrameError(PROTOCOL, offset, f"malformed JSON: {error}", raw=body[:256])
    if not isinstance(document, dict):
        return FrameError(PROTOCOL, offset, "JSON body is not an object", raw=body[:256])
    location = document.get("location")
    device = document.get("device_id")
    if isinstance(location, dict) and device is None:
        extras = location.get("extras")
        device = extras.get("device_id") if isinstance(extras, dict) else None
    if isinstance(device, int) and not isinstance(device, bool):
        device = str(device)
    if not isinstance(device, str) or not device.strip():
        return FrameError(PROTOCOL, offset, "missing field device_id", raw=body[:256])
    device = device.strip()
    if not isinstance(location, dict):
        return FrameError(PROTOCOL, offset, "missing field location (an object)", device, body[:256])
    try:
        return _decode_location(location, device, offset)
    except _Bad as error:
        return FrameError(PROTOCOL, offset, str(error), device, body[:256])


def _json_number(container: Mapping[str, Any], name: str, path: str) -> float | None:
    value = container.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad(f"field {path}.{name}: not a number: {str(value)[:40]!r}")
    return float(value)


def _decode_location(location: Mapping[str, Any], device: str, offset: int) -> Message:
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise _Bad("field location.coords missing")
    lat = _json_number(coords, "latitude", "coords")
    lon = _json_number(coords, "longitude", "coords")
    if lat is None or lon is None:
        raise _Bad("field coords.latitude/longitude missing")
    _check_point(lat, lon)
    stamp = location.get("timestamp")
    if stamp is None:
        time = datetime.now(UTC)
    elif isinstance(stamp, str) or (isinstance(stamp, int | float) and not isinstance(stamp, bool)):
        time = parse_timestamp(str(stamp), "location.timestamp")
    else:
        raise _Bad("field location.timestamp: not a time")
    speed = _json_number(coords, "speed", "coords")  # m/s; negative means unknown
    heading = _json_number(coords, "heading", "coords")  # degrees; -1 means unknown
    accuracy = _json_number(coords, "accuracy", "coords")
    altitude = _json_number(coords, "altitude", "coords")
    battery = None
    level_info = location.get("battery")
    extra: dict[str, object] = {}
    if isinstance(level_info, dict):
        level = _json_number(level_info, "level", "battery")
        if level is not None and 0 <= level <= 1:  # a fraction; -1 means unknown
            battery = round(level * 100)
        if isinstance(level_info.get("is_charging"), bool):
            extra["charging"] = level_info["is_charging"]
    for key in ("is_moving", "event", "odometer", "mock"):
        if key in location and isinstance(location[key], bool | int | float | str):
            extra[key] = location[key]
    activity = location.get("activity")
    if isinstance(activity, dict) and isinstance(activity.get("type"), str):
        extra["activity"] = activity["type"]
    fix = _fix(
        time,
        lat,
        lon,
        True,
        [],
        [],
        speed * MPS_KMH if speed is not None and speed >= 0 else None,
        heading if heading is not None and 0 <= heading <= 360 else None,
        altitude,
        accuracy if accuracy is not None and accuracy >= 0 else None,
    )
    alarms: tuple[str, ...] = ()
    extras = location.get("extras")
    if isinstance(extras, dict) and isinstance(extras.get("alarm"), str):
        alarms, _unknown = _alarms(extras["alarm"])
    kind: Kind = "alarm" if alarms else "position" if fix is not None else "heartbeat"
    return Message(PROTOCOL, device, kind, offset, fix=fix, alarms=alarms, battery_pct=battery, extra=extra)
