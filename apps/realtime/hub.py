"""The per-process quote hub of the `ws` process.

One Redis pub/sub connection per process, one SUBSCRIBE per symbol that at least one local
client watches, and a local index symbol → connections. Each tick arrives serialised once
and is handed to every interested connection's `offer_quote`, which only stores it (latest
wins). A batch of ticks arrives as many messages within a few milliseconds, so the hub waits
until they stop coming (QUIET_SECONDS, at most GATHER_MAX_SECONDS), then tells each
connection that got something (`quotes_ready`) once, and the connection writes what
accumulated as one `quote.tick` frame, there and then. So a slow client costs one pending
dict entry per symbol, never a growing queue, and a tick costs no timer or task per
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings

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


class QuoteSink(Protocol):
    def offer_quote(self, key: SymbolKey, payload: str) -> None: ...

    def quotes_ready(self) -> None: ...


class QuoteHub:
    def __init__(self) -> None:
        self.subscribers: dict[SymbolKey, set[QuoteSink]] = defaultdict(set)
        self.channels: dict[str, SymbolKey] = {}
        self._redis: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.delivered = 0
        self._ready: dict[QuoteSink, None] = {}  # insertion-ordered set
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

    async def register(self, sink: QuoteSink, keys: list[SymbolKey]) -> None:
        """Route `keys` to `sink`. Raises (redis errors, OSError) when Redis cannot be
        reached; then nothing is recorded, so a later attempt subscribes again — a
        half-done registration would leave symbols that look subscribed but never tick."""
        async with self._lock:
            new_keys = [key for key in dict.fromkeys(keys) if not self.subscribers.get(key)]
            try:
                pubsub = await self._ensure_started()
                if new_keys:
                    await pubsub.subscribe(*(quote_channel(*key) for key in new_keys))
            except BaseException:
                await self._drop_connection()
                self._recover_soon()
                raise
            for key in new_keys:
                self.channels[quote_channel(*key)] = key
            for key in keys:
                self.subscribers[key].add(sink)

    async def unregister(self, sink: QuoteSink, keys: list[SymbolKey]) -> None:
        async with self._lock:
            self._ready.pop(sink, None)
            gone = []
            for key in keys:
                sinks = self.subscribers.get(key)
                if sinks is None:
                    continue
                sinks.discard(sink)
                if not sinks:
                    del self.subscribers[key]
                    channel = quote_channel(*key)
                    self.channels.pop(channel, None)
                    gone.append(channel)
            if gone and self._pubsub is not None:
                await self._pubsub.unsubscribe(*gone)

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
        sinks = self.subscribers.get(key)
        if not sinks:
            return
        data = message["data"]
        payload = data.decode() if isinstance(data, bytes) else str(data)
        for sink in sinks:
            sink.offer_quote(key, payload)
        self._ready.update(dict.fromkeys(sinks))
        self.delivered += len(sinks)
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
        ready, self._ready = self._ready, {}
        for sink in ready:
            sink.quotes_ready()

    async def close(self) -> None:
        await task_stop(self._recovery)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._ready.clear()
        await task_stop(self._reader)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        self._reader = self._pubsub = self._redis = None
        self.subscribers.clear()
        self.channels.clear()


get_hub = PerLoop(QuoteHub)
_hubs = get_hub.instances  # tests close every hub between tests
