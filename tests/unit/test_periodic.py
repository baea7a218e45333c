import asyncio
import logging

import pytest

from herald_common.periodic import every


async def test_a_failed_round_is_logged_and_the_next_one_runs(caplog):
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise ConnectionError("broker away")

    with caplog.at_level(logging.WARNING, logger="herald_common.periodic"):
        task = asyncio.create_task(every(0.01, "relay", work))
        while len(rounds) < 3:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [r.getMessage() for r in caplog.records] == [
        "relay round failed: ConnectionError: broker away"
    ]


async def test_cancelling_stops_the_loop_during_a_round():
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(every(0.01, "watch", work))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
