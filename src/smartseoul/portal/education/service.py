"""The education domain's service API: sign-up, seats and waitlists, reminders, attendance,
completion and the plan's targets.

No over-enrolment under concurrency: a seat is taken by one conditional UPDATE
(``seats_taken = seats_taken + 1 WHERE seats_taken < capacity``); the row lock (PostgreSQL) or
the write lock (SQLite) makes the check and the increment one step, so two people asking for the
last seat get one seat and one waitlist place. A cancelled seat goes to the longest-waiting person
in the same transaction. Reminders are queued in an outbox whose (enrolment, kind) pair is unique:
a reminder is never queued, and so never sent, twice.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.portal.education.models import (
    GROUPS,
    EduAttendance,
    EduCourse,
    EduEnrolment,
    EduHistory,
    EduLearner,
    EduMessage,
    EduSession,
)

SEOUL = ZoneInfo("Asia/Seoul")
log = logging.getLogger("smartseoul.education")
STAFF_ROLES = ("admin", "district_staff")
READ_ROLES = (*STAFF_ROLES, "auditor")
PHONE = re.compile(r"^01[016789]-?\d{3,4}-?\d{4}$")
CHANNELS = ("web", "phone", "staff")


class EducationError(Exception):
    """A refused request; ``field`` names the input at fault, ``status`` the HTTP answer."""

    def __init__(self, message: str, field: str = "", status: int = 422) -> None:
        super().__init__(message)
        self.field, self.status = field, status


class NotFound(EducationError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found", "", 404)


# ---------------------------------------------------------------- people


def normalise_phone(raw: str) -> str:
    """Korean mobile numbers as ``010-1234-5678``; anything else is refused (field ``phone``)."""
    digits = re.sub(r"[\s.()-]", "", raw.strip())
    if digits.startswith("+82"):
        digits = "0" + digits[3:]
    if not PHONE.match(digits):
        raise EducationError("a Korean mobile number such as 010-1234-5678 is needed", "phone")
    return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"


def mask_phone(phone: str) -> str:
    """``010-1234-5678`` -> ``010-****-5678``: lists show only what finds the right row."""
    parts = phone.split("-")
    return f"{parts[0]}-{'*' * len(parts[1])}-{parts[2]}" if len(parts) == 3 else "***"


def mask_name(name: str) -> str:
    """``김민수`` -> ``김*수``, ``Lee`` -> ``L*e``."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class SignUp:
    name: str
    phone: str
    target_group: str
    district_code: str
    consent: bool
    channel: str = "web"


def check_sign_up(form: SignUp, districts: Iterable[str]) -> SignUp:
    """The sign-up with its phone normalised, or an EducationError naming the field."""
    name = " ".join(form.name.split())
    if not 1 <= len(name) <= 64:
        raise EducationError("a name of 1 to 64 characters is needed", "name")
    if form.target_group not in GROUPS:
        raise EducationError(f"target group must be one of {', '.join(GROUPS)}", "target_group")
    if form.district_code not in set(districts):
        raise EducationError("unknown district", "district_code")
    if not form.consent:
        raise EducationError("consent to keep the name and phone number is needed", "consent")
    if form.channel not in CHANNELS:
        raise EducationError("unknown channel", "channel")
    return SignUp(
        name, normalise_phone(form.phone), form.target_group, form.district_code, True, form.channel
    )


def find_or_add_learner(session: Session, form: SignUp, by: str) -> EduLearner:
    """The same person (name and phone) signing up again is the same learner."""
    found = session.scalar(
        select(EduLearner).where(EduLearner.phone == form.phone, EduLearner.name == form.name)
    )
    if found is not None:
        return found
    learner = EduLearner(
        name=form.name,
        phone=form.phone,
        target_group=form.target_group,
        district_code=form.district_code,
        consent_at=utcnow(),
        consent_by=by[:128],
        channel=form.channel,
    )
    session.add(learner)
    session.flush()
    return learner


# ---------------------------------------------------------------- seats


