"""SurvivorsFrozen: what outlives a young pass is frozen, and a full pass frees frozen cycles."""

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from herald_common.gc_tuning import SurvivorsFrozen


class _Node:
    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def collector() -> Iterator[SurvivorsFrozen]:
    policy = SurvivorsFrozen(young_threshold=1_000, growth=0.25)
    policy.install()
    try:
        yield policy
    finally:
        policy.uninstall()


def _in_a_generation(obj: object) -> bool:
    return any(o is obj for generation in range(3) for o in gc.get_objects(generation))


def test_install_sets_the_young_threshold_and_uninstall_puts_back_the_old_ones():
    before = gc.get_threshold()
    policy = SurvivorsFrozen(young_threshold=1_234)
    policy.install()
    try:
        assert gc.get_threshold()[0] == 1_234
        assert gc.get_freeze_count() > 0  # what existed is frozen
    finally:
        policy.uninstall()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_object_that_outlives_a_young_pass_is_frozen(collector: SurvivorsFrozen):
    survivor = _Node()
    assert _in_a_generation(survivor)  # young
    gc.collect(0)
    assert not _in_a_generation(survivor)  # no later pass walks it
    assert gc.is_tracked(survivor)


def test_a_frozen_cycle_that_became_garbage_is_freed_by_a_full_pass(
    collector: SurvivorsFrozen,
):
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gc.collect(0)  # both frozen
    freed: list[str] = []
    weakref.finalize(first, freed.append, "first")
    del first, second
    gc.collect(0)
    assert freed == []  # frozen: a young pass does not see it
    collector.collect_all()
    assert freed == ["first"]


def test_a_full_pass_is_due_once_the_frozen_generation_grew_by_a_quarter(
    collector: SurvivorsFrozen,
):
    assert not collector.due()
    kept = [_Node() for _ in range(gc.get_freeze_count() // 3)]
    gc.collect(0)
    assert collector.due()
    collector.collect_all()
    assert not collector.due()
    del kept


async def test_run_starts_young_passes_however_few_objects_were_allocated():
    # A threshold never reached: only run's own passes can freeze the survivor.
    policy = SurvivorsFrozen(young_threshold=10**9, young_seconds=0.01)
    policy.install()
    running = asyncio.create_task(policy.run())
    try:
        survivor = _Node()
        assert _in_a_generation(survivor)
        await asyncio.sleep(0.1)
        assert not _in_a_generation(survivor)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        policy.uninstall()
