"""Demo content: ~200 sites (the city, its 25 districts from the city data, departments and
facilities) with a handful of real-looking Korean documents each, generated (never fetched).

``documents`` is also the bench's generator of 100,000 documents, so the demo and the figures
come from the same kind of text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.portal.content import search, service
from smartseoul.portal.content.models import (
    ContentDocument,
    ContentNavItem,
    ContentRevision,
    ContentSite,
)

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

SEED_AUTHOR = "seed"
DEPARTMENTS = (
    ("planning", "기획조정실", "Planning and Coordination Office"),
    ("safety", "안전총괄실", "Safety Management Office"),
    ("welfare", "복지정책실", "Welfare Policy Office"),
    ("transport", "교통실", "Transport Office"),
    ("urban-planning", "도시계획국", "Urban Planning Bureau"),
    ("housing", "주택정책실", "Housing Policy Office"),
    ("climate", "기후환경본부", "Climate and Environment Headquarters"),
    ("culture", "문화본부", "Culture Headquarters"),
    ("economy", "경제정책실", "Economic Policy Office"),
    ("women-family", "여성가족정책실", "Women and Family Policy Office"),
    ("health", "시민건강국", "Citizen Health Bureau"),
    ("fire", "소방재난본부", "Fire and Disaster Headquarters"),
    ("digital", "디지털정책관", "Digital Policy Bureau"),
    ("tourism-sports", "관광체육국", "Tourism and Sports Bureau"),
    ("lifelong-learning", "평생교육국", "Lifelong Education Bureau"),
    ("parks", "푸른도시국", "Parks and Landscape Bureau"),
    ("water", "물순환안전국", "Water Circulation Safety Bureau"),
    ("infrastructure", "도시기반시설본부", "Infrastructure Headquarters"),
    ("balanced-development", "균형발전본부", "Balanced Development Headquarters"),
    ("smart-city", "스마트도시정책관", "Smart City Policy Bureau"),
)
FACILITIES = (
    ("library", "구립도서관", "District Library"),
    ("sports", "국민체육센터", "Sports Centre"),
    ("health", "보건소", "Public Health Centre"),
    ("arts", "구민회관", "Community Arts Hall"),
    ("youth", "청소년센터", "Youth Centre"),
    ("family", "가족센터", "Family Centre"),
)
NAV = (("소개", "About", "about"), ("새소식", "News", "news"), ("공지사항", "Notices", "notices"))
TOPICS = (
    (
        "겨울철 독서교실 참가자 모집",
        "어린이와 학부모를 위한 겨울방학 독서교실을 운영합니다. 도서관 누리집에서 신청하세요.",
    ),
    (
        "미세먼지 저감 비상조치 안내",
        "초미세먼지 농도가 높아 공공기관 차량 2부제를 시행합니다. 실외 활동을 줄여 주세요.",
    ),
    ("공공와이파이 확대 설치 완료", "버스정류장과 공원 등 120곳에 무료 공공와이파이를 새로 설치했습니다."),
    (
        "어르신 스마트폰 활용 교육",
        "어르신을 위한 스마트폰 기초 교육을 주민센터에서 매주 화요일에 진행합니다.",
    ),
    (
        "폭설 대비 제설 대책 추진",
        "강설 예보에 따라 제설 장비와 염화칼슘을 미리 준비하고 취약 구간을 순찰합니다.",
    ),
    ("청년 일자리 박람회 개최", "지역 기업 40곳이 참여하는 청년 일자리 박람회를 구민회관에서 개최합니다."),
    (
        "어린이보호구역 CCTV 추가 설치",
        "초등학교 주변 어린이보호구역에 방범 CCTV와 비상벨을 추가로 설치했습니다.",
    ),
    (
        "주민참여예산 제안 공모",
        "우리 동네에 필요한 사업을 주민이 직접 제안하는 주민참여예산 공모를 시작합니다.",
    ),
    (
        "가족 나들이 가을 음악회",
        "공원 야외무대에서 가족과 함께 즐기는 가을 음악회를 엽니다. 누구나 무료로 관람할 수 있습니다.",
    ),
    ("여권 발급 민원 안내", "여권 신청은 구청 민원실에서 평일 오전 9시부터 오후 6시까지 접수합니다."),
    ("치매 조기검진 무료 실시", "만 60세 이상 주민을 대상으로 보건소에서 치매 조기검진을 무료로 실시합니다."),
    ("자전거도로 정비 공사 안내", "하천변 자전거도로 정비 공사로 일부 구간 통행이 제한됩니다."),
)
KINDS = ("news", "notice", "event", "service", "page")


@dataclass(frozen=True)
class GeneratedDocument:
    path: str
    kind: str
    title: str
    body_html: str
    published_at: datetime
    event_start: datetime | None
    location: str


def documents(rng: random.Random, place: str, count: int, start: int = 0) -> Iterator[GeneratedDocument]:
    """``count`` Korean documents for a site named ``place`` (paths numbered from ``start``)."""
    now = utcnow()
    for number in range(start, start + count):
        title, text = TOPICS[rng.randrange(len(TOPICS))]
        kind = KINDS[number % len(KINDS)]
        published = now - timedelta(days=rng.randrange(0, 400), minutes=rng.randrange(0, 1440))
        event_start = published + timedelta(days=rng.randrange(3, 30)) if kind == "event" else None
        yield GeneratedDocument(
            path=f"{kind}/{number + 1}",
            kind=kind,
            title=f"{place} {title}",
            body_html=f"<p>{place}에서 알려드립니다. {text}</p><p>문의: {place} 담당부서 (02-120)</p>",
            published_at=published,
            event_start=event_start,
            location=f"{place} 대강당" if kind == "event" else "",
        )


def site_specs(session: Session) -> list[dict[str, str | None]]:
    """The demo's ~200 sites: the city, each district (from the city data), departments, facilities."""
    from smartseoul.city import service as city

    specs: list[dict[str, str | None]] = [
        {
            "slug": "seoul",
            "kind": "city",
            "name_ko": "서울특별시",
            "name_en": "Seoul Metropolitan Government",
            "district_code": None,
        }
    ]
    districts = city.list_districts(session)
    for d in districts:
        slug = str(d["name_en"]).lower().replace(" ", "-")
        specs.append(
            {
                "slug": slug,
                "kind": "district",
                "name_ko": f"{d['name_ko']}청",
                "name_en": f"{d['name_en']} Office",
                "district_code": str(d["code"]),
            }
        )
    for slug, name_ko, name_en in DEPARTMENTS:
        specs.append(
            {
                "slug": f"dept-{slug}",
                "kind": "department",
                "name_ko": f"서울시 {name_ko}",
                "name_en": name_en,
                "district_code": None,
            }
        )
    for d in districts:
        base = str(d["name_en"]).lower().replace(" ", "-")
        for slug, name_ko, name_en in FACILITIES:
            specs.append(
                {
                    "slug": f"{base}-{slug}",
                    "kind": "facility",
                    "name_ko": f"{d['name_ko']} {name_ko}",
                    "name_en": f"{d['name_en']} {name_en}",
                    "district_code": str(d["code"]),
                }
            )
    return specs


