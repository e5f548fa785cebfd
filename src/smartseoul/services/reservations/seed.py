"""Demo facilities: 60 public facilities across the 25 districts with two weeks of slots.

Names follow the facilities every gu runs (구민체육센터, 구민회관, 주민센터 회의실, 평생학습관 강좌);
rules differ the way they do in Seoul: residents-only halls, paid courts, free classes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from smartseoul.city.models import District
from smartseoul.services.reservations.models import Facility, Slot
from smartseoul.services.reservations.service import SEOUL

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event
    from smartseoul.core.plugin import ActivityGenerator

# (suffix ko, suffix en, kind, capacity, who, fee, weekly limit, cancel hours, hours of the day)
TEMPLATES = (
    (
        "구민체육센터 배드민턴장",
        "Sports Centre badminton court",
        "sports",
        4,
        "anyone",
        4_000,
        2,
        24,
        (7, 9, 11, 14, 16, 19),
    ),
    ("테니스장 1코트", "Tennis court 1", "sports", 1, "anyone", 8_000, 2, 48, (6, 8, 10, 12, 14, 16, 18, 20)),
    ("구민회관 대강당", "District Hall auditorium", "hall", 1, "residents", 150_000, 1, 72, (10, 14, 18)),
    (
        "주민센터 회의실",
        "Community Centre meeting room",
        "meeting_room",
        1,
        "residents",
        0,
        3,
        12,
        (9, 11, 13, 15, 17, 19),
    ),
    (
        "평생학습관 스마트폰 기초 강좌",
        "Learning Centre smartphone basics class",
        "class",
        20,
        "anyone",
        0,
        2,
        24,
        (10, 14),
    ),
    ("풋살장", "Futsal pitch", "sports", 1, "anyone", 20_000, 1, 48, (8, 10, 12, 14, 16, 18, 20)),
    (
        "청소년수련관 다목적실",
        "Youth Centre multipurpose room",
        "meeting_room",
        1,
        "anyone",
        10_000,
        2,
        24,
        (10, 13, 16, 19),
    ),
    ("평생학습관 요가 강좌", "Learning Centre yoga class", "class", 15, "residents", 3_000, 2, 24, (7, 19)),
)
FACILITY_COUNT = 60
DAYS_OF_SLOTS = 14


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    """Idempotent: seeding twice adds nothing (facility codes are fixed)."""
    if session.scalar(select(Facility.id).limit(1)) is not None:
        return []
    rng = random.Random(platform.settings.demo_seed)
    districts = list(session.scalars(select(District).order_by(District.code)))
    if not districts:
        return []
    made: list[Facility] = []
    for n in range(FACILITY_COUNT):
        district = districts[n % len(districts)]
        ko, en, kind, capacity, who, fee, weekly, cancel, _hours = TEMPLATES[
            (n % len(districts) + (n // len(districts)) * 3) % len(TEMPLATES)
        ]
        facility = Facility(
            code=f"{district.code}-{n + 1:03d}",
            name_ko=f"{district.name_ko} {ko}",
            name_en=f"{district.name_en} {en}",
            kind=kind,
            district_code=district.code,
            address=f"서울특별시 {district.name_ko}",
            lat=round(district.centroid_lat + rng.uniform(-0.01, 0.01), 6),
            lon=round(district.centroid_lon + rng.uniform(-0.01, 0.01), 6),
            capacity=capacity,
            who_may_book=who,
            book_ahead_days=14 if kind != "hall" else 30,
            weekly_limit=weekly,
            cancel_deadline_hours=cancel,
            fee_krw=fee,
            no_show_limit=3,
        )
        session.add(facility)
        made.append(facility)
    session.flush()
    today = datetime.now(SEOUL).date()
    rows = []
    for facility in made:
        hours = next(t[8] for t in TEMPLATES if facility.name_en.endswith(t[1]))
        for day in range(DAYS_OF_SLOTS):
            date = today + timedelta(days=day)
            for hour in hours:
                start = datetime(date.year, date.month, date.day, hour, tzinfo=SEOUL)
                rows.append(
                    {
                        "facility_id": facility.id,
                        "starts_at": start,
                        "ends_at": start + timedelta(hours=2 if facility.kind == "hall" else 1),
                        "capacity": facility.capacity,
                        "booked": 0,
                    }
                )
    session.execute(insert(Slot), rows)
    return []


def generators(platform: Platform) -> list[ActivityGenerator]:
    """No simulated bookings: bookings are made by people (the demo citizen), not the simulator."""
    return []
