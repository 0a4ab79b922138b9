"""Per-process WebSocket statistics: Prometheus metrics and a heartbeat in Redis.

Each `ws` process counts its open connections and the frames it sends; every few seconds
it writes them to Redis (expiring), so the staff System page served by `web` can list every
live `ws` process with its connections and send rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from typing import Any

from django.core.cache import cache
from prometheus_client import Counter, Gauge

from apps.realtime.sync import ws_sync

CONNECTIONS = Gauge("stocksense_ws_connections", "Open WebSocket connections in this process.")
FRAMES_SENT = Counter("stocksense_ws_frames_sent_total", "WebSocket frames sent.")
REPORT_EVERY_SECONDS = 5.0
_KEY = "realtime:process:{}"
_INDEX = "realtime:processes"


class ProcessStats:
    def __init__(self) -> None:
        self.connections = 0
        self.frames_sent = 0
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._task: asyncio.Task[None] | None = None
        self._last: tuple[float, int] = (time.monotonic(), 0)

    def connected(self) -> None:
        self.connections += 1
        CONNECTIONS.inc()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._report())

    def disconnected(self) -> None:
        self.connections -= 1
        CONNECTIONS.dec()

    def sent(self) -> None:
        # The hot path: a plain increment; the Prometheus counter (a lock per call) catches
        # up in `snapshot`, every REPORT_EVERY_SECONDS.
        self.frames_sent += 1

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        then, sent_then = self._last
        FRAMES_SENT.inc(self.frames_sent - sent_then)
        rate = (self.frames_sent - sent_then) / max(now - then, 1e-6)
        self._last = (now, self.frames_sent)
        return {
            "process": self.name,
            "connections": self.connections,
            "frames_sent": self.frames_sent,
            "frames_per_second": round(rate, 1),
            "reported_at": time.time(),
        }

    async def _report(self) -> None:
        while True:
            data = json.dumps(self.snapshot())
            await _store_async(self.name, data)
            await asyncio.sleep(REPORT_EVERY_SECONDS)


def _store(name: str, data: str) -> None:
    cache.set(_KEY.format(name), data, timeout=int(REPORT_EVERY_SECONDS * 3))
    names = set(cache.get(_INDEX) or ())
    if name not in names:
        names.add(name)
        cache.set(_INDEX, sorted(names), timeout=None)


_store_async = ws_sync(_store)


def process_stats_list() -> list[dict[str, Any]]:
    """Every `ws` process that reported recently (sync; for the System page)."""
    names = cache.get(_INDEX) or []
    found = cache.get_many([_KEY.format(name) for name in names])
    alive = [json.loads(value) for value in found.values()]
    return sorted(alive, key=lambda s: s["process"])


_stats: ProcessStats | None = None


def get_stats() -> ProcessStats:
    global _stats
    if _stats is None:
        _stats = ProcessStats()
    return _stats
