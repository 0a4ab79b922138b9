"""Catch what services publish to channel-layer groups (`apps.realtime.events.publish`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

T = TypeVar("T")


def published(groups: list[str], action: Callable[[], T]) -> tuple[T, dict[str, list[Any]]]:
    """Run `action` with a real channel subscribed to each group on the real (Redis) layer;
    return its result and the events each group received."""
    layer = get_channel_layer()
    assert layer is not None

    async def run() -> tuple[T, dict[str, list[Any]]]:
        channels = {}
        for group in groups:
            channels[group] = await layer.new_channel()
            await layer.group_add(group, channels[group])
        # thread_sensitive: runs on the test's thread, inside its database transaction.
        result = await sync_to_async(action)()
        received: dict[str, list[Any]] = {}
        for group, channel in channels.items():
            received[group] = []
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), 0.3)
                except TimeoutError:
                    break
                assert message["type"] == "realtime.event"
                received[group].append(message["event"])
            await layer.group_discard(group, channel)
        return result, received

    return async_to_sync(run)()
