"""`Batched`: lookups arriving together answered by one call, each caller its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from herald_notifier.domain.batched import MAX_BATCH, Batched


class Recorder:
    def __init__(self, delay: float = 0.0) -> None:
        self.rounds: list[list[int]] = []
        self.delay = delay

    async def __call__(self, keys: Sequence[int]) -> list[int]:
        self.rounds.append(list(keys))
        await asyncio.sleep(self.delay)
        return [key * 10 for key in keys]


async def test_lookups_of_one_turn_of_the_loop_share_one_round() -> None:
    lookup = Recorder()
    batched = Batched(lookup)
    answers = await asyncio.gather(*(batched.get(key) for key in range(5)))
    assert answers == [0, 10, 20, 30, 40]
    assert lookup.rounds == [[0, 1, 2, 3, 4]]


async def test_a_lone_lookup_is_answered_in_a_round_of_its_own() -> None:
    lookup = Recorder()
    batched = Batched(lookup)
    assert await batched.get(7) == 70
    assert await batched.get(8) == 80
    assert lookup.rounds == [[7], [8]]


async def test_lookups_arriving_while_a_round_runs_join_the_next() -> None:
    lookup = Recorder(delay=0.05)
    batched = Batched(lookup)
    first = asyncio.ensure_future(batched.get(1))
    await asyncio.sleep(0.01)  # the first round is out
    later = await asyncio.gather(batched.get(2), batched.get(3))
    assert await first == 10
    assert later == [20, 30]
    assert lookup.rounds == [[1], [2, 3]]


async def test_a_burst_larger_than_a_round_takes_several() -> None:
    lookup = Recorder()
    batched = Batched(lookup)
    answers = await asyncio.gather(*(batched.get(key) for key in range(MAX_BATCH + 3)))
    assert answers == [key * 10 for key in range(MAX_BATCH + 3)]
    assert [len(keys) for keys in lookup.rounds] == [MAX_BATCH, 3]


async def test_a_failed_round_fails_its_callers_and_the_next_round_still_runs() -> None:
    calls: list[list[int]] = []

    async def flaky(keys: Sequence[int]) -> list[int]:
        calls.append(list(keys))
        if len(calls) == 1:
            raise OSError("database gone")
        return list(keys)

    batched = Batched(flaky)
    with pytest.raises(OSError, match="database gone"):
        await batched.get(1)
    assert await batched.get(2) == 2


async def test_a_caller_gone_meanwhile_does_not_stop_the_others() -> None:
    lookup = Recorder(delay=0.05)
    batched = Batched(lookup)
    gone = asyncio.ensure_future(batched.get(1))
    stays = asyncio.ensure_future(batched.get(2))
    await asyncio.sleep(0.01)
    gone.cancel()
    assert await stays == 20
    assert gone.cancelled()


async def test_a_submitted_lookup_joins_the_round_of_its_turn() -> None:
    lookup = Recorder()
    batched = Batched(lookup)
    submitted = batched.submit(1)
    assert await asyncio.gather(submitted, batched.get(2)) == [10, 20]
    assert lookup.rounds == [[1, 2]]
