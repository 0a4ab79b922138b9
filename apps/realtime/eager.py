"""Start a coroutine now; continue it in a task only if it has to wait.

Writing a WebSocket frame through the ASGI server's `send` nearly always completes without
waiting (the server waits only while the client's socket buffer is full). Awaiting it from
a task per socket costs a task wake-up per frame; at 5,000 sockets and one batch of ticks a
second that was a large part of the fan-out's CPU and of its latency. `start_eagerly` runs
the coroutine's first step in the caller, as Python 3.12's eager tasks do: if it finishes,
nothing is scheduled; if it suspends, the caller gets an awaitable that finishes it (to be
awaited in a task), with the usual asyncio semantics: results, exceptions and cancellation
pass through exactly as with `await coro`.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any


class Rest:
    """The remainder of a coroutine that suspended on its first step (what `yield from`
    would do with it, resumed where it stopped)."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._first
        while True:
            try:
                received = yield value  # the awaiting task waits on what the coroutine waits on
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation or a failed future, thrown in
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(received)
                except StopIteration as stop:
                    return stop.value


def start_eagerly(coro: Coroutine[Any, Any, Any]) -> Rest | None:
    """Run `coro` until it first suspends: None if it finished (an exception it raised
    propagates), else a `Rest` that finishes it when awaited."""
    try:
        first = coro.send(None)
    except StopIteration:
        return None
    return Rest(coro, first)
