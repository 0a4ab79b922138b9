"""The channel layer's light per-channel queue, alone and inside the real pub/sub layer."""

from __future__ import annotations

import asyncio
import tracemalloc
import uuid
from typing import Any

import pytest
from channels.layers import get_channel_layer

from apps.realtime.layer import ChannelQueue, PubSubChannelLayer

pytestmark = pytest.mark.asyncio


class TestChannelQueue:
    async def test_items_come_out_in_the_order_they_were_put(self) -> None:
        queue = ChannelQueue()
        for n in range(3):
            queue.put_nowait(n)
        assert queue.qsize() == 3
        assert [await queue.get() for _ in range(3)] == [0, 1, 2]
        assert queue.qsize() == 0

    async def test_a_waiting_reader_gets_the_next_item(self) -> None:
        queue = ChannelQueue()
        reader = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        assert not reader.done()
        queue.put_nowait("hello")
        assert await asyncio.wait_for(reader, 1) == "hello"

    async def test_a_cancelled_reader_loses_nothing_put_afterwards(self) -> None:
        queue = ChannelQueue()
        reader = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        queue.put_nowait("kept")
        assert await asyncio.wait_for(queue.get(), 1) == "kept"

    async def test_an_idle_queue_is_a_tenth_of_an_asyncio_queue(self) -> None:
        def allocated(factory: Any) -> float:
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            kept = [factory() for _ in range(1000)]
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            assert len(kept) == 1000
            return sum(s.size_diff for s in after.compare_to(before, "filename")) / 1000

        queue = ChannelQueue()
        queue.put_nowait(1)
        await queue.get()  # used once, idle again
        assert allocated(ChannelQueue) * 10 < allocated(asyncio.Queue)


class TestInTheLayer:
    async def test_the_configured_layer_delivers_direct_and_group_messages(self) -> None:
        layer = get_channel_layer()
        assert isinstance(layer, PubSubChannelLayer)
        channel = await layer.new_channel()
        assert isinstance(layer._get_layer().channels[channel], ChannelQueue)
        group = f"test.{uuid.uuid4().hex}"
        await layer.group_add(group, channel)
        await asyncio.sleep(0.1)  # the SUBSCRIBEs reach Redis
        await layer.send(channel, {"type": "direct.message", "n": 1})
        await layer.group_send(group, {"type": "group.message", "n": 2})
        first = await asyncio.wait_for(layer.receive(channel), 2)
        second = await asyncio.wait_for(layer.receive(channel), 2)
        assert [first["n"], second["n"]] == [1, 2]
        await layer.group_discard(group, channel)

    async def test_a_receiver_that_stops_waiting_releases_its_channel(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        receiver = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.05)
        receiver.cancel()
        with pytest.raises(asyncio.CancelledError):
            await receiver
        assert channel not in layer._get_layer().channels