def _take_seat(session: Session, session_id: int) -> bool:
    statement = (
        update(EduSession)
        .where(EduSession.id == session_id, EduSession.seats_taken < EduSession.capacity)
        .values(seats_taken=EduSession.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount) == 1


def _free_seat(session: Session, session_id: int) -> None:
    session.execute(
        update(EduSession)
        .where(EduSession.id == session_id, EduSession.seats_taken > 0)
        .values(seats_taken=EduSession.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def get_session(session: Session, session_id: int) -> EduSession:
    found = session.get(EduSession, session_id)
    if found is None:
        raise NotFound(f"session {session_id}")
    return found


def enrol(session: Session, session_id: int, learner: EduLearner) -> EduEnrolment:
    """A seat if one is free, else a place on the waitlist; the same person twice is refused."""
    course_session = get_session(session, session_id)
    if course_session.starts_at < utcnow() - timedelta(days=1):
        raise EducationError("this session has already started", "session_id", 409)
    existing = session.scalar(
        select(EduEnrolment).where(
            EduEnrolment.session_id == session_id, EduEnrolment.learner_id == learner.id
        )
    )
    if existing is not None and existing.state != "cancelled":
        raise EducationError("already signed up for this session", "session_id", 409)
    state = "enrolled" if _take_seat(session, session_id) else "waitlisted"
    if existing is not None:
        existing.state, existing.created_at = state, utcnow()
        enrolment = existing
    else:
        enrolment = EduEnrolment(session_id=session_id, learner_id=learner.id, state=state)
        session.add(enrolment)
    session.flush()
    return enrolment


def waitlist_position(session: Session, enrolment: EduEnrolment) -> int | None:
    if enrolment.state != "waitlisted":
        return None
    ahead = session.scalar(
        select(func.count()).where(
            EduEnrolment.session_id == enrolment.session_id,
            EduEnrolment.state == "waitlisted",
            (EduEnrolment.created_at < enrolment.created_at)
            | ((EduEnrolment.created_at == enrolment.created_at) & (EduEnrolment.id < enrolment.id)),
        )
    )
    return int(ahead or 0) + 1


def get_enrolment(session: Session, enrolment_id: int) -> EduEnrolment:
    found = session.get(EduEnrolment, enrolment_id)
    if found is None:
        raise NotFound(f"enrolment {enrolment_id}")
    return found


def cancel(session: Session, enrolment_id: int) -> EduEnrolment | None:
    """Cancel; a freed seat goes at once to the longest-waiting person (returned, if any)."""
    enrolment = get_enrolment(session, enrolment_id)
    if enrolment.state in ("cancelled", "completed"):
        raise EducationError(f"enrolment is {enrolment.state}", "state", 409)
    held_seat = enrolment.state == "enrolled"
    enrolment.state = "cancelled"
    session.flush()
    if held_seat:
        _free_seat(session, enrolment.session_id)
    return promote(session, enrolment.session_id)


def promote(session: Session, session_id: int) -> EduEnrolment | None:
    """Give a free seat to the first person on the waitlist and queue them a message."""
    first = session.scalar(
        select(EduEnrolment)
        .where(EduEnrolment.session_id == session_id, EduEnrolment.state == "waitlisted")
        .order_by(EduEnrolment.created_at, EduEnrolment.id)
        .limit(1)
    )
    if first is None or not _take_seat(session, session_id):
        return None
    first.state = "enrolled"
    session.flush()
    learner = session.get(EduLearner, first.learner_id)
    course_session = get_session(session, session_id)
    course = session.get(EduCourse, course_session.course_id)
    assert learner is not None
    assert course is not None
    body = (
        f"[스마트서울] {learner.name}님, 대기하시던 '{course.title_ko}' 수업에 자리가 났습니다. "
        f"{course_session.starts_at.astimezone(SEOUL):%m/%d %H:%M} {course_session.venue_ko}"
    )
    _queue(session, first.id, "promoted", learner.phone, body)
    return first


# ---------------------------------------------------------------- messages


class Notifier(Protocol):
    """Where text messages go: an SMS gateway in production, the demo recorder otherwise."""

    def send(self, phone: str, body: str) -> None: ...


class RecordingNotifier:
    """The demo adapter: keeps every message (the staff page shows them) instead of texting."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, body: str) -> None:
        self.sent.append((phone, body))


def _queue(session: Session, enrolment_id: int, kind: str, phone: str, body: str) -> bool:
    """Queue a message once: a second (enrolment, kind) is ignored by the unique key."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(EduMessage)
        .values(
            enrolment_id=enrolment_id,
            kind=kind,
            phone=phone,
            body=body,
            created_at=utcnow(),
            sent=False,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["enrolment_id", "kind"])
        .returning(EduMessage.id)
    )
    return session.execute(statement).first() is not None


def queue_reminders(session: Session, now: datetime) -> int:
    """Queue a reminder for everyone holding a seat in a session that starts tomorrow (Seoul)."""
    tomorrow = now.astimezone(SEOUL).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), SEOUL)
    rows = session.execute(
        select(EduEnrolment.id, EduLearner.name, EduLearner.phone, EduSession, EduCourse.title_ko)
        .join(EduLearner, EduLearner.id == EduEnrolment.learner_id)
        .join(EduSession, EduSession.id == EduEnrolment.session_id)
        .join(EduCourse, EduCourse.id == EduSession.course_id)
        .where(
            EduEnrolment.state == "enrolled",
            EduSession.starts_at >= start,
            EduSession.starts_at < start + timedelta(days=1),
        )
    ).all()
    queued = 0
    for enrolment_id, name, phone, course_session, title in rows:
        body = (
            f"[스마트서울] {name}님, 내일 {course_session.starts_at.astimezone(SEOUL):%H:%M} "
            f"'{title}' 수업이 {course_session.venue_ko}에서 있습니다."
        )
        queued += _queue(session, enrolment_id, "reminder", phone, body)
    return queued


