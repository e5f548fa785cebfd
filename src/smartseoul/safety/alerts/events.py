"""Events of public alerts: screens, phones and agencies react to these names (the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smartseoul.core.events import Event


class _AlertEvent(Event):
    """What every alert event carries: enough to show and route it without reading the database."""

    alert_id: int
    identifier: str
    msg_type: str
    event: str
    severity: str
    urgency: str
    certainty: str
    headline_ko: str
    headline_en: str
    area: dict[str, Any]
    expires: datetime
    city_wide: bool = False

    def _verb(self, lang: str) -> str:
        return ""

    def summary(self, lang: str) -> str:
        count = len(self.area.get("district_codes", []))
        if lang == "ko":
            return f"{self._verb(lang)} [{self.severity}] {self.headline_ko} · {count}개 구"
        return f"{self._verb(lang)} [{self.severity}] {self.headline_en} ({count} districts)"


class AlertIssued(_AlertEvent):
    """A public alert went out (after approval, for a city-wide one)."""

    type_name = "safety.alert.issued.v1"

    def _verb(self, lang: str) -> str:
        return "경보 발령" if lang == "ko" else "Alert issued"


class AlertUpdated(_AlertEvent):
    """An alert's content, area or expiry changed (a CAP Update referencing the earlier messages)."""

    type_name = "safety.alert.updated.v1"

    def _verb(self, lang: str) -> str:
        return "경보 변경" if lang == "ko" else "Alert updated"


class AlertCancelled(_AlertEvent):
    """An alert was withdrawn (a CAP Cancel referencing the earlier messages)."""

    type_name = "safety.alert.cancelled.v1"

    def _verb(self, lang: str) -> str:
        return "경보 해제" if lang == "ko" else "Alert cancelled"


class AlertAwaitingApproval(_AlertEvent):
    """A city-wide alert waits for a second person; shown to the control room, sent to nobody."""

    type_name = "safety.alert.pending.v1"

    def _verb(self, lang: str) -> str:
        return "승인 대기" if lang == "ko" else "Awaiting approval"
