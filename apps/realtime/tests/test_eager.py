"""`start_eagerly`: a coroutine runs in the caller until it has to wait, then in a task."""

from __future__ import annotations

import asyncio

import pytest

from apps.realtime.eager import start_eagerly

pytestmark = pytest.mark.asyncio


async def _record(log: list[str], gate: asyncio.Event | None = None) -> str:
    log.append("started")
    if gate is not None:
        await gate.wait()
        log.append("resumed")
    return "result"


async def test_a_coroutine_that_need_not_wait_finishes_in_the_caller() -> None:
    log: list[str] = []
    assert start_eagerly(_record(log)) is None
    assert log == ["started"]


async def test_an_already_set_event_does_not_suspend() -> None:
    gate = asyncio.Event()
    gate.set()
    log: list[str] = []
    assert start_eagerly(_record(log, gate)) is None
    assert log == ["started", "resumed"]


async def test_a_coroutine_that_waits_is_finished_by_awaiting_the_rest() -> None:
    gate = asyncio.Event()
    log: list[str] = []
    rest = start_eagerly(_record(log, gate))
    assert rest is not None
    assert log == ["started"]
    task = asyncio.get_running_loop().create_task(_finish(rest))
    await asyncio.sleep(0.01)
    assert not task.done()
    gate.set()
    assert await asyncio.wait_for(task, 1) == "result"
    assert log == ["started", "resumed"]


async def _finish(rest: object) -> object:
    return await rest  # type: ignore[misc]


async def test_exceptions_of_the_first_step_reach_the_caller() -> None:
    async def fails() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        start_eagerly(fails())


async def test_exceptions_after_the_wait_reach_the_awaiting_task() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def waits() -> int:
        return await future

    rest = start_eagerly(waits())
    assert rest is not None
    task = asyncio.get_running_loop().create_task(_finish(rest))
    await asyncio.sleep(0)
    future.set_exception(KeyError("gone"))
    with pytest.raises(KeyError):
        await asyncio.wait_for(task, 1)


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    gate = asyncio.Event()
    log: list[str] = []

    async def waits() -> None:
        try:
            await gate.wait()
        except asyncio.CancelledError:
            log.append("cancelled inside")
            raise

    rest = start_eagerly(waits())
    assert rest is not None
    task = asyncio.get_running_loop().create_task(_finish(rest))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["cancelled inside"]


async def test_a_bare_yield_is_rescheduled_like_in_a_task() -> None:
    log: list[str] = []

    async def yields_twice() -> str:
        await asyncio.sleep(0)
        log.append("after first")
        await asyncio.sleep(0)
        return "done"

    rest = start_eagerly(yields_twice())
    assert rest is not None
    assert await asyncio.wait_for(_finish(rest), 1) == "done"
    assert log == ["after first"]
