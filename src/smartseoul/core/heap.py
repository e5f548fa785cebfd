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

What the server builds after start-up (10,000 watch connections, device facts read again, zone
states) is frozen too, once a minute: otherwise the unfrozen heap grows back to millions of
objects and a full collection of it (0.6 s measured) or a young one of 400,000 survivors (0.25 s)
lands on an SOS in flight (paced SOS p99 0.9-1.5 s in ``smartseoul bench tracking``). Frozen
objects that become cyclic garbage (a closed connection's protocol and transport) are not found
until they are thawed: once an hour everything is thawed and collected in full, one pause an hour.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterable

log = logging.getLogger(__name__)

# CPython's default is (700, 10, 10); a batch of 500 positions alone allocates several thousand
# container objects, so at 700 they were collected while still alive and promoted.
# A young collection every 5 of them, not 20: the middle generation then holds tens of thousands
# of survivors, not 400,000 (0.25 s a collection, measured).
SERVER_THRESHOLDS = (10_000, 5, 20)
REFREEZE_S = 60.0  # what has lived a minute in the server is almost all long-lived
THAW_S = 3600.0  # how often frozen cyclic garbage is looked for (a full collection: one pause)


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


def refreeze(*, thaw: bool) -> int:
    """Freeze what was built since the last freeze; with ``thaw``, first thaw everything and
    collect it in full, which frees the cyclic garbage that was frozen while it was alive."""
    if thaw:
        gc.unfreeze()
        gc.collect()
    return freeze()


async def keep_frozen(refreeze_s: float = REFREEZE_S, thaw_s: float = THAW_S) -> None:
    """Freeze again every ``refreeze_s``, thawing and collecting in full every ``thaw_s``."""
    thawed = time.monotonic()
    while True:
        await asyncio.sleep(refreeze_s)
        thaw = time.monotonic() - thawed >= thaw_s
        started = time.perf_counter()
        frozen = refreeze(thaw=thaw)
        if thaw:
            thawed = time.monotonic()
            took = time.perf_counter() - started
            log.info("heap thawed and collected in %.2f s; %d objects frozen", took, frozen)


async def manage(warmups: Iterable[asyncio.Future[object]]) -> None:
    """The server's heap for its whole life: frozen after start-up, then kept frozen."""
    await freeze_after(warmups)
    await keep_frozen()
