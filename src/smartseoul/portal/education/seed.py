"""Demo education: the courses, instructors, sessions at community centres and libraries in every
district (past ones with attendance and certificates, coming ones with seats and waitlists), a few
hundred learners, and the yearly counts reported from 2012 to 2026 so the dashboard shows the
city's real progress towards 200,000 a year and 1,000,000 in all.

Deterministic from the demo seed, and quick.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.city.models import District
from smartseoul.core.db import utcnow
from smartseoul.portal.education import service
from smartseoul.portal.education.models import (
    EduAttendance,
    EduCourse,
    EduEnrolment,
    EduHistory,
    EduInstructor,
    EduLearner,
    EduMessage,
    EduSession,
)

COURSES = (
    (
        "phone-basics",
        "스마트폰 기초",
        "Smartphone basics",
        "전화·문자·사진 찍기부터 차근차근",
        "Calls, texts and photos, step by step",
        4,
        3,
    ),
    (
        "messenger",
        "카카오톡과 문자 쓰기",
        "Using KakaoTalk and messages",
        "가족과 사진·영상 주고받기",
        "Sharing photos and videos with family",
        3,
        2,
    ),
    (
        "civil-services",
        "모바일 민원 서비스",
        "Mobile civil services",
        "민원 신청, 증명서 발급, 공공시설 예약",
        "Complaints, certificates and bookings on the phone",
        4,
        3,
    ),
    (
        "guardian-safety",
        "보호자용 안심 앱",
        "Safety app for guardians",
        "아이·어르신 위치 확인과 긴급 알림",
        "Locating children and elders, emergency alerts",
        2,
        2,
    ),
    (
        "banking-safety",
        "안전한 모바일 뱅킹",
        "Safe online banking",
        "송금과 보이스피싱 예방",
        "Transfers and avoiding phone scams",
        3,
        2,
    ),
    (
        "smart-tv",
        "스마트 TV 활용",
        "Using a smart TV",
        "다시보기, 유튜브, 구청 채널",
        "Catch-up TV, YouTube and the district channel",
        2,
        2,
    ),
    (
        "accessibility",
        "접근성 기능 활용",
        "Accessibility features",
        "큰 글씨, 화면 읽기, 음성 입력",
        "Large text, screen reader, voice input",
        3,
        2,
    ),
)
INSTRUCTORS = (
    "김하늘",
    "이서준",
    "박지민",
    "최유진",
    "정민호",
    "강수아",
    "조현우",
    "윤서연",
    "장도윤",
    "임채원",
    "한지호",
    "오예린",
)
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = (
    "영숙",
    "순자",
    "정희",
    "민수",
    "영호",
    "경자",
    "미경",
    "상철",
    "옥순",
    "동현",
    "지영",
    "성민",
    "춘자",
    "광수",
    "혜진",
)
GROUP_SHARES = {"elderly": 0.56, "homemaker": 0.2, "disabled": 0.09, "other": 0.15}
# people trained each year as reported by the city (the platform adds its own completions)
YEARLY = {
    2012: 12_000,
    2013: 15_000,
    2014: 18_000,
    2015: 21_000,
    2016: 24_000,
    2017: 27_000,
    2018: 30_000,
    2019: 34_000,
    2020: 19_000,
    2021: 41_000,
    2022: 62_000,
    2023: 98_000,
    2024: 137_000,
    2025: 171_000,
}
THIS_YEAR_SO_FAR = 0.87  # of the current year's figure, reported up to the end of last month


def seed_demo(session: Session, seed: int, now: datetime | None = None) -> dict[str, int]:
    """Replace the domain's demo data; returns how many sessions, learners and history rows."""
    now = now or utcnow()
    rng = random.Random(seed)
    for table in (
        EduMessage,
        EduAttendance,
        EduEnrolment,
        EduLearner,
        EduSession,
        EduInstructor,
        EduCourse,
        EduHistory,
    ):
        session.execute(delete(table))
    courses = [
        EduCourse(code=c, title_ko=tk, title_en=te, summary_ko=sk, summary_en=se, lessons=n, min_attended=m)
        for c, tk, te, sk, se, n, m in COURSES
    ]
    instructors = [
        EduInstructor(name=name, phone=f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}")
        for name in INSTRUCTORS
    ]
    session.add_all([*courses, *instructors])
    session.flush()
    districts = list(session.scalars(select(District).order_by(District.code)))
    sessions = _sessions(session, districts, courses, instructors, rng, now)
    learners = _learners(session, districts, rng, now)
    _enrolments(session, sessions, courses, learners, rng, now)
    history = _history(session, districts, now)
    return {"sessions": len(sessions), "learners": len(learners), "history_rows": history}


