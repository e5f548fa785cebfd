"""Seats, waitlists, reminders, attendance, completion and the plan's targets, on both engines."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.bootstrap import Platform
from smartseoul.portal.education import service
from smartseoul.portal.education.certificate import certificate_pdf
from smartseoul.portal.education.models import EduEnrolment, EduHistory, EduMessage, EduSession
from smartseoul.portal.education.tests.helpers import GANGNAM, course_session, learner

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
TOMORROW_10 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 10:00 in Seoul


def test_phone_numbers_are_normalised_and_masked() -> None:
    assert service.normalise_phone("010 1234 5678") == "010-1234-5678"
    assert service.normalise_phone("+82 10-1234-5678") == "010-1234-5678"
    with pytest.raises(service.EducationError) as refused:
        service.normalise_phone("02-123-4567")
    assert refused.value.field == "phone"
    assert service.mask_phone("010-1234-5678") == "010-****-5678"
    assert (service.mask_name("김영희"), service.mask_name("Lee"), service.mask_name("박민")) == (
        "김*희",
        "L*e",
        "박*",
    )


def test_seats_then_waitlist_and_a_cancel_promotes_the_first_waiting(db: Session) -> None:
    chosen = course_session(db, datetime.now(UTC) + timedelta(days=3), capacity=2)
    people = [learner(db, n) for n in range(4)]
    states = [service.enrol(db, chosen.id, person).state for person in people]
    assert states == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    enrolments = db.scalars(select(EduEnrolment).order_by(EduEnrolment.id)).all()
    assert [service.waitlist_position(db, e) for e in enrolments] == [None, None, 1, 2]
    with pytest.raises(service.EducationError) as twice:
        service.enrol(db, chosen.id, people[0])
    assert twice.value.status == 409

    promoted = service.cancel(db, enrolments[0].id)
    assert promoted is not None
    assert promoted.id == enrolments[2].id
    db.refresh(chosen)
    assert chosen.seats_taken == 2
    assert service.waitlist_position(db, enrolments[3]) == 1
    message = db.scalars(select(EduMessage)).one()
    assert (message.kind, message.phone) == ("promoted", "010-5555-0002")
    assert service.cancel(db, enrolments[3].id) is None  # a waiting person leaving frees no seat
    db.refresh(chosen)
    assert chosen.seats_taken == 2


def test_reminders_go_the_day_before_and_never_twice(db: Session) -> None:
    tomorrow = course_session(db, TOMORROW_10 + timedelta(days=400), capacity=1)
    later = course_session(db, TOMORROW_10 + timedelta(days=402), capacity=5, code="messenger")
    for n, chosen in ((1, tomorrow), (2, tomorrow), (3, later)):
        service.enrol(db, chosen.id, learner(db, n))
    day_before = NOW + timedelta(days=400)
    assert service.queue_reminders(db, day_before) == 1  # the waiting person gets none
    assert service.queue_reminders(db, day_before + timedelta(hours=5)) == 0

    class Down:
        def send(self, phone: str, body: str) -> None:
            raise ConnectionError("SMS gateway unreachable")

    assert service.send_outbox(db, Down()) == 0  # kept for the next run, not lost
    notifier = service.RecordingNotifier()
    assert service.send_outbox(db, notifier) == 1
    assert service.send_outbox(db, notifier) == 0
    assert notifier.sent[0][0] == "010-5555-0001"
    assert "내일 10:00" in notifier.sent[0][1]
    assert "강남구립도서관" in notifier.sent[0][1]


def test_attendance_completes_the_course_with_a_certificate(db: Session) -> None:
    chosen = course_session(db, datetime.now(UTC) + timedelta(days=1))
    enrolment = service.enrol(db, chosen.id, learner(db, 1))
    for lesson in (1, 2, 2):
        assert service.mark_attendance(db, enrolment.id, lesson, "staff").state == "enrolled"
    with pytest.raises(service.EducationError) as bad:
        service.mark_attendance(db, enrolment.id, 5, "staff")
    assert bad.value.field == "lesson"
    done = service.mark_attendance(db, enrolment.id, 4, "staff")
    assert done.state == "completed"
    assert service.attended(db, enrolment.id) == 3
    assert done.certificate_no is not None
    assert done.certificate_no.startswith("EDU-")
    pdf = certificate_pdf(
        number=done.certificate_no,
        name="김영희",
        course_ko="스마트폰 기초",
        course_en="Smartphone basics",
        venue_ko="강남구립도서관",
        completed_at=NOW,
        attended=3,
        lessons=4,
    )
    assert pdf.startswith(b"%PDF")
    assert b"HYSMyeongJo" in pdf


def test_progress_adds_completions_to_the_reported_history(db: Session) -> None:
    db.add_all(
        [
            EduHistory(year=2025, district_code=GANGNAM, target_group="elderly", trained=1000),
            EduHistory(year=2026, district_code=GANGNAM, target_group="homemaker", trained=300),
            EduHistory(year=2026, district_code="11010", target_group="elderly", trained=200),
        ]
    )
    chosen = course_session(db, datetime.now(UTC) + timedelta(days=1))
    enrolment = service.enrol(db, chosen.id, learner(db, 1, "disabled"))
    for lesson in (1, 2, 3):
        service.mark_attendance(db, enrolment.id, lesson, "staff")
    found = service.progress(db, NOW, 200_000, 1_000_000)
    assert (found.year, found.this_year, found.total) == (2026, 501, 1501)
    assert found.by_group == {"elderly": 200, "homemaker": 300, "disabled": 1, "other": 0}
    assert found.by_district == {"11010": 200, GANGNAM: 301}
    assert found.as_dict()["share_of_year_target"] == 0.0025


def test_no_over_enrolment_when_many_ask_for_the_last_seats_at_once(platform: Platform) -> None:
    with platform.db.session() as session:
        chosen_id = course_session(session, datetime.now(UTC) + timedelta(days=2), capacity=3).id
        people = [learner(session, n).id for n in range(12)]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def ask(learner_id: int) -> None:
        from smartseoul.portal.education.models import EduLearner

        try:
            barrier.wait()
            with platform.db.session() as session:
                person = session.get(EduLearner, learner_id)
                assert person is not None
                service.enrol(session, chosen_id, person)
        except BaseException as error:  # handed to the test below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with platform.db.session() as session:
        states = session.scalars(select(EduEnrolment.state).where(EduEnrolment.session_id == chosen_id)).all()
        assert sorted(states).count("enrolled") == 3
        assert len(states) == 12
        taken = session.scalar(select(EduSession.seats_taken).where(EduSession.id == chosen_id))
        assert taken == 3
