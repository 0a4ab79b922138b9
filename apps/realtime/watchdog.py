"""Disconnects clients that stopped reading.

A frame written to a healthy socket completes at once; the ASGI server's `send` only blocks
while the socket's write buffer is full (the client does not read). Rather than arm a timer
around every frame (a timer per frame cost 31 % of the fan-out throughput), each connection
notes when its current write started, and this one task per process looks once a second for
writes older than `settings.REALTIME_SLOW_CLIENT_SECONDS` and evicts those clients (close
code 4408).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from django.conf import settings

from apps.realtime.loops import PerLoop, task_stop

logger = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 1.0


class Writer(Protocol):
    async def evict_too_slow(self) -> None: ...


class SlowClientWatchdog:
    def __init__(self, limit_seconds: float) -> None:
        self.limit = limit_seconds
        self.writing: dict[Writer, float] = {}  # connection → monotonic start of its write
        self._task: asyncio.Task[None] | None = None

    def write_started(self, writer: Writer) -> None:
        self.writing[writer] = time.monotonic()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def write_done(self, writer: Writer) -> None:
        self.writing.pop(writer, None)

    def stuck(self, now: float | None = None) -> list[Writer]:
        deadline = (time.monotonic() if now is None else now) - self.limit
        return [writer for writer, started in self.writing.items() if started < deadline]

    async def _run(self) -> None:
        while True:  # one task per process, for its lifetime
            await asyncio.sleep(CHECK_EVERY_SECONDS)
            for writer in self.stuck():
                self.writing.pop(writer, None)
                try:
                    await writer.evict_too_slow()
                except Exception:
                    logger.exception("watchdog: evicting a slow client failed")

    async def close(self) -> None:
        await task_stop(self._task)
        self._task = None
        self.writing.clear()


get_watchdog = PerLoop(
    lambda: SlowClientWatchdog(float(settings.REALTIME_SLOW_CLIENT_SECONDS))
)
