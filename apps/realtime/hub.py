"""The per-process quote hub of the `ws` process.

One Redis pub/sub connection per process, one SUBSCRIBE per symbol that at least one local
client watches, and a local index symbol → connections. Each tick arrives serialised once.
A batch of ticks arrives as many messages within a few milliseconds, so the hub keeps the
latest payload per symbol until they stop coming (QUIET_SECONDS, at most
GATHER_MAX_SECONDS), then hands that `QuoteBatch` once to every connection that watches one
of its symbols (`quotes_ready`); the connection writes its part as one `quote.tick` frame,
there and then. Connections watching the same set of symbols share one joined quote list
(`QuoteGroup.body`). So a tick costs nothing per connection until the batch is complete,
a slow client costs one pending dict entry per symbol, never a growing queue, and there is
no timer or task per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from operator import itemgetter
from typing import Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings

from apps.realtime.gcpace import get_gc_pacer
from apps.realtime.loops import PerLoop, task_stop
from apps.realtime.protocol import SymbolKey
from apps.realtime.quotes import quote_channel

logger = logging.getLogger(__name__)


# A batch of ticks (one PUBLISH per symbol, pipelined) reaches the hub as many messages over
# a few milliseconds. The hub tells sockets once it has read everything received so far and
# no tick came for QUIET_SECONDS, but no later than GATHER_MAX_SECONDS after the first: one
# frame per socket per batch.
QUIET_SECONDS = 0.002
GATHER_MAX_SECONDS = 0.05


class QuoteBatch:
    """The ticks of one gathered batch: the latest serialised quote per symbol (as text, and
    as UTF-8 for the sockets' frames), and `at`, the event loop's time when it was handed out
    (one clock reading for all its sinks)."""

    __slots__ = ("at", "encoded", "quotes")

    def __init__(self, quotes: dict[SymbolKey, str], at: float) -> None:
        self.quotes = quotes
        self.encoded = {key: payload.encode() for key, payload in quotes.items()}
        self.at = at

    def subset(self, keys: Collection[SymbolKey]) -> dict[SymbolKey, str]:
        """The quotes of this batch for `keys` (in arrival order)."""
        quotes = self.quotes
        if len(quotes) <= len(keys):
            return {key: payload for key, payload in quotes.items() if key in keys}
        return {key: quotes[key] for key in keys if key in quotes}


class QuoteSink(Protocol):
    def quotes_ready(self, batch: QuoteBatch, body: bytes) -> None:
        """`batch` has ticks of the sink's symbols; `body`: those quotes joined with commas
        (a JSON array's inside), UTF-8, computed once for every sink of the same symbols."""


_NO_KEYS: frozenset[SymbolKey] = frozenset()


class QuoteGroup:
    """The sinks watching one set of symbols, and how to pick their quotes from a batch."""

    __slots__ = ("_pick", "keys", "order", "sinks")

    def __init__(self, keys: frozenset[SymbolKey]) -> None:
        self.keys = keys
        self.order = tuple(keys)
        # At 5,000 sockets each watching its own 20 symbols, picking and joining the quotes
        # per group was about half of the flush's Python time (docs/realtime.md, "Seventh
        # round"): `itemgetter` picks them all in one C call.
        self._pick = itemgetter(*self.order) if len(self.order) > 1 else None
        self.sinks: dict[QuoteSink, None] = {}  # insertion-ordered set

    def body(self, batch: QuoteBatch) -> bytes:
        """This group's quotes in `batch`, joined with commas; empty when none ticked."""
        encoded = batch.encoded
        try:
            if self._pick is None:
                return encoded[self.order[0]]
            return b",".join(self._pick(encoded))
        except KeyError:  # only some of the symbols ticked in this batch
            return b",".join([encoded[key] for key in self.order if key in encoded])


class QuoteHub:
    def __init__(self) -> None:
        self.groups: dict[frozenset[SymbolKey], QuoteGroup] = {}
        self._groups_of: dict[QuoteSink, frozenset[SymbolKey]] = {}  # sink → its group's keys
        self.watchers: dict[SymbolKey, int] = {}  # symbol → sinks watching it
        self.channels: dict[str, SymbolKey] = {}
        self._redis: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._batch: dict[SymbolKey, str] = {}  # gathering: the latest tick per symbol
        self._flush_handle: asyncio.TimerHandle | None = None
        self._first_tick_at = self._last_tick_at = 0.0
        self._reading = False  # draining what the connection has already received
        self._recovery: asyncio.Task[None] | None = None

    async def _ensure_started(self) -> aioredis.client.PubSub:
        if self._pubsub is None or self._reader is None or self._reader.done():
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL)
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                # Re-subscribe everything if the reader died (e.g. Redis restarted).
                if self.channels:
                    await self._pubsub.subscribe(*self.channels)
            except BaseException:
                await self._drop_connection()
                raise
            self._reader = asyncio.get_running_loop().create_task(self._read())
        return self._pubsub

    async def _drop_connection(self) -> None:
        """Forget a connection that failed, so the next registration starts a new one."""
        await task_stop(self._reader)
        pubsub, redis_client = self._pubsub, self._redis
        self._reader = self._pubsub = self._redis = None
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if redis_client is not None:
                await redis_client.aclose()

    def _recover_soon(self) -> None:
        """After a failed (re)connection, sockets already registered would get no more
        ticks until someone subscribes again: reconnect in the background instead."""
        if self.channels and (self._recovery is None or self._recovery.done()):
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        delay = 0.5
        while self.channels:
            await asyncio.sleep(delay)
            async with self._lock:
                try:
                    await self._ensure_started()
                    return
                except Exception:
                    logger.warning("quote hub: Redis unreachable; retrying in %.0f s", delay)
            delay = min(delay * 2, 10.0)

    async def watch(self, sink: QuoteSink, keys: frozenset[SymbolKey]) -> frozenset[SymbolKey]:
        """Make `keys` the symbols whose ticks `sink` gets (none: forget the sink).

        Returns the hub's own copy of that set, shared by every sink watching the same
        symbols (one `QuoteGroup`). Raises (redis errors, OSError) when Redis cannot be
        reached for a new symbol; then nothing changes, so a later attempt subscribes
        again: a half-done change would leave symbols that look subscribed but never tick.
        """
        async with self._lock:
            old = self._groups_of.get(sink, _NO_KEYS)
            added, removed = keys - old, old - keys
            new_channels = [quote_channel(*key) for key in added if key not in self.watchers]
            if keys:
                try:
                    pubsub = await self._ensure_started()
                    if new_channels:
                        await pubsub.subscribe(*new_channels)
                except BaseException:
                    await self._drop_connection()
                    self._recover_soon()
                    raise
            for key in added:
                if key not in self.watchers:
                    self.channels[quote_channel(*key)] = key
                self.watchers[key] = self.watchers.get(key, 0) + 1
            gone = []
            for key in removed:
                left = self.watchers.pop(key) - 1
                if left:
                    self.watchers[key] = left
                else:
                    channel = quote_channel(*key)
                    self.channels.pop(channel, None)
                    gone.append(channel)
            shared = self._move(sink, old, keys)
            if gone and self._pubsub is not None:
                await self._pubsub.unsubscribe(*gone)
            return shared

    def _move(self, sink: QuoteSink, old: frozenset[SymbolKey],
              keys: frozenset[SymbolKey]) -> frozenset[SymbolKey]:
        """Move `sink` from the group watching `old` to the one watching `keys`."""
        if old:
            group = self.groups[old]
            del group.sinks[sink]
            if not group.sinks:
                del self.groups[old]
            del self._groups_of[sink]
        if not keys:
            return _NO_KEYS
        joined = self.groups.get(keys)
        if joined is None:
            joined = self.groups[keys] = QuoteGroup(keys)
        joined.sinks[sink] = None
        self._groups_of[sink] = joined.keys
        return joined.keys

    async def _read(self) -> None:
        while True:
            pubsub = self._pubsub
            try:
                if pubsub is None or not pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await pubsub.get_message(timeout=1.0)
                # Then everything that has already arrived: a batch is complete only once
                # the connection has nothing more to read (see `_flush`).
                self._reading = True
                try:
                    while message is not None:
                        self._take(message)
                        if not pubsub.subscribed:
                            break  # the last symbol went meanwhile; redis-py would raise
                        message = await pubsub.get_message(timeout=0.0)
                finally:
                    self._reading = False
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("quote hub: Redis read failed; retrying")
                await asyncio.sleep(1)
                continue

    def _take(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        channel = message["channel"]
        key = self.channels.get(channel.decode() if isinstance(channel, bytes) else channel)
        if key is None:
            return
        data = message["data"]
        self._batch[key] = data.decode() if isinstance(data, bytes) else str(data)
        loop = asyncio.get_running_loop()
        self._last_tick_at = loop.time()
        if self._flush_handle is None:
            self._first_tick_at = self._last_tick_at
            self._flush_handle = loop.call_later(QUIET_SECONDS, self._flush)

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        coming = self._reading or now - self._last_tick_at < QUIET_SECONDS
        if coming and now - self._first_tick_at < GATHER_MAX_SECONDS:
            self._flush_handle = loop.call_later(QUIET_SECONDS, self._flush)  # still coming
            return
        self._flush_handle = None
        batch, self._batch = QuoteBatch(self._batch, now), {}
        ticked = set(batch.quotes)
        # Sinks only write here (a change of groups needs `watch`, which awaits).
        for keys, group in self.groups.items():
            if not keys.isdisjoint(ticked):
                body = group.body(batch)
                for sink in group.sinks:
                    sink.quotes_ready(batch, body)
        get_gc_pacer().batch_written()  # a due full collection runs now (gcpace.py)

    async def close(self) -> None:
        await task_stop(self._recovery)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._batch.clear()
        await task_stop(self._reader)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        self._reader = self._pubsub = self._redis = None
        self.groups.clear()
        self._groups_of.clear()
        self.watchers.clear()
        self.channels.clear()


get_hub = PerLoop(QuoteHub)
_hubs = get_hub.instances  # tests close every hub between tests
