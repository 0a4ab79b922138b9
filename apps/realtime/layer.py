"""The channel layer: channels_redis' pub/sub layer with a lighter per-channel queue.

Every consumer gets its own channel, and the pub/sub layer keeps an `asyncio.Queue` per
channel: three deques and an Event, 3.3 KB per idle socket (tracemalloc), for a queue that
has one reader (the consumer) and is nearly always empty. `ChannelQueue` does the two
things the layer asks of it -- `put_nowait` from the Redis reader, `get` from the consumer --
in about 100 bytes: a deque only while messages wait, a future only while the reader waits.

This touches channels_redis' private API (the loop layer's `_subscribe_to_channel`); the
tests in apps/realtime/tests/test_layer.py run it against real Redis so an upgrade that
changes it fails there.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer


class ChannelQueue:
    """A FIFO with one reader: `put_nowait` never blocks, `get` waits for an item."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._waiter: asyncio.Future[Any] | None = None

    def put_nowait(self, item: Any) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result(item)
            return
        if self._items is None:
            self._items = deque()
        self._items.append(item)

    async def get(self) -> Any:
        items = self._items
        if items:
            item = items.popleft()
            if not items:
                self._items = None  # an idle socket keeps no empty deque (~770 B)
            return item
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            return await waiter
        finally:
            if self._waiter is waiter:
                self._waiter = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


class _LoopLayer(RedisPubSubLoopLayer):
    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = ChannelQueue()
        await self._get_shard(channel).subscribe(channel)


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """`RedisPubSubChannelLayer` whose per-event-loop layers use :class:`ChannelQueue`."""

    def _get_layer(self) -> Any:
        layer = super()._get_layer()
        if type(layer) is RedisPubSubLoopLayer:
            # Made by the parent (it also hooks the loop's close); only the queue type differs.
            layer.__class__ = _LoopLayer
        return layer
