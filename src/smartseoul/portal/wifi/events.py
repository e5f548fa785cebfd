"""Events of the WiFi domain: the control room and the network team react to these names."""

from __future__ import annotations

from datetime import datetime

from smartseoul.core.events import Event


class WifiOutageRaised(Event):
    """An access point went down (it said so, or it missed its reports); raised once per outage."""

    type_name = "portal.wifi.outage.v1"

    ap_id: int
    ap_code: str
    facility_id: int
    district_code: str
    reason: str
    since: datetime

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"공공 와이파이 장애: {self.ap_code} ({self.reason})"
        return f"Public WiFi outage: {self.ap_code} ({self.reason})"


class WifiOutageCleared(Event):
    """An access point that was down reported again; the outage is over."""

    type_name = "portal.wifi.recovered.v1"

    ap_id: int
    ap_code: str
    facility_id: int
    district_code: str
    down_seconds: int

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"공공 와이파이 복구: {self.ap_code}"
        return f"Public WiFi back: {self.ap_code}"
