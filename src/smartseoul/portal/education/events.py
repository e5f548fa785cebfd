"""Events of smart-device education: other domains (the KPI tower) count completions from these."""

from __future__ import annotations

from smartseoul.core.events import Event


class CourseCompleted(Event):
    """A learner completed a course (no personal data: district and target group only)."""

    type_name = "portal.education.completed.v1"

    enrolment_id: int
    course: str
    district_code: str
    target_group: str
    certificate_no: str

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"스마트기기 교육 수료: {self.course} ({self.district_code})"
        return f"Smart-device course completed: {self.course} ({self.district_code})"


class EnrolmentMade(Event):
    """Someone signed up for a class (a seat or a waitlist place; no personal data)."""

    type_name = "portal.education.enrolled.v1"

    enrolment_id: int
    session_id: int
    district_code: str
    target_group: str
    state: str
    channel: str

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"스마트기기 교육 신청 ({self.state})"
        return f"Smart-device class sign-up ({self.state})"
