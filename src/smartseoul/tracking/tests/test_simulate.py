"""The demo children walk over the real watch protocol and their positions are stored."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from smartseoul.core.bootstrap import Platform
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.listeners import TcpProtocol, start_tcp
from smartseoul.tracking.models import Device, Position
from smartseoul.tracking.protocols.watch import WatchDecoder
from smartseoul.tracking.seed import CHILDREN_PER_SCHOOL, PILOT_SCHOOLS, seed_children
from smartseoul.tracking.simulate import VirtualWatch, walkers, where


def test_a_walk_goes_from_home_to_school_and_back() -> None:
    watch = VirtualWatch("x", home=(37.50, 127.00), school=(37.51, 127.00), phase=0.0)
    start = datetime(2026, 11, 25, tzinfo=UTC)
    cycle_s = 2 * 1110 / (4.0 / 3.6)
    points = [where(watch, start + timedelta(seconds=cycle_s * k / 8)) for k in range(9)]
    lats = [lat for lat, _ in points]
    assert min(lats) >= 37.50 - 1e-9
    assert max(lats) <= 37.51 + 1e-9
    assert max(lats) - min(lats) > 0.008  # it really reaches (close to) both ends


@pytest.mark.anyio
async def test_demo_children_report_through_the_watch_listener(platform: Platform) -> None:
    with platform.db.session() as session:
        assert seed_children(session, 7) == PILOT_SCHOOLS * CHILDREN_PER_SCHOOL
    server = await start_tcp(TcpProtocol("watch", 0, WatchDecoder), "127.0.0.1", Ingestor(platform))
    platform.settings.tracking_listeners = True
    platform.settings.tracking_watch_port = server.sockets[0].getsockname()[1]
    try:
        (generator,) = walkers(platform)
        rng = random.Random(1)
        for _ in range(20):
            await generator.make(platform, rng)
        for _ in range(200):
            with platform.db.session() as session:
                stored = session.scalar(select(func.count()).select_from(Position)) or 0
            if stored >= 20:
                break
            await asyncio.sleep(0.05)
    finally:
        server.close()
    assert stored >= 20
    with platform.db.session() as session:
        devices = session.scalar(select(func.count()).select_from(Device)) or 0
    assert devices == PILOT_SCHOOLS * CHILDREN_PER_SCHOOL
