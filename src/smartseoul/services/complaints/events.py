"""Events of complaints: the console ticker and other domains react to these names (the contract)."""

from __future__ import annotations

from smartseoul.core.events import Event


class ComplaintFiled(Event):
    """A citizen or an Open311 client filed a complaint; it is routed and queued for delivery."""

    type_name = "services.complaint.filed.v1"
    request_id: int
    service_code: str
    district_code: str
    department: str

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"민원 접수 #{self.request_id} ({self.service_code}, {self.department})"
        return f"Complaint #{self.request_id} filed ({self.service_code}, {self.department})"


class ComplaintUpdated(Event):
    """Staff changed a complaint's state or added a note (the citizen is told)."""

    type_name = "services.complaint.updated.v1"
    request_id: int
    status: str
    work_state: str

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"민원 #{self.request_id} 처리 상태: {self.work_state}"
        return f"Complaint #{self.request_id} is now {self.work_state}"
