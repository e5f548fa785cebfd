"""Demo complaints: a few hundred past ones across the districts (most handled, some overdue, one
dead-lettered delivery for staff to retry), and now and then a citizen filing a new one or a
district officer resolving an old one, through the same service functions as the real pages."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from smartseoul.city.service import CityIndex, random_points_in
from smartseoul.core.db import utcnow
from smartseoul.core.plugin import ActivityGenerator
from smartseoul.services.complaints import delivery, service
from smartseoul.services.complaints.catalogue import CATEGORIES
from smartseoul.services.complaints.events import ComplaintFiled, ComplaintUpdated
from smartseoul.services.complaints.models import (
    Delivery,
    DeliveryAttempt,
    Department,
    InboxItem,
    RequestUpdate,
    ServiceRequest,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

SIMULATOR = "simulator"
DEMO_COUNT = 300
TEXTS = {
    "illegal_parking": [
        "소화전 앞에 승용차가 계속 주차되어 있습니다.",
        "어린이보호구역 횡단보도 위 불법 주차 차량",
    ],
    "pothole": ["버스정류장 앞 도로가 크게 파여 있어 위험합니다.", "빗물에 아스팔트가 패였어요"],
    "streetlight": ["골목 가로등이 일주일째 꺼져 있어 밤길이 어둡습니다.", "가로등이 계속 깜빡입니다"],
    "illegal_dumping": ["전봇대 아래 대형 폐기물이 쌓여 있습니다.", "공원 입구에 쓰레기 봉투 무단투기"],
    "noise": ["새벽까지 공사장 소음이 심합니다.", "주점 음악 소리가 너무 큽니다"],
    "flooding": ["지하차도 입구에 물이 고여 차량 통행이 어렵습니다.", "빗물받이가 막혀 도로가 잠겼어요"],
    "fallen_tree": ["강풍에 가로수가 쓰러져 보도를 막고 있습니다."],
    "stray_animal": ["목줄 없는 큰 개가 놀이터 주변을 돌아다닙니다."],
    "smoking": ["버스정류장 금연구역에서 흡연하는 사람이 많습니다."],
    "graffiti": ["지하보도 벽면에 스프레이 낙서가 있습니다."],
    "illegal_banner": ["교차로 가로등마다 불법 현수막이 걸려 있습니다."],
    "cctv_damage": ["골목 방범 CCTV 렌즈가 깨져 있습니다."],
    "safety_bell": ["공원 화장실 비상벨을 눌러도 반응이 없습니다."],
}
GENERIC = "불편 사항을 신고합니다. 확인 부탁드립니다."


def _points(index: CityIndex, rng: random.Random, count: int) -> list[tuple[str, float, float]]:
    """(district, lat, lon) spread over the districts."""
    codes = sorted(index.district_shapes)
    found = []
    for _ in range(count):
        code = rng.choice(codes)
        lat, lon = random_points_in(index.district_shapes[code], 1, rng)[0]
        found.append((code, lat, lon))
    return found


def _draft(rng: random.Random, lat: float, lon: float) -> service.Draft:
    category = rng.choice(CATEGORIES)
    attributes: dict[str, list[str]] = {}
    for attribute in category.attributes:
        if attribute["values"]:
            attributes[attribute["code"]] = [rng.choice(attribute["values"])["key"]]
        elif attribute["required"]:
            attributes[attribute["code"]] = ["-"]
    return service.Draft(
        service_code=category.code,
        lat=round(lat, 6),
        lon=round(lon, 6),
        description=rng.choice(TEXTS.get(category.code, [GENERIC])),
        attributes=attributes,
    )


def _mark_delivered(session: Session, request: ServiceRequest, at_minutes: int) -> None:
    """A past complaint's deliveries as the worker would have left them: sent, in the inbox."""
    for row in session.scalars(select(Delivery).where(Delivery.request_id == request.id)):
        at = request.requested_at + timedelta(minutes=at_minutes)
        row.status, row.attempts, row.sent_at, row.next_attempt_at = "sent", 1, at, None
        session.add(DeliveryAttempt(delivery_id=row.id, number=1, at=at, ok=True, status_code=None, error=""))
        session.add(
            InboxItem(
                department_id=row.department_id,
                delivery_id=row.id,
                received_at=at,
                payload={"service_request_id": str(request.id), "demo": True},
            )
        )
    request.delivery_state = "sent"


