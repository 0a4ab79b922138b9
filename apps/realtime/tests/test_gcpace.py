"""When the `ws` process collects its garbage (apps/realtime/gcpace.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from apps.realtime import gcpace
from apps.realtime.gcpace import PERIOD_SECONDS, GcPacer

OBJECTS = 50_000


def _replace_old_objects_with_new_ones() -> list[list[int]]:
    """Like a subscription storm: as many objects freed as made, so CPython's allocation
    count stays put while the new ones pile up in the young generation."""
    old: list[list[int] | None] = [[] for _ in range(OBJECTS)]
    gc.collect()  # now old
    new: list[list[int]] = []
    for i in range(OBJECTS):
        new.append([])
        old[i] = None
    return new


@pytest.mark.asyncio
async def test_the_young_generation_is_collected_though_the_allocation_count_stayed_put() -> None:
    survivors = _replace_old_objects_with_new_ones()
    assert len(gc.get_objects(0)) > OBJECTS * 0.8  # nothing collected them
    collector = GcPacer()
    collector.start()
    try:
        await asyncio.sleep(PERIOD_SECONDS * 2.5)
        assert collector.running
        assert collector.runs >= 1
        assert len(gc.get_objects(0)) < OBJECTS * 0.1
    finally:
        await collector.close()
    assert len(survivors) == OBJECTS


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def _enough_to_grow_oldest_generation(fraction: float) -> int:
    """How many new objects grow the oldest generation by more than `fraction`."""
    return int(len(gc.get_objects(2)) * fraction) + 1000


def _grow_oldest_generation(fraction: float) -> list[list[int]]:
    """Keep enough new objects alive to grow the oldest generation by `fraction`."""
    kept: list[list[int]] = [[] for _ in range(_enough_to_grow_oldest_generation(fraction))]
    _middle_collections()
    return kept


def _middle_collections() -> None:
    """As many middle collections as CPython's rule wants between two full ones; the
    survivors of the first become old."""
    for _ in range(gcpace.MIDDLES_PER_FULL + 1):
        gc.collect(1)


@pytest_asyncio.fixture
async def pacer() -> AsyncIterator[GcPacer]:
    """A running pacer that wants a full collection once the oldest generation grew 5 %."""
    pacer = GcPacer(growth=0.05)
    pacer.start()
    try:
        yield pacer
    finally:
        await pacer.close()


@pytest.mark.asyncio
async def test_cpython_full_collections_are_off_while_the_pacer_runs() -> None:
    pacer = GcPacer()
    pacer.start()
    try:
        assert gc.get_threshold()[:2] == gcpace.CPYTHON_THRESHOLDS[:2]
        assert gc.get_threshold()[2] > 10**9
    finally:
        await pacer.close()
    assert gc.get_threshold() == gcpace.CPYTHON_THRESHOLDS
    assert pacer._on_collection not in gc.callbacks


@pytest.mark.asyncio
async def test_a_due_full_collection_runs_right_after_a_batch_and_only_then(
    pacer: GcPacer,
) -> None:
    before = _full_collections()
    pacer.batch_written()  # nothing grew
    assert (pacer.full_runs, _full_collections()) == (0, before)
    kept = _grow_oldest_generation(0.10)
    await asyncio.sleep(PERIOD_SECONDS * 3)  # a batch came less than QUIET_SECONDS ago
    assert (pacer.full_runs, _full_collections()) == (0, before)
    assert pacer.runs >= 1  # the young ones went on meanwhile
    pacer.batch_written()
    assert (pacer.full_runs, _full_collections()) == (1, before + 1)
    pacer.batch_written()  # counted again from what was left
    assert pacer.full_runs == 1
    assert len(kept) > 1000


class _Closed:
    """Stands for a socket's objects: they refer to each other, so only a collection frees them."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.asyncio
async def test_what_closed_sockets_left_in_the_oldest_generation_is_freed_after_a_batch(
    pacer: GcPacer,
) -> None:
    count = _enough_to_grow_oldest_generation(0.10)
    closed = [_Closed() for _ in range(count)]
    gc.collect(1)  # old by now
    del closed  # garbage, but only a full collection looks at the oldest generation
    _middle_collections()
    # `type`, not `isinstance`: the generation may hold weak proxies of dead objects,
    # whose `__class__` raises ReferenceError.
    assert sum(type(o) is _Closed for o in gc.get_objects(2)) == count
    collected = gc.get_stats()[2]["collected"]
    pacer.batch_written()
    assert pacer.full_runs == 1
    assert gc.get_stats()[2]["collected"] - collected >= count
    assert not any(type(o) is _Closed for o in gc.get_objects(2))


@pytest.mark.asyncio
async def test_like_cpython_a_full_collection_waits_for_enough_middle_ones() -> None:
    gc.disable()  # `kept` stays young until the pacer has counted the oldest generation
    try:
        kept: list[list[int]] = [[] for _ in range(_enough_to_grow_oldest_generation(0.10))]
    finally:
        gc.enable()
    pacer = GcPacer(growth=0.05)
    pacer.start()  # `kept` becomes old in the first middle collection
    try:
        for _ in range(gcpace.MIDDLES_PER_FULL):
            gc.collect(1)
        pacer.batch_written()
        assert pacer.full_runs == 0  # grown enough, but only ten middle collections
        gc.collect(1)
        pacer.batch_written()
        assert pacer.full_runs == 1
    finally:
        await pacer.close()
    assert len(kept) > 1000


@pytest.mark.asyncio
async def test_without_batches_the_timer_makes_the_due_full_collection(pacer: GcPacer) -> None:
    before = _full_collections()
    kept = _grow_oldest_generation(0.10)
    await asyncio.sleep(PERIOD_SECONDS * 3)
    assert pacer.full_runs == 1
    assert _full_collections() == before + 1
    assert len(kept) > 1000


@pytest.mark.asyncio
async def test_a_full_collection_comes_at_least_every_so_often() -> None:
    pacer = GcPacer(every=PERIOD_SECONDS)
    pacer.start()
    try:
        await asyncio.sleep(PERIOD_SECONDS * 1.5)
        pacer.batch_written()
        assert pacer.full_runs >= 1
    finally:
        await pacer.close()


@pytest.mark.asyncio
async def test_an_idle_pacer_makes_no_full_collection() -> None:
    pacer = GcPacer()
    pacer.batch_written()  # not started: the hub of a process without sockets
    assert pacer.full_runs == 0
