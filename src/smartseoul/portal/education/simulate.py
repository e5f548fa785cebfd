"""Simulated sign-ups: now and then someone signs up for a coming class on /learn or by phone,
through the same service as a real person (so seats fill, waitlists grow and reminders go out)."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from smartseoul.core.db import utcnow
from smartseoul.core.plugin import ActivityGenerator
from smartseoul.portal.education import service
from smartseoul.portal.education.events import EnrolmentMade
from smartseoul.portal.education.models import GROUPS
from smartseoul.portal.education.seed import GIVEN, SURNAMES

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

GROUP_WEIGHTS = (56, 20, 9, 15)


def _step(platform: Platform, rng: random.Random) -> Event | None:
    with platform.db.session() as session:
        coming = service.upcoming_sessions(session, utcnow(), limit=100)
        if not coming:
            return None
        chosen, _ = rng.choice(coming)
        form = service.SignUp(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            phone=f"010-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}",
            target_group=rng.choices(GROUPS, GROUP_WEIGHTS)[0],
            district_code=chosen.district_code,
            consent=True,
            channel=rng.choice(("web", "web", "phone")),
        )
        learner = service.find_or_add_learner(session, form, "simulator")
        try:
            enrolment = service.enrol(session, chosen.id, learner)
        except service.EducationError:
            return None
        return EnrolmentMade(
            enrolment_id=enrolment.id,
            session_id=chosen.id,
            district_code=chosen.district_code,
            target_group=learner.target_group,
            state=enrolment.state,
            channel=learner.channel,
        )


async def _make(platform: Platform, rng: random.Random) -> Event | None:
    return await asyncio.to_thread(_step, platform, rng)


def generators(platform: Platform) -> list[ActivityGenerator]:
    """Sign-ups are rare next to positions and camera events."""
    return [ActivityGenerator("education.signup", 0.005, _make)]
