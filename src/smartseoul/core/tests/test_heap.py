"""The server's heap freeze: after the start-up work, never before it, and never in tests."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from smartseoul.core import heap

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_the_heap_is_frozen_once_the_start_up_work_is_done() -> None:
    warm: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    freezing = asyncio.create_task(heap.freeze_after([warm]))
    await asyncio.sleep(0.05)
    assert gc.get_freeze_count() == 0  # the zones are still being compiled
    warm.set_result(None)
    await freezing
    assert gc.get_freeze_count() > 0


async def test_a_failed_warm_up_still_lets_the_heap_freeze() -> None:
    warm: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    warm.set_exception(RuntimeError("zones could not be read"))
    await heap.freeze_after([warm])
    assert gc.get_freeze_count() > 0
    with pytest.raises(RuntimeError):
        warm.result()  # its owner reports it; the freeze did not swallow it


def test_the_server_collects_the_young_generation_less_often() -> None:
    before = gc.get_threshold()
    try:
        heap.tune_for_server()
        assert gc.get_threshold()[0] > before[0]
    finally:
        gc.set_threshold(*before)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_cyclic_garbage_frozen_while_alive_is_freed_at_the_hourly_thaw() -> None:
    """A closed connection's objects refer to each other: frozen while it was open, they would
    never be freed without the thaw (the server's memory would grow with every reconnection)."""
    connection = _Cycle()
    alive = weakref.ref(connection)
    heap.freeze()
    del connection
    gc.collect()
    assert alive() is not None  # frozen: out of the collector's reach
    heap.refreeze(thaw=False)
    assert alive() is not None
    heap.refreeze(thaw=True)
    assert alive() is None


async def test_what_the_server_builds_after_start_up_is_frozen_too() -> None:
    heap.freeze()
    before = gc.get_freeze_count()
    connections = [_Cycle() for _ in range(1000)]  # watches connecting after start-up
    keeping = asyncio.create_task(heap.keep_frozen(refreeze_s=0.01, thaw_s=3600))
    await asyncio.sleep(0.2)
    keeping.cancel()
    assert gc.get_freeze_count() >= before + len(connections)
