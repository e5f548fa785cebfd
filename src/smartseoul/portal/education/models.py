"""Tables of the education domain.

Seats are counted on the session row (``seats_taken``) and taken with a conditional UPDATE
(``... WHERE seats_taken < capacity``): the database, not the application, settles two people
asking for the last seat at once. A learner holds at most one enrolment per session (unique
pair). Reminders go through an outbox whose (enrolment, kind) pair is unique, so a reminder is
queued once however often the scheduler runs. ``education_history`` holds the yearly counts the
city reported before this platform (the dashboard adds the completions recorded here).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

GROUPS = ("elderly", "homemaker", "disabled", "other")
VENUE_KINDS = ("community_centre", "library", "welfare_centre")
ENROLMENT_STATES = ("enrolled", "waitlisted", "cancelled", "completed")


class EduCourse(Base):
    """A course (phone basics, KakaoTalk, mobile civil services...) of ``lessons`` meetings."""

    __tablename__ = "education_courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title_ko: Mapped[str] = mapped_column(String(128))
    title_en: Mapped[str] = mapped_column(String(128))
    summary_ko: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[int] = mapped_column(Integer, default=4)
    min_attended: Mapped[int] = mapped_column(Integer, default=3)


class EduInstructor(Base):
    """A teacher; the phone number is personal data (masked in lists)."""

    __tablename__ = "education_instructors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), default="")


class EduSession(Base):
    """One run of a course at a venue, with its capacity and the seats taken so far."""

    __tablename__ = "education_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("education_courses.id"), index=True)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("education_instructors.id"), nullable=True)
    venue_kind: Mapped[str] = mapped_column(String(32))
    venue_ko: Mapped[str] = mapped_column(String(128))
    venue_en: Mapped[str] = mapped_column(String(128))
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)


class EduLearner(Base):
    """A person taking classes: name and phone are personal data, read only with an audit record."""

    __tablename__ = "education_learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    target_group: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_by: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EduEnrolment(Base):
    """A learner in a session: enrolled (holds a seat), waitlisted, cancelled or completed."""

    __tablename__ = "education_enrolments"
    __table_args__ = (UniqueConstraint("session_id", "learner_id", name="uq_education_enrolment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("education_sessions.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("education_learners.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    certificate_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)


class EduAttendance(Base):
    """Presence at one lesson (1..lessons) of a session."""

    __tablename__ = "education_attendance"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson", name="uq_education_attendance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("education_enrolments.id"), index=True)
    lesson: Mapped[int] = mapped_column(Integer)
    marked_by: Mapped[str] = mapped_column(String(128))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EduMessage(Base):
    """The outbox of text messages (reminders, promotions); sent by the notification adapter."""

    __tablename__ = "education_outbox"
    __table_args__ = (UniqueConstraint("enrolment_id", "kind", name="uq_education_outbox"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("education_enrolments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class EduHistory(Base):
    """People trained in a year, district and target group, as reported before this platform."""

    __tablename__ = "education_history"
    __table_args__ = (UniqueConstraint("year", "district_code", "target_group", name="uq_education_history"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    district_code: Mapped[str] = mapped_column(String(5))
    target_group: Mapped[str] = mapped_column(String(16))
    trained: Mapped[int] = mapped_column(Integer)
