"""Decoders of the device protocols (Traccar-compatible), as pure functions over bytes.

A decoder never touches the database or the network: it turns bytes into :class:`Message` values
(or :class:`FrameError` for what it cannot read) and says what to answer. Stream decoders keep a
buffer, so frames split across TCP reads or glued together decode the same as whole ones, and
they resynchronise after garbage instead of giving up on the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Source = Literal["gps", "cell", "wifi", "none"]
Kind = Literal["login", "position", "alarm", "heartbeat", "other"]

# Alarm names every protocol maps its own codes to.
ALARMS = frozenset(
    {
        "sos",
        "fall",
        "removal",
        "low_battery",
        "power_cut",
        "vibration",
        "overspeed",
        "geofence_enter",
        "geofence_exit",
        "tamper",
    }
)


@dataclass(frozen=True)
class Fix:
    """One position report as the device sent it; ``valid`` is False without a GPS fix."""

    time: datetime  # aware, UTC
    lat: float | None
    lon: float | None
    valid: bool
    source: Source = "gps"
    speed_kmh: float | None = None
    course: float | None = None
    altitude_m: float | None = None
    accuracy_m: float | None = None
    satellites: int | None = None


@dataclass(frozen=True)
class Message:
    """A decoded frame: who sent it, what it says, and the bytes to answer with (if any)."""

    protocol: str
    device_id: str | None
    kind: Kind
    offset: int
    fix: Fix | None = None
    alarms: tuple[str, ...] = ()
    battery_pct: int | None = None
    reply: bytes | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameError:
    """Bytes that could not be decoded: where in the connection's stream, and why."""

    protocol: str
    offset: int
    reason: str
    device_id: str | None = None
    raw: bytes = b""


class StreamDecoder(Protocol):
    """Decoder of one connection's byte stream (it may remember the device after a login)."""

    protocol: str

    def feed(self, data: bytes) -> list[Message | FrameError]: ...
