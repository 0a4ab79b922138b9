"""The per-process quote hub (apps/realtime/hub.py) on the real Redis: batches, sharing, cleanup."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from django.conf import settings

from apps.realtime import gcpace
from apps.realtime.gcpace import get_gc_pacer
from apps.realtime.hub import QuoteBatch, QuoteGroup, QuoteHub
from apps.realtime.protocol import SymbolKey
from apps.realtime.quotes import quote_channel

TCS: SymbolKey = ("NSE", "TCS")
INFY: SymbolKey = ("NSE", "INFY")
SBIN: SymbolKey = ("NSE", "SBIN")


class Sink:
    def __init__(self) -> None:
        self.batches: list[QuoteBatch] = []
        self.bodies: list[bytes] = []
        self.keys: frozenset[SymbolKey] = frozenset()

    def quotes_ready(self, batch: QuoteBatch, body: bytes) -> None:
        self.batches.append(batch)
        self.bodies.append(body)


def test_a_group_picks_and_joins_its_quotes_from_a_batch() -> None:
    batch = QuoteBatch({TCS: '{"s":"TCS"}', SBIN: '{"s":"SBIN"}'}, 0.0)
    assert batch.encoded == {TCS: b'{"s":"TCS"}', SBIN: b'{"s":"SBIN"}'}
    both = QuoteGroup(frozenset({TCS, SBIN}))
    assert sorted(both.body(batch).split(b",")) == [b'{"s":"SBIN"}', b'{"s":"TCS"}']
    assert QuoteGroup(frozenset({TCS, INFY})).body(batch) == b'{"s":"TCS"}'  # INFY: no tick
    assert QuoteGroup(frozenset({SBIN})).body(batch) == b'{"s":"SBIN"}'
    assert QuoteGroup(frozenset({INFY})).body(batch) == b""
    assert batch.subset({SBIN, TCS, INFY}) == {TCS: '{"s":"TCS"}', SBIN: '{"s":"SBIN"}'}
    assert list(batch.subset({SBIN, TCS, INFY})) == [TCS, SBIN]  # arrival order


@pytest_asyncio.fixture
async def quote_hub() -> AsyncIterator[QuoteHub]:
    hub = QuoteHub()
    yield hub
    await hub.close()


async def _publish(ticks: list[tuple[SymbolKey, str]]) -> None:
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for key, payload in ticks:
                pipe.publish(quote_channel(*key), payload)
            await pipe.execute()
    finally:
        await client.aclose()


async def _until(test: Callable[[], object], timeout: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not test():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_sinks_get_one_batch_with_the_latest_tick_and_share_their_symbol_set(
    quote_hub: QuoteHub,
) -> None:
    a, b, other = Sink(), Sink(), Sink()
    a.keys = await quote_hub.watch(a, frozenset({TCS, INFY}))
    b.keys = await quote_hub.watch(b, frozenset({INFY, TCS}))
    other.keys = await quote_hub.watch(other, frozenset({SBIN}))
    assert a.keys is b.keys  # one copy for every sink watching the same symbols
    assert len(quote_hub.groups) == 2
    assert quote_hub.watchers == {TCS: 2, INFY: 2, SBIN: 1}

    await _publish([(TCS, '"tcs-1"'), (TCS, '"tcs-2"'), (INFY, '"infy-1"')])
    await _until(lambda: a.batches and b.batches)
    await asyncio.sleep(0.1)  # nothing more comes
    assert len(a.batches) == len(b.batches) == 1
    assert a.batches[0] is b.batches[0]
    assert a.batches[0].subset(a.keys) == {TCS: '"tcs-2"', INFY: '"infy-1"'}
    assert sorted(a.bodies[0].split(b",")) == [b'"infy-1"', b'"tcs-2"']
    assert a.bodies[0] is b.bodies[0]  # joined once for both
    assert other.batches == []  # none of its symbols ticked

    # Changing a sink's symbols moves it to another group; dropping them forgets it.
    a.keys = await quote_hub.watch(a, frozenset({SBIN}))
    assert a.keys is other.keys
    assert quote_hub.watchers == {TCS: 1, INFY: 1, SBIN: 2}
    for sink in (a, b, other):
        await quote_hub.watch(sink, frozenset())
    assert (quote_hub.groups, quote_hub.watchers, quote_hub.channels) == ({}, {}, {})
    pubsub = quote_hub._pubsub
    assert pubsub is not None
    await _until(lambda: not pubsub.subscribed)  # Redis unsubscribed too


@pytest.mark.asyncio
async def test_a_due_full_collection_runs_right_after_a_batch_is_handed_out(
    quote_hub: QuoteHub,
) -> None:
    pacer = get_gc_pacer()  # the process's, as the first socket starts it
    pacer.growth = 0.05
    pacer.start()
    try:
        sink = Sink()
        await quote_hub.watch(sink, frozenset({TCS}))
        kept: list[list[int]] = [[] for _ in range(len(gc.get_objects(2)) // 10)]  # +10 %
        for _ in range(gcpace.MIDDLES_PER_FULL + 1):
            gc.collect(1)  # now old, and as many middle collections as CPython's rule wants
        assert pacer.full_runs == 0
        await _publish([(TCS, '"tcs-1"')])
        await _until(lambda: sink.batches)
        assert pacer.full_runs == 1
        assert len(kept) > 0
    finally:
        await pacer.close()
