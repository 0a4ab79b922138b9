"""Young garbage collections on a timer in the `ws` process.

CPython collects its young generation once allocations outnumber deallocations by 700. When
5,000 clients subscribe, each connection's waiting objects (a task, its coroutine, futures,
contexts: about 29 of them) are replaced by new ones, as many freed as made, so that count
hardly moves while the new objects pile up uncollected: 142,000 young objects, measured. The
collection that finally comes then walks all of them, 70-90 ms with every socket stalled,
and the next-generation one that follows 110 ms; in the fan-out benchmark both landed among
the steady ticks (docs/realtime.md, "Seventh round").

Collecting the young generation every PERIOD_SECONDS, and the middle one every
MIDDLE_EVERY-th time, keeps each collection to what survived since the last one: a few
milliseconds at most. The oldest generation is left to CPython's own rule.
"""

from __future__ import annotations

import asyncio
import gc

from apps.realtime.loops import PerLoop, task_stop

PERIOD_SECONDS = 0.1
MIDDLE_EVERY = 10


class YoungCollector:
    def __init__(self) -> None:
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:  # one task per process, for its lifetime
            await asyncio.sleep(PERIOD_SECONDS)
            self.runs += 1
            gc.collect(1 if self.runs % MIDDLE_EVERY == 0 else 0)

    async def close(self) -> None:
        await task_stop(self._task)
        self._task = None


get_young_collector = PerLoop(YoungCollector)
