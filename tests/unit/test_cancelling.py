"""Stopping a task for certain: herald_common.cancelling."""

import asyncio

import pytest

from herald_common.cancelling import cancel_and_wait


async def _swallows_cancellations(times: int, stopped: list[str]) -> None:
    """A loop that, like a task whose `asyncio.wait_for` lost the race, ignores `times`
    cancellations and runs on."""
    ignored = 0
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if ignored == times:
                stopped.append("stopped")
                raise
            ignored += 1


async def test_a_task_that_ignores_two_cancellations_is_stopped():
    stopped: list[str] = []
    task = asyncio.create_task(_swallows_cancellations(2, stopped))
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, again_after=0.01), 5)
    assert task.cancelled()
    assert stopped == ["stopped"]


async def test_a_task_that_stops_at_once_is_cancelled_once():
    cancels = 0

    async def sleeper() -> None:
        nonlocal cancels
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancels += 1
            raise

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    await cancel_and_wait(task, again_after=0.01)
    assert task.cancelled()
    assert cancels == 1


async def test_the_failure_a_task_ends_with_stays_on_the_task():
    async def fails_when_cancelled() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ValueError("while closing") from None

    task = asyncio.create_task(fails_when_cancelled())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert isinstance(task.exception(), ValueError)


async def test_a_cancelled_caller_stops_waiting():
    stopped: list[str] = []
    task = asyncio.create_task(_swallows_cancellations(2, stopped))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(cancel_and_wait(task, again_after=10))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not task.done()
    await cancel_and_wait(task, again_after=0.01)
