"""Events of the incident desk and the emergency bells (type names are cross-domain contracts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from smartseoul.core.events import Event

STATUS_WORDS = {
    "new": ("신규", "new"),
    "acknowledged": ("확인", "acknowledged"),
    "dispatched": ("출동 지령", "dispatched"),
    "on_scene": ("현장 도착", "on scene"),
    "resolved": ("해결", "resolved"),
    "closed": ("종결", "closed"),
}


class IncidentOpened(Event):
    """A new incident on the desk; the cctv domain answers one with a place by turning cameras."""

    type_name = "safety.incident.opened.v1"
    incident_id: int
    # Where the alarm came from (bell, tracking, sound, video, camera, operator). Not ``source``:
    # that is the envelope's producer field, which would hide it from the payload.
    origin: str
    kind: str
    priority: int
    lat: float | None
    lon: float | None
    district_code: str | None
    title: str
    title_ko: str = ""

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"사건 #{self.incident_id} 접수 · {self.title_ko or self.title} · 우선순위 {self.priority}"
        return f"incident #{self.incident_id} opened: {self.title} (priority {self.priority})"


class IncidentUpdated(Event):
    """A change of status, priority or anything the desk should redraw (``change`` says what)."""

    type_name = "safety.incident.updated.v1"
    incident_id: int
    status: str
    priority: int
    by: str | None
    change: str = "status"

    def summary(self, lang: str) -> str:
        ko, en = STATUS_WORDS.get(self.status, (self.status, self.status))
        if lang == "ko":
            return f"사건 #{self.incident_id} · {ko} ({self.change})"
        return f"incident #{self.incident_id}: {en} ({self.change})"


class BellPressed(Event):
    """Someone pressed an emergency bell."""

    type_name = "safety.bell.pressed.v1"
    bell_id: str
    lat: float
    lon: float
    district_code: str | None
    pressed_at: datetime
    incident_id: int | None = None
    camera_ids: list[int] = Field(default_factory=list)

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"비상벨 {self.bell_id} 눌림"
        return f"emergency bell {self.bell_id} pressed"


class HandoverChanged(Event):
    """A hand-over was delivered, failed for good, re-alerted or acknowledged by the agency."""

    type_name = "safety.handover.changed.v1"
    handover_id: int
    incident_id: int
    agency_code: str
    status: str
    attempts: int
    detail: str = ""

    def summary(self, lang: str) -> str:
        words = {
            "delivered": ("전달됨", "delivered"),
            "failed": ("전달 실패", "delivery FAILED"),
            "acknowledged": ("기관 확인", "acknowledged by the agency"),
            "realert": ("미확인 재통보", "not acknowledged: sent again"),
            "retrying": ("재시도 중", "retrying"),
        }
        ko, en = words.get(self.status, (self.status, self.status))
        if lang == "ko":
            return f"사건 #{self.incident_id} 인계({self.agency_code}) · {ko}"
        return f"incident #{self.incident_id} hand-over to {self.agency_code}: {en}"
