"""The per-process quote hub of the `ws` process.

One Redis pub/sub connection per process, one SUBSCRIBE per symbol that at least one local
client watches, and a local index symbol → connections. Each tick arrives serialised once
and is handed to every interested connection's `offer_quote`, which only stores it (latest
wins). A batch of ticks arrives as many messages within a few milliseconds, so the hub waits
`GATHER_SECONDS` after the first one, then tells each connection that got something
(`quotes_ready`) once; the connection's writer sends what accumulated as one `quote.tick`
frame. So a slow client costs one pending dict entry per symbol, never a growing queue, and
a tick costs no timer or task per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Protocol

import redis.asyncio as aioredis
from django.conf import settings

from apps.realtime.loops import PerLoop, task_stop
from apps.realtime.protocol import SymbolKey
from apps.realtime.quotes import quote_channel

logger = logging.getLogger(__name__)


GATHER_SECONDS = 0.005


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
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("quote hub: Redis read failed; retrying")
                await asyncio.sleep(1)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            key = self.channels.get(channel.decode() if isinstance(channel, bytes) else channel)
            if key is None:
                continue
            data = message["data"]
            payload = data.decode() if isinstance(data, bytes) else str(data)
            sinks = self.subscribers.get(key)
            if not sinks:
                continue
            ready = self._ready
            for sink in sinks:
                sink.offer_quote(key, payload)
                ready[sink] = None
            self.delivered += len(sinks)
            if self._flush_handle is None:
                self._flush_handle = asyncio.get_running_loop().call_later(
                    GATHER_SECONDS, self._flush
                )

    def _flush(self) -> None:
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