def _sessions(
    session: Session,
    districts: list[District],
    courses: list[EduCourse],
    instructors: list[EduInstructor],
    rng: random.Random,
    now: datetime,
) -> list[EduSession]:
    found = []
    base = now.astimezone(service.SEOUL).replace(hour=10, minute=0, second=0, microsecond=0)
    for district in districts:
        for offset in (-21, -9, 1, 6, 13):  # two past runs, one tomorrow, two coming
            venue_kind = rng.choice(("community_centre", "library", "welfare_centre"))
            n = rng.randint(1, 4)
            venue_ko = {
                "community_centre": f"{district.name_ko} 제{n}동 주민센터",
                "library": f"{district.name_ko} 구립도서관 {n}관",
                "welfare_centre": f"{district.name_ko} 종합사회복지관",
            }[venue_kind]
            venue_en = {
                "community_centre": f"{district.name_en} Community Centre {n}",
                "library": f"{district.name_en} Public Library {n}",
                "welfare_centre": f"{district.name_en} Welfare Centre",
            }[venue_kind]
            starts = base + timedelta(days=offset, hours=rng.choice((0, 4)))
            found.append(
                EduSession(
                    course_id=rng.choice(courses).id,
                    instructor_id=rng.choice(instructors).id,
                    venue_kind=venue_kind,
                    venue_ko=venue_ko,
                    venue_en=venue_en,
                    district_code=district.code,
                    starts_at=starts,
                    capacity=rng.choice((8, 10, 12, 15)),
                    seats_taken=0,
                )
            )
    session.add_all(found)
    session.flush()
    return found


def _learners(
    session: Session, districts: list[District], rng: random.Random, now: datetime
) -> list[EduLearner]:
    groups, weights = zip(*GROUP_SHARES.items(), strict=True)
    found = [
        EduLearner(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            phone=f"010-{rng.randint(2000, 9999)}-{n:04d}",
            target_group=rng.choices(groups, weights)[0],
            district_code=rng.choice(districts).code,
            consent_at=now - timedelta(days=rng.randint(1, 30)),
            consent_by="demo",
            channel=rng.choice(("web", "web", "phone")),
        )
        for n in range(400)
    ]
    session.add_all(found)
    session.flush()
    return found


def _enrolments(
    session: Session,
    sessions: list[EduSession],
    courses: list[EduCourse],
    learners: list[EduLearner],
    rng: random.Random,
    now: datetime,
) -> None:
    """Seats, waitlists, attendance and certificates written in bulk (the service's rules, without
    its one-person-at-a-time queries: the demo seed must stay quick)."""
    by_id = {c.id: c for c in courses}
    by_district: dict[str, list[EduLearner]] = {}
    for learner in learners:
        by_district.setdefault(learner.district_code, []).append(learner)
    planned: list[tuple[EduSession, EduEnrolment]] = []
    for course_session in sessions:
        local = by_district.get(course_session.district_code) or learners
        wanted = min(len(local), course_session.capacity + rng.randint(-3, 3))
        for position, learner in enumerate(rng.sample(local, wanted)):
            state = "enrolled" if position < course_session.capacity else "waitlisted"
            course_session.seats_taken += state == "enrolled"
            created = min(now, course_session.starts_at) - timedelta(days=7, minutes=-position)
            enrolment = EduEnrolment(
                session_id=course_session.id, learner_id=learner.id, state=state, created_at=created
            )
            planned.append((course_session, enrolment))
    session.add_all([enrolment for _, enrolment in planned])
    session.flush()
    attendance = []
    for course_session, enrolment in planned:
        course = by_id[course_session.course_id]
        if course_session.starts_at >= now or enrolment.state != "enrolled":
            continue
        present = [n for n in range(1, course.lessons + 1) if rng.random() < 0.85]
        attendance += [EduAttendance(enrolment_id=enrolment.id, lesson=n, marked_by="demo") for n in present]
        if len(present) >= course.min_attended:
            enrolment.state = "completed"
            enrolment.completed_at = course_session.starts_at + timedelta(weeks=course.lessons - 1)
            enrolment.certificate_no = service.certificate_number(enrolment, enrolment.completed_at)
    session.add_all(attendance)
    session.flush()


def _history(session: Session, districts: list[District], now: datetime) -> int:
    """Yearly counts split by district (by people aged 65 and over) and by target group."""
    year = now.astimezone(service.SEOUL).year
    yearly = dict(YEARLY)
    yearly[year] = round(yearly.get(year - 1, 180_000) * 1.05 * THIS_YEAR_SO_FAR)
    weights = {d.code: max(d.population_65plus, 1) for d in districts}
    rows = 0
    for row_year, total in sorted(yearly.items()):
        if row_year > year:
            continue
        per_district = city.apportion(total, weights)
        for code, count in per_district.items():
            per_group = city.apportion(count, {g: round(s * 100) for g, s in GROUP_SHARES.items()})
            for group, trained in per_group.items():
                session.add(
                    EduHistory(year=row_year, district_code=code, target_group=group, trained=trained)
                )
                rows += 1
    session.flush()
    return rows
