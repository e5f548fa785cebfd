"""A course and a session for tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from smartseoul.portal.education import service
from smartseoul.portal.education.models import EduCourse, EduLearner, EduSession

GANGNAM = "11230"


def course_session(
    session: Session, starts_at: datetime, capacity: int = 2, code: str = "phone-basics"
) -> EduSession:
    course = EduCourse(
        code=code, title_ko="스마트폰 기초", title_en="Smartphone basics", lessons=4, min_attended=3
    )
    session.add(course)
    session.flush()
    found = EduSession(
        course_id=course.id,
        venue_kind="library",
        venue_ko="강남구립도서관",
        venue_en="Gangnam Library",
        district_code=GANGNAM,
        starts_at=starts_at,
        capacity=capacity,
        seats_taken=0,
    )
    session.add(found)
    session.flush()
    return found


def learner(session: Session, n: int, group: str = "elderly") -> EduLearner:
    form = service.SignUp(f"김영희{n}", f"010-5555-{n:04d}", group, GANGNAM, True)
    return service.find_or_add_learner(session, form, "test")
