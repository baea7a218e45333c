"""The unread counter's rounds: one query for every marked employee, and the count frames
sent a slice at a time, spread over half the interval (docs/decisions/0083)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

import pytest

from herald_notifier.domain.inbox import UnreadCount
from herald_notifier.domain.unread import Recount, UnreadCounter


class FakeInbox:
    def __init__(self) -> None:
        self.queries: list[set[str]] = []

    async def unread_counts(self, employee_ids: Collection[str]) -> dict[str, UnreadCount]:
        self.queries.append(set(employee_ids))
        return {e: UnreadCount(3, 40) for e in sorted(employee_ids)}


class FakeRegistry:
    """Every employee has a stream; what each was sent, in order, with the sleeps between."""

    def __init__(self, log: list[Any]) -> None:
        self._log = log

    def has_streams(self, employee_id: str) -> bool:
        return True

    def dispatch_to_employee(self, employee_id: str, delivery: Recount) -> int:
        self._log.append(("frame", employee_id, delivery.counted))
        return 1


async def one_round(employees: int, interval: float = 1.0) -> list[Any]:
    """Marks `employees` employees and runs the counter until its round is sent and it
    waits out the interval; the log holds the frames and every sleep in between."""
    log: list[Any] = []
    waited_out = asyncio.Event()

    async def sleep(seconds: float) -> None:
        log.append(("sleep", seconds))
        if sum(1 for entry in log if entry[0] == "frame") == employees:
            waited_out.set()
        await asyncio.sleep(0)

    counter = UnreadCounter(
        FakeInbox(),
        FakeRegistry(log),
        min_interval_seconds=interval,
        sleep=sleep,  # type: ignore[arg-type]
    )
    counter.mark_all(f"E{n:03d}" for n in range(employees))
    task = asyncio.create_task(counter.run())
    await asyncio.wait_for(waited_out.wait(), 5)
    task.cancel()
    return log


def sleeps(log: list[Any]) -> list[float]:
    return [entry[1] for entry in log if entry[0] == "sleep"]


async def test_a_round_of_a_hundred_goes_out_in_four_slices_spread_over_half_the_interval() -> None:
    log = await one_round(100)
    gaps = sleeps(log)[:-1]  # the last sleep waits out the interval
    assert gaps == pytest.approx([0.125, 0.125, 0.125])


async def test_each_slice_holds_thirty_two_frames() -> None:
    log = await one_round(100)
    runs: list[int] = [0]
    for entry in log:
        if entry[0] == "frame":
            runs[-1] += 1
        else:
            runs.append(0)
    assert [n for n in runs if n] == [32, 32, 32, 4]


async def test_a_small_round_goes_out_at_once() -> None:
    log = await one_round(5)
    assert [entry[0] for entry in log] == ["frame"] * 5 + ["sleep"]


async def test_every_marked_employee_hears_their_count_once() -> None:
    log = await one_round(70)
    frames = [(entry[1], entry[2]) for entry in log if entry[0] == "frame"]
    assert sorted(frames) == [(f"E{n:03d}", UnreadCount(3, 40)) for n in range(70)]


async def test_the_next_round_waits_out_what_is_left_of_the_interval() -> None:
    log = await one_round(100, interval=2.0)
    *gaps, rest = sleeps(log)
    assert gaps == pytest.approx([0.25, 0.25, 0.25])
    assert 0 < rest <= 2.0
