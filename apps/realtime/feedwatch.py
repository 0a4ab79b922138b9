"""Tells every connection of this process when the market data feed goes stale or recovers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from apps.market.feed import feed_status
from apps.realtime.loops import PerLoop, task_stop
from apps.realtime.sync import ws_sync

logger = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 5.0


class FeedListener(Protocol):
    def offer_frame(self, frame: dict[str, Any]) -> None: ...


def feed_frame(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "feed.status",
        "stale": bool(status.get("stale")),
        "as_of": status.get("as_of"),
        "provider": status.get("provider"),
        "simulated": status.get("provider") == "simulated",
    }


@ws_sync
def current_feed_frame() -> dict[str, Any]:
    return feed_frame(feed_status())


class FeedWatch:
    def __init__(self) -> None:
        self.listeners: set[FeedListener] = set()
        self.last: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None

    def add(self, listener: FeedListener) -> None:
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, listener: FeedListener) -> None:
        self.listeners.discard(listener)

    async def _run(self) -> None:
        while self.listeners:
            try:
                frame = await current_feed_frame()
            except Exception:
                logger.exception("feed watch: status check failed")
                frame = None
            if frame is not None and (self.last is None or frame["stale"] != self.last["stale"]):
                if self.last is not None:  # connections got the first state in `hello`
                    for listener in tuple(self.listeners):
                        listener.offer_frame(frame)
                self.last = frame
            await asyncio.sleep(CHECK_EVERY_SECONDS)

    async def close(self) -> None:
        await task_stop(self._task)
        self._task = None
        self.listeners.clear()


get_feed_watch = PerLoop(FeedWatch)
