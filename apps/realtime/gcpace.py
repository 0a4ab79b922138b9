"""When the `ws` process collects its garbage.

Young generations, on a timer. CPython collects its young generation once allocations
outnumber deallocations by 700. When 5,000 clients subscribe, each connection's waiting
objects (a task, its coroutine, futures, contexts: about 29 of them) are replaced by new
ones, as many freed as made, so that count hardly moves while the new objects pile up
uncollected: 142,000 young objects, measured. The collection that finally comes then walks
all of them, 70-90 ms with every socket stalled, and the next-generation one that follows
110 ms; in the fan-out benchmark both landed among the steady ticks (docs/realtime.md,
"Seventh round"). Collecting the young generation every PERIOD_SECONDS, and the middle one
every MIDDLE_EVERY-th time, keeps each collection to what survived since the last one: a
few milliseconds at most.

The oldest generation, after a batch. A full collection walks every object of the process:
at 5,000 sockets, 600,000-800,000 objects and 450-650 ms on this machine. CPython starts one
whenever a quarter more objects have become old since the last, in the middle of whatever
runs; after a subscription storm that was the next batch's fan-out, whose ticks then
reached their clients more than half a second late (docs/realtime.md, "Eighth round"). So
while the pacer runs, CPython's own full collections are off and the pacer makes them by
CPython's rule, at the moment farthest from the next batch: right after the hub has written
one (`batch_written`), or on the timer when no batch came for QUIET_SECONDS (the market is
closed, or nobody watches anything). That rule: more than MIDDLES_PER_FULL
middle collections since the last full one, and the objects that became old since
(survivors of the middle collections, counted as each one ends: `_on_collection`) exceed a
quarter of those it left; or FULL_EVERY_SECONDS passed. Sockets that came and went leave
their objects in the oldest generation as garbage only a full collection frees: a first
version that watched pymalloc's allocated blocks instead let the churn benchmark's server
grow by 1.1 MB per 1,000 connections; one that counted the generation itself spent 100 ms
per count at 5,000 sockets; one without the middle-collection count ran 26 full
collections while 5,000 sockets connected, against CPython's 17-18.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from apps.realtime.loops import PerLoop, task_stop

PERIOD_SECONDS = 0.1
MIDDLE_EVERY = 10
FULL_GROWTH = 0.25  # a full collection once the oldest generation grew by this much
MIDDLES_PER_FULL = 10  # and more middle collections than this came since the last one
FULL_EVERY_SECONDS = 600.0  # and at least this often
QUIET_SECONDS = 2.0  # no batch for this long: any moment will do

CPYTHON_THRESHOLDS = gc.get_threshold()
_NEVER = 2**31 - 1  # a third threshold no count of middle collections reaches


class GcPacer:
    def __init__(self, growth: float = FULL_GROWTH, every: float = FULL_EVERY_SECONDS) -> None:
        self.growth = growth
        self.every = every
        self.runs = 0
        self.full_runs = 0  # full collections the pacer made
        self.full_at = 0.0  # the loop's time of the last one (or of the start)
        self.old_after_full = 0  # objects in the oldest generation after it
        self.promoted = 0  # objects that became old since (CPython's "long-lived pending")
        self.middles = 0  # middle collections since
        self._young = 0  # objects in the two young generations as a middle collection starts
        self.last_batch_at = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.running:
            return
        release()  # a pacer of an event loop that is gone (tests) counts no more
        gc.set_threshold(CPYTHON_THRESHOLDS[0], CPYTHON_THRESHOLDS[1], _NEVER)
        gc.callbacks.append(self._on_collection)
        _started.append(self)
        self._count_from_here()
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:  # one task per process, for its lifetime
                await asyncio.sleep(PERIOD_SECONDS)
                self.runs += 1
                if loop.time() - self.last_batch_at >= QUIET_SECONDS and self.full_due():
                    self.collect_full()
                else:
                    gc.collect(1 if self.runs % MIDDLE_EVERY == 0 else 0)
        finally:
            release()

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        """Survivors of a middle collection (ours or CPython's) move to the oldest
        generation; the young generations are small, so counting them costs little."""
        if info["generation"] != 1:
            return
        if phase == "start":
            self._young = len(gc.get_objects(0)) + len(gc.get_objects(1))
        else:
            self.promoted += max(0, self._young - info["collected"])
            self.middles += 1

    def full_due(self) -> bool:
        return (
            (self.middles > MIDDLES_PER_FULL and self.promoted > self.old_after_full * self.growth)
            or asyncio.get_running_loop().time() - self.full_at >= self.every
        )

    def batch_written(self) -> None:
        """The hub has just written a batch of ticks: the next is furthest away now."""
        if not self.running:
            return
        self.last_batch_at = asyncio.get_running_loop().time()
        if self.full_due():
            self.collect_full()

    def collect_full(self) -> None:
        gc.collect(2)
        self.full_runs += 1
        self._count_from_here()

    def _count_from_here(self) -> None:
        """Start counting towards the next full collection."""
        self.full_at = asyncio.get_running_loop().time()
        self.old_after_full, self.promoted, self.middles = len(gc.get_objects(2)), 0, 0

    async def close(self) -> None:
        await task_stop(self._task)
        self._task = None
        release()  # `_run` does too, but a task cancelled before it started never ran


_started: list[GcPacer] = []  # at most one: the process's (tests start one per event loop)


def release() -> None:
    """Give full collections back to CPython's own rule (the pacer stopped)."""
    gc.set_threshold(*CPYTHON_THRESHOLDS)
    while _started:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(_started.pop()._on_collection)


get_gc_pacer = PerLoop(GcPacer)
