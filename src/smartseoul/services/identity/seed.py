"""Demo identity: the citizen account ``citizen`` / ``Deoksu-palace-2015!`` and the city CA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartseoul.core import auth
from smartseoul.services.identity import pki

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform

DEMO_USERNAME = "citizen"
DEMO_PASSWORD = "Deoksu-palace-2015!"
DEMO_NAME = "김서울"
DEMO_DISTRICT = "11010"  # Jongno-gu


def seed_demo(platform: Platform, session: Session) -> None:
    """Make the city CA (so the CRL and root are there at once) and the demo citizen, if absent."""
    pki.city_ca(platform.settings.data_dir)
    if auth.get_user(session, DEMO_USERNAME) is None:
        auth.create_user(
            session,
            username=DEMO_USERNAME,
            password=DEMO_PASSWORD,
            roles=["citizen"],
            actor="seed",
            display_name=DEMO_NAME,
            district_code=DEMO_DISTRICT,
        )
