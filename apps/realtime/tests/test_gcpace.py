"""Young garbage collections on a timer (apps/realtime/gcpace.py)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from apps.realtime.gcpace import PERIOD_SECONDS, YoungCollector

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
    collector = YoungCollector()
    collector.start()
    try:
        await asyncio.sleep(PERIOD_SECONDS * 2.5)
        assert collector.running
        assert collector.runs >= 1
        assert len(gc.get_objects(0)) < OBJECTS * 0.1
    finally:
        await collector.close()
    assert len(survivors) == OBJECTS
