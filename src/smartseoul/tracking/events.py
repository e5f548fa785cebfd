"""Events of the location safety service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from smartseoul.core.events import Event


class StoredPosition(BaseModel):
    """One stored position (no personal data beyond the pseudonymous person id)."""

    device_id: int
    person_id: int | None
    device_time: datetime
    lat: float | None
    lon: float | None
    valid: bool
    source: str


class PositionsReceived(Event):
    """The positions of one committed batch. One event per batch, not per position: every bus
    consumer looks at every event, and at thousands of positions a second a per-position event
    cost more than storing them."""

    type_name = "tracking.positions.received.v1"
    # Each one a person's whereabouts: never on the control room's ticker.
    on_screens: ClassVar[bool] = False
    positions: list[StoredPosition]


class AlarmRaised(Event):
    """An alarm for the incident desk: SOS, fall, watch removed, low battery, ..., or a safe zone's
    (left school, left or entered a zone, not arrived by the set time; ``zone_id`` names the zone)."""

    type_name = "tracking.alarm.raised.v1"
    alarm_id: int
    kind: str
    device_id: int
    person_id: int | None
    district_code: str | None
    lat: float | None
    lon: float | None
    position_is_last_known: bool
    position_age_s: float | None
    emergency: bool
    zone_id: int | None = None

    def summary(self, lang: str) -> str:
        names = {
            "sos": ("긴급구조 요청(SOS)", "SOS"),
            "fall": ("넘어짐 감지", "fall detected"),
            "removal": ("기기 분리", "device removed"),
            "low_battery": ("배터리 부족", "low battery"),
            "geofence_exit": ("안심존 이탈", "left a safe zone"),
            "geofence_enter": ("안심존 진입", "entered a safe zone"),
            "left_school": ("수업 중 학교 이탈", "left school during school hours"),
            "not_arrived": ("도착 시간까지 미도착", "not arrived by the set time"),
        }
        ko, en = names.get(self.kind, (self.kind, self.kind))
        where_ko = (
            "위치 없음"
            if self.lat is None
            else ("마지막 위치" if self.position_is_last_known else "현재 위치")
        )
        where_en = (
            "no position"
            if self.lat is None
            else ("last known position" if self.position_is_last_known else "current position")
        )
        if lang == "ko":
            return f"{ko} · 보호대상 #{self.person_id or '-'} · {where_ko}"
        return f"{en}: protected person #{self.person_id or '-'} ({where_en})"


class DeviceRefused(Event):
    """A frame from an identifier that is not registered; nothing was stored."""

    type_name = "tracking.device.refused.v1"
    identifier: str
    protocol: str
    client: str


class AlarmAcknowledged(Event):
    """Someone took charge of an alarm: a guardian in the app or an operator. The incident desk
    counts it as the acknowledgement that stops the SOS escalation timer."""

    type_name = "tracking.alarm.acknowledged.v1"
    alarm_id: int
    person_id: int | None
    user_id: int | None
    role: str
    kind: str

    def summary(self, lang: str) -> str:
        who_ko = {"guardian": "보호자", "operator": "관제요원"}.get(self.role, self.role)
        if lang == "ko":
            return f"경보 #{self.alarm_id} 확인 · {who_ko} · 보호대상 #{self.person_id or '-'}"
        return (
            f"alarm #{self.alarm_id} acknowledged by a {self.role}: protected person #{self.person_id or '-'}"
        )


class FindNowRequested(Event):
    """A guardian's emergency request to locate the person now (an emergency provision of
    location data under the Location Information Act, logged as such)."""

    type_name = "tracking.findnow.requested.v1"
    request_id: int
    person_id: int
    user_id: int | None
    district_code: str | None
    lat: float | None
    lon: float | None
    position_age_s: float | None
    device_asked: bool

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"보호자 긴급 위치 찾기 요청 · 보호대상 #{self.person_id}"
        return f"guardian's emergency find-now request: protected person #{self.person_id}"
