"""Events of automated monitoring: a rule fired on a camera (the contract for the incident desk)."""

from __future__ import annotations

from datetime import datetime

from smartseoul.core.events import Event

KIND_NAMES = {
    "intrusion": ("침입 감지", "intrusion"),
    "loitering": ("배회 감지", "loitering"),
    "person_down": ("쓰러짐 감지", "person down"),
    "crowding": ("밀집 감지", "crowding"),
    "running": ("뛰는 사람 감지", "running"),
    "vehicle_stopped": ("차량 정차 감지", "vehicle stopped"),
}


class DetectionRaised(Event):
    """A camera's rule fired: what, where, how sure, the snapshot (an API path; reading it is a
    recorded view), and the time span the track was seen doing it."""

    type_name = "monitoring.detection.v1"
    detection_id: int
    camera_id: int
    camera_name: str
    rule_id: int | None
    rule: str
    track_id: int
    confidence: float
    snapshot_url: str
    started_at: datetime
    ended_at: datetime
    detail: str = ""
    lat: float | None = None
    lon: float | None = None
    district_code: str | None = None

    def summary(self, lang: str) -> str:
        ko, en = KIND_NAMES.get(self.rule, (self.rule, self.rule))
        if lang == "ko":
            return f"{ko} · 카메라 #{self.camera_id} (신뢰도 {self.confidence:.0%})"
        return f"{en}: camera #{self.camera_id} ({self.confidence:.0%} sure)"