def _dead_letter(session: Session, request: ServiceRequest) -> None:
    for row in session.scalars(select(Delivery).where(Delivery.request_id == request.id)):
        row.status, row.attempts, row.next_attempt_at = "failed", 6, None
        row.last_error = "ConnectError: [Errno 111] Connection refused (demo)"
        session.add(
            DeliveryAttempt(
                delivery_id=row.id,
                number=6,
                at=request.requested_at,
                ok=False,
                status_code=None,
                error=row.last_error,
            )
        )
    request.delivery_state = "failed"


def _progress(session: Session, filed: ServiceRequest, rng: random.Random, now: datetime) -> None:
    """As a desk that mostly keeps up: most complaints past their SLA are resolved (a few late, a
    few still open and overdue), younger ones are received or in progress."""
    sla = filed.expected_at - filed.requested_at
    age = now - filed.requested_at
    if age < sla * 0.2 and rng.random() < 0.7:
        return  # just received
    started = filed.requested_at + min(age / 3, sla * 0.2)
    service.update_status(
        session,
        filed,
        actor=SIMULATOR,
        work_state="in_progress",
        note="담당 부서에서 현장을 확인하고 있습니다.",
        now=started,
        flush=False,
    )
    if age < sla * 0.8 or rng.random() < 0.08:
        return  # in progress (the 8 % of older ones are the overdue list)
    finish = started + (min(age, sla * rng.uniform(0.5, 1.3)) - (started - filed.requested_at))
    state, note = (
        ("rejected", "사유지로 확인되어 처리할 수 없습니다.")
        if rng.random() < 0.05
        else (
            "resolved",
            "조치를 완료했습니다. 감사합니다.",
        )
    )
    service.update_status(
        session, filed, actor=SIMULATOR, work_state=state, note=note, now=min(finish, now), flush=False
    )


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    """``DEMO_COUNT`` complaints over the last 60 days; statuses as a real desk would have them."""
    service.ensure_catalogue(session)
    rng = random.Random(platform.settings.demo_seed)
    index = CityIndex.from_session(session)
    now = utcnow()
    for number, (_code, lat, lon) in enumerate(_points(index, rng, DEMO_COUNT)):
        age = timedelta(hours=rng.uniform(0.5, 60 * 24))
        filed = service.file_request(session, _draft(rng, lat, lon), index=index, now=now - age)
        if number == 7:
            _dead_letter(session, filed)
            continue
        _mark_delivered(session, filed, rng.randint(1, 5))
        _progress(session, filed, rng, now)
    for past in session.scalars(select(RequestUpdate).where(RequestUpdate.push_state == "pending")):
        past.push_state = "no_subscription"
    session.flush()
    return []


def _file_one(platform: Platform, rng: random.Random) -> Event | None:
    from smartseoul.services.complaints.open311 import city_index

    index = city_index(platform)
    _code, lat, lon = _points(index, rng, 1)[0]
    with platform.db.session() as session:
        filed = service.file_request(session, _draft(rng, lat, lon), index=index)
        owner = session.get(Department, filed.department_id)
        return ComplaintFiled(
            request_id=filed.id,
            service_code=filed.service_code,
            district_code=filed.district_code,
            department=owner.code if owner else "",
        )


def _resolve_one(platform: Platform, rng: random.Random) -> Event | None:
    with platform.db.session() as session:
        rows = service.queue(session, None, "open", limit=50)
        if not rows:
            return None
        row = rng.choice(rows)
        state = "in_progress" if row.work_state == "received" else "resolved"
        service.update_status(
            session, row, actor=SIMULATOR, work_state=state, note="현장 확인 후 조치 중입니다."
        )
        return ComplaintUpdated(request_id=row.id, status=row.status, work_state=row.work_state)


async def _make_filed(platform: Platform, rng: random.Random) -> Event | None:
    event = await asyncio.to_thread(_file_one, platform, rng)
    delivery.wake(platform)
    return event


async def _make_resolved(platform: Platform, rng: random.Random) -> Event | None:
    event = await asyncio.to_thread(_resolve_one, platform, rng)
    delivery.wake(platform)
    return event


def generators(platform: Platform) -> list[ActivityGenerator]:
    """Complaints are rare next to positions: a few in a thousand simulated events."""
    return [
        ActivityGenerator("complaints.filed", 0.003, _make_filed),
        ActivityGenerator("complaints.resolved", 0.002, _make_resolved),
    ]
