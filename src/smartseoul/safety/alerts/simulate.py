"""Demo alerts: one drill alert in the demo city, and now and then a simulated drill issued and
withdrawn, through the same service as an operator (CAP status ``Exercise``: never mistaken for a
real warning by anyone who reads the CAP)."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from smartseoul.core.plugin import ActivityGenerator
from smartseoul.safety.alerts import service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

SIMULATOR = "simulator"
MAX_ACTIVE_DRILLS = 2
DRILLS = (
    ("Flood", "호우로 인한 저지대 침수 우려 (훈련)", "Flooding expected in low-lying areas (drill)", "Met"),
    ("Fire", "대형 화재 발생, 연기 주의 (훈련)", "Large fire, beware of smoke (drill)", "Fire"),
    ("Heat", "폭염 경보, 야외 활동 자제 (훈련)", "Heat wave: avoid outdoor activity (drill)", "Met"),
    (
        "Missing person",
        "실종 아동 발생, 제보 요청 (훈련)",
        "Missing child: please report sightings (drill)",
        "Rescue",
    ),
)


def drill(rng: random.Random, district: str) -> service.AlertDraft:
    event, headline_ko, headline_en, category = rng.choice(DRILLS)
    return service.AlertDraft(
        event=event,
        category=category,
        severity=rng.choice(("Severe", "Moderate", "Minor")),
        urgency=rng.choice(("Immediate", "Expected")),
        certainty=rng.choice(("Observed", "Likely")),
        headline_ko=headline_ko,
        headline_en=headline_en,
        description_ko="스마트서울 시뮬레이터가 발령한 훈련 경보입니다.",
        description_en="A drill alert issued by the Smart Seoul simulator.",
        area={"districts": [district]},
        expires_minutes=30,
        cap_status="Exercise",
    )


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    """One drill alert over Jongno-gu, so the portal's banner and the feed have something to show."""
    outcome = service.issue(
        session,
        drill(random.Random(platform.settings.demo_seed), "11010"),
        issuer=SIMULATOR,
        settings=platform.settings,
    )
    return list(outcome.events)


def _step(platform: Platform, rng: random.Random) -> Event | None:
    with platform.db.session() as session:
        drills = [a for a in service.current_alerts(session) if a.issued_by == SIMULATOR]
        if len(drills) >= MAX_ACTIVE_DRILLS:
            outcome = service.cancel(session, drills[-1].id, by=SIMULATOR, settings=platform.settings)
        else:
            codes = sorted(service.district_names(session))
            if not codes:
                return None
            outcome = service.issue(
                session, drill(rng, rng.choice(codes)), issuer=SIMULATOR, settings=platform.settings
            )
    return outcome.events[0] if outcome.events else None


async def _make(platform: Platform, rng: random.Random) -> Event | None:
    return await asyncio.to_thread(_step, platform, rng)


def generators(platform: Platform) -> list[ActivityGenerator]:
    """Drills are rare next to positions and alarms: about one event in a thousand."""
    return [ActivityGenerator("alerts.drill", 0.001, _make)]
