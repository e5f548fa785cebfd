"""Garbage-collector settings for the long-running server (``smartseoul serve``), not for tests.

Why: the server holds a large, stable heap once it has started (at 10,000 watches and 50,000
safe zones about 630,000 tracked objects: compiled zones, their states, device facts, the
connections). CPython's full collections walk all of it: `smartseoul bench tracking` measured
15 full collections of about 0.26 s each in 40 s of server CPU, plus frequent young ones, 16 % of
the server's CPU in all, and each full collection is a pause an SOS waits behind. Two standard
remedies: freeze what start-up built (``gc.freeze``: moved out of the collector's reach; such
objects are still freed by reference counting when dropped) and collect the young generation
less often (objects of one batch mostly die before the next collection instead of being
promoted).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

# CPython's default is (700, 10, 10); a batch of 500 positions alone allocates several thousand
# container objects, so at 700 they were collected while still alive and promoted.
SERVER_THRESHOLDS = (20_000, 20, 20)


def tune_for_server() -> None:
    """Collect the young generation less often (called once by ``smartseoul serve``)."""
    gc.set_threshold(*SERVER_THRESHOLDS)


def freeze() -> int:
    """Collect the young generations, then move every object alive now out of the collector's
    reach; returns how many objects were frozen in all. No full collection first: over the heap of
    10,000 watches it held the event loop for seconds while devices were connecting (a login timed
    out in ``smartseoul bench tracking``); the little start-up garbage it would have found stays."""
    gc.collect(1)
    gc.freeze()
    return gc.get_freeze_count()


async def freeze_after(warmups: Iterable[asyncio.Future[object]]) -> None:
    """Freeze once the start-up work (compiled zones, preloaded states) is done; a failed
    warm-up is its owner's to report, and the heap is frozen all the same."""
    pending = [task for task in warmups if not task.done()]
    if pending:
        await asyncio.wait(pending)
    frozen = freeze()
    log.info("start-up heap frozen: %d objects out of the collector's reach", frozen)
