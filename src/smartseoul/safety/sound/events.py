"""Events of the sound domain (type names are cross-domain contracts).

``sound.detection.v1`` is what the incident desk maps into an incident at the device's place (and
the cctv domain then turns the nearest cameras there); the console draws it with its clip.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from smartseoul.core.events import Event

LABEL_WORDS = {
    "scream": ("비명", "scream"),
    "shout_help": ("구조 요청 외침", "shout for help"),
    "glass": ("유리 깨짐", "breaking glass"),
    "gunshot": ("총성", "gunshot"),
    "explosion": ("폭발음", "explosion"),
    "crash": ("차량 충돌·급제동", "car crash / tyre skid"),
    "siren": ("사이렌", "siren"),
    "background": ("배경음", "background"),
}


class SoundDetected(Event):
    """A danger sound heard by one microphone."""

    type_name = "sound.detection.v1"
    detection_id: int
    device_id: str
    device_kind: str
    bell_id: str | None = None
    camera_id: int | None = None
    label: str
    confidence: float
    detected_at: datetime
    lat: float
    lon: float
    district_code: str | None = None
    clip_url: str | None = None
    level_dbfs: float = -120.0
    scores: dict[str, Any] = Field(default_factory=dict)

    def summary(self, lang: str) -> str:
        ko, en = LABEL_WORDS.get(self.label, (self.label, self.label))
        if lang == "ko":
            return f"{ko} 감지 · {self.device_id} ({self.confidence:.0%})"
        return f"{en} detected at {self.device_id} ({self.confidence:.0%})"


class SoundDeviceHealth(Event):
    """A microphone's health changed: ``silent`` (stopped sending), ``clipping`` (saturated), ``ok``."""

    type_name = "sound.device.health.v1"
    device_id: str
    health: str
    previous: str
    lat: float
    lon: float
    detail: str = ""

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"마이크 {self.device_id} 상태: {self.health}"
        return f"microphone {self.device_id}: {self.health}"


class SoundLevel(Event):
    """The live meter: a device's level and class scores (ephemeral, for screens; not stored)."""

    type_name = "sound.level.v1"
    device_id: str
    level_dbfs: float
    gated: bool
    scores: dict[str, float] = Field(default_factory=dict)