def send_outbox(session: Session, notifier: Notifier, limit: int = 200) -> int:
    """Send unsent messages; several workers never take the same one (SKIP LOCKED on PostgreSQL)."""
    query = select(EduMessage).where(EduMessage.sent.is_(False)).order_by(EduMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    sent = 0
    for message in session.scalars(query).all():
        message.attempts += 1
        try:
            notifier.send(message.phone, message.body)
        except Exception:  # the gateway refused this one: it stays queued for the next run
            log.exception("education message %d not sent (attempt %d)", message.id, message.attempts)
            continue
        message.sent, message.sent_at = True, utcnow()
        sent += 1
    session.flush()
    return sent


# ---------------------------------------------------------------- attendance and completion


def certificate_number(enrolment: EduEnrolment, at: datetime) -> str:
    return f"EDU-{at.astimezone(SEOUL):%Y}-{enrolment.id:07d}"


def mark_attendance(session: Session, enrolment_id: int, lesson: int, by: str) -> EduEnrolment:
    """Record presence at ``lesson``; reaching the course's minimum completes the enrolment."""
    enrolment = get_enrolment(session, enrolment_id)
    if enrolment.state not in ("enrolled", "completed"):
        raise EducationError(f"enrolment is {enrolment.state}", "state", 409)
    course_session = get_session(session, enrolment.session_id)
    course = session.get(EduCourse, course_session.course_id)
    assert course is not None
    if not 1 <= lesson <= course.lessons:
        raise EducationError(f"lesson must be 1 to {course.lessons}", "lesson")
    already = session.scalar(
        select(EduAttendance.id).where(
            EduAttendance.enrolment_id == enrolment_id, EduAttendance.lesson == lesson
        )
    )
    if already is None:
        session.add(EduAttendance(enrolment_id=enrolment_id, lesson=lesson, marked_by=by[:128]))
        session.flush()
    if enrolment.state == "enrolled" and attended(session, enrolment_id) >= course.min_attended:
        now = utcnow()
        enrolment.state, enrolment.completed_at = "completed", now
        enrolment.certificate_no = certificate_number(enrolment, now)
        session.flush()
    return enrolment


def attended(session: Session, enrolment_id: int) -> int:
    return int(session.scalar(select(func.count()).where(EduAttendance.enrolment_id == enrolment_id)) or 0)


# ---------------------------------------------------------------- listings


def course_dict(course: EduCourse) -> dict[str, Any]:
    return {
        "id": course.id,
        "code": course.code,
        "title_ko": course.title_ko,
        "title_en": course.title_en,
        "summary_ko": course.summary_ko,
        "summary_en": course.summary_en,
        "lessons": course.lessons,
        "min_attended": course.min_attended,
    }


def upcoming_sessions(
    session: Session, now: datetime, district: str | None = None, limit: int = 200
) -> list[tuple[EduSession, EduCourse]]:
    query = (
        select(EduSession, EduCourse)
        .join(EduCourse, EduCourse.id == EduSession.course_id)
        .where(EduSession.starts_at >= now)
        .order_by(EduSession.starts_at, EduSession.id)
        .limit(limit)
    )
    if district:
        query = query.where(EduSession.district_code == district)
    return [(row[0], row[1]) for row in session.execute(query)]


def session_dict(course_session: EduSession, course: EduCourse) -> dict[str, Any]:
    return {
        "id": course_session.id,
        "course": course.code,
        "title_ko": course.title_ko,
        "title_en": course.title_en,
        "venue_kind": course_session.venue_kind,
        "venue_ko": course_session.venue_ko,
        "venue_en": course_session.venue_en,
        "district_code": course_session.district_code,
        "starts_at": course_session.starts_at.isoformat(),
        "capacity": course_session.capacity,
        "seats_left": max(0, course_session.capacity - course_session.seats_taken),
        "lessons": course.lessons,
    }


def roster(session: Session, session_id: int) -> list[dict[str, Any]]:
    """The people of a session with masked names and phones (a list is not a reason to see them)."""
    get_session(session, session_id)
    rows = session.execute(
        select(EduEnrolment, EduLearner)
        .join(EduLearner, EduLearner.id == EduEnrolment.learner_id)
        .where(EduEnrolment.session_id == session_id)
        .order_by(EduEnrolment.state != "enrolled", EduEnrolment.created_at, EduEnrolment.id)
    ).all()
    counts = dict(
        session.execute(
            select(EduAttendance.enrolment_id, func.count())
            .join(EduEnrolment, EduEnrolment.id == EduAttendance.enrolment_id)
            .where(EduEnrolment.session_id == session_id)
            .group_by(EduAttendance.enrolment_id)
        ).all()
    )
    return [
        {
            "enrolment_id": enrolment.id,
            "learner_id": learner.id,
            "name": mask_name(learner.name),
            "phone": mask_phone(learner.phone),
            "target_group": learner.target_group,
            "state": enrolment.state,
            "attended": int(counts.get(enrolment.id, 0)),
            "certificate_no": enrolment.certificate_no,
        }
        for enrolment, learner in rows
    ]


# ---------------------------------------------------------------- the plan's targets


@dataclass
class Progress:
    year: int
    this_year: int
    total: int
    target_year: int
    target_total: int
    by_district: dict[str, int]
    by_group: dict[str, int]
    by_year: dict[int, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "trained_this_year": self.this_year,
            "trained_total": self.total,
            "target_per_year": self.target_year,
            "target_total": self.target_total,
            "share_of_year_target": round(self.this_year / self.target_year, 4),
            "share_of_total_target": round(self.total / self.target_total, 4),
            "by_district": self.by_district,
            "by_group": self.by_group,
            "by_year": {str(year): count for year, count in self.by_year.items()},
        }


def progress(session: Session, now: datetime, target_year: int, target_total: int) -> Progress:
    """Trained this year (Seoul calendar) and in all: the history plus completions recorded here;
    ``by_district`` and ``by_group`` are this year's."""
    year = now.astimezone(SEOUL).year
    by_year: dict[int, int] = defaultdict(int)
    by_district: dict[str, int] = defaultdict(int)
    by_group: dict[str, int] = {group: 0 for group in GROUPS}
    for row_year, district, group, trained in session.execute(
        select(EduHistory.year, EduHistory.district_code, EduHistory.target_group, EduHistory.trained)
    ).all():
        by_year[row_year] += trained
        if row_year == year:
            by_district[district] += trained
            by_group[group] = by_group.get(group, 0) + trained
    for completed_at, district, group in session.execute(
        select(EduEnrolment.completed_at, EduLearner.district_code, EduLearner.target_group)
        .join(EduLearner, EduLearner.id == EduEnrolment.learner_id)
        .where(EduEnrolment.state == "completed", EduEnrolment.completed_at.is_not(None))
    ).all():
        if completed_at is None:
            continue
        completed_year = completed_at.astimezone(SEOUL).year
        by_year[completed_year] += 1
        if completed_year == year:
            by_district[district] += 1
            by_group[group] = by_group.get(group, 0) + 1
    return Progress(
        year=year,
        this_year=by_year.get(year, 0),
        total=sum(by_year.values()),
        target_year=target_year,
        target_total=target_total,
        by_district=dict(sorted(by_district.items())),
        by_group=by_group,
        by_year=dict(sorted(by_year.items())),
    )


def today_seoul(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(SEOUL).date()