def bulk_publish(session: Session, docs: list[tuple[ContentSite, GeneratedDocument]], author: str) -> int:
    """Insert published documents, their revisions and index entries in a few statements (seed, bench).
    Returns the number of index terms written."""
    if not docs:
        return 0
    session.execute(
        insert(cast(Table, ContentDocument.__table__)),
        [
            {
                "site_id": site.id,
                "path": d.path,
                "kind": d.kind,
                "state": "published",
                "published_at": d.published_at,
                "created_at": d.published_at,
                "updated_at": d.published_at,
            }
            for site, d in docs
        ],
    )
    site_ids = sorted({site.id for site, _ in docs})
    ids = {
        (site_id, path): document_id
        for site_id, path, document_id in session.execute(
            select(ContentDocument.site_id, ContentDocument.path, ContentDocument.id).where(
                ContentDocument.site_id.in_(site_ids), ContentDocument.published_revision_id.is_(None)
            )
        )
    }
    revisions = [
        {
            "document_id": ids[(site.id, d.path)],
            "number": 1,
            "title": d.title,
            "summary": service.plain_text(d.body_html),
            "body_html": d.body_html,
            "event_start": d.event_start,
            "location": d.location,
            "author": author,
            "note": "",
            "created_at": d.published_at,
        }
        for site, d in docs
    ]
    session.execute(insert(cast(Table, ContentRevision.__table__)), revisions)
    latest = (
        select(ContentRevision.id)
        .where(ContentRevision.document_id == ContentDocument.id)
        .order_by(ContentRevision.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(ContentDocument)
        .where(ContentDocument.id.in_(list(ids.values())))
        .values(published_revision_id=latest)
        .execution_options(synchronize_session=False)
    )
    entries = [
        search.entry(
            ids[(site.id, d.path)], d.title, service.plain_text(d.body_html), d.body_html, d.location
        )
        for site, d in docs
    ]
    return search.store(session, entries)


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    """The demo's sites and documents (skipped when sites exist already)."""
    if session.scalar(select(func.count()).select_from(ContentSite)):
        return []
    rng = random.Random(platform.settings.demo_seed)
    specs = site_specs(session)
    sites = [
        ContentSite(
            slug=str(spec["slug"]),
            kind=str(spec["kind"]),
            name_ko=str(spec["name_ko"]),
            name_en=str(spec["name_en"]),
            district_code=spec["district_code"],
            description=f"{spec['name_ko']} 공식 누리집입니다.",
            nav=[
                ContentNavItem(position=n, label_ko=ko, label_en=en, path=path)
                for n, (ko, en, path) in enumerate(NAV)
            ],
        )
        for spec in specs
    ]
    session.add_all(sites)
    session.flush()
    batch: list[tuple[ContentSite, GeneratedDocument]] = []
    for site in sites:
        place = site.name_ko
        docs = list(documents(rng, place, 4 if site.kind != "facility" else 3))
        about = GeneratedDocument(
            "about",
            "page",
            f"{place} 소개",
            f"<p>{place}의 역할과 찾아오시는 길을 안내합니다.</p>",
            utcnow() - timedelta(days=500),
            None,
            "",
        )
        batch.extend((site, doc) for doc in (about, *docs))
    bulk_publish(session, batch, SEED_AUTHOR)
    return []
