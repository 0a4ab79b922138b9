"""Process-wide helpers of the `ws` event loop: one object per running loop, task shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """`get()` returns the instance for the running event loop, made by `factory` on first use.

    One per process in production (uvicorn runs one loop); tests run a loop per test, and
    state bound to a dead loop (tasks, Redis connections) must not leak into the next."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self.instances: dict[int, T] = {}

    def __call__(self) -> T:
        key = id(asyncio.get_running_loop())
        instance = self.instances.get(key)
        if instance is None:
            instance = self.instances[key] = self.factory()
        return instance


async def task_stop(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` and wait for it to end, whatever it raised."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
