"""Garbage collection tuned for services that allocate in bursts and hold many objects.

CPython's cyclic collector runs a young-generation pass every 700 net allocations and,
every 100 of those, a pass over everything. A notifier holding 10,000 open streams
allocates several objects per Kafka record it reads; with the defaults, a burst of
100,000 records spent about half its time in the collector walking the streams (measured
in bench/, docs/decisions/0031). Herald's hot paths create few reference cycles, so
collecting a hundred times less often costs little memory and gives that time back.

Work done in one synchronous stretch on objects that die at its end (a fetch's records)
runs with the collector paused (`collection_paused`), so no pass walks them at all
(docs/decisions/0073).

A service that must answer within milliseconds while holding many long-lived objects (the
notifier: 10,000 idle streams) uses `SurvivorsFrozen` instead of the relaxed thresholds: a
pass lasts as long as the objects it walks, and there the young passes of 50,000 took
13-35 ms and the passes over older generations 35-200 ms (docs/decisions/0075).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 50
OLD_THRESHOLD = 100


def relax_garbage_collection() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


class SurvivorsFrozen:
    """Short young passes, run often, and nothing older walked again for minutes.

    Every object that outlives a young pass is moved to the permanent generation right
    after it (`gc.freeze()`, which splices lists: O(1)), so no later pass walks it again
    and the middle and old generations stay empty. Objects die by reference counting as
    before, frozen or not.

    CPython starts a young pass when allocations outnumber deallocations by the young
    threshold, and the deaths of old objects count too. An idle stream that wakes replaces
    its waiter, coroutines and buffers: the new ones are young, the old ones die, and the
    count stands still while the young generation fills (46,000 objects and passes of
    50-300 ms at 10,000 streams and 1,000 events/s). So `run` also starts a young pass
    every `young_seconds`, between the event loop's callbacks: each walks what the last
    tenth of a second left alive, well under a millisecond of work.

    Only a reference cycle that became garbage after it was frozen is kept. `run` unfreezes
    everything and collects it in one full pass (which walks every object, 0.1-1 s at
    10,000 streams) once the frozen generation has grown by a quarter since the last one
    (CPython's own rule for its oldest generation), and no more often than every
    `full_pass_seconds`: never while the same streams stay open, and at most once per
    `full_pass_seconds` while streams come and go.
    """

    def __init__(
        self,
        young_threshold: int = 5_000,
        *,
        young_seconds: float = 0.1,
        growth: float = 0.25,
        full_pass_seconds: float = 300.0,
    ) -> None:
        self._young = young_threshold
        self._young_seconds = young_seconds
        self._growth = growth
        self._full_pass_seconds = full_pass_seconds
        self._frozen_after_full_pass = 0
        self._thresholds_before: tuple[int, int, int] | None = None
        self.full_passes = 0

    def install(self) -> None:
        """Collect and freeze what exists (modules, classes, the app), then keep freezing."""
        if self._thresholds_before is None:
            self._thresholds_before = gc.get_threshold()
        gc.set_threshold(self._young, MIDDLE_THRESHOLD, OLD_THRESHOLD)
        if self._after_pass not in gc.callbacks:
            gc.callbacks.append(self._after_pass)
        self.collect_all()

    def uninstall(self) -> None:
        """Back to the collector as it was: nothing frozen, its thresholds."""
        if self._after_pass in gc.callbacks:
            gc.callbacks.remove(self._after_pass)
        gc.unfreeze()
        if self._thresholds_before is not None:
            gc.set_threshold(*self._thresholds_before)
            self._thresholds_before = None

    def _after_pass(self, phase: str, info: dict[str, Any]) -> None:
        # Called by the collector itself; the pass is over, its lists consistent.
        if phase == "stop" and info["generation"] < 2:
            gc.freeze()

    def collect_all(self) -> float:
        """One full pass over everything, frozen or not; returns its wall time."""
        began = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        # Counting walks the list: once per full pass, and once per check after it.
        self._frozen_after_full_pass = gc.get_freeze_count()
        self.full_passes += 1
        return time.perf_counter() - began

    def due(self) -> bool:
        """Whether the frozen generation grew by `growth` since the last full pass."""
        return gc.get_freeze_count() > self._frozen_after_full_pass * (1 + self._growth)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        check_at = loop.time() + self._full_pass_seconds
        while True:
            await asyncio.sleep(self._young_seconds)
            gc.collect(0)  # its survivors are frozen (_after_pass)
            if loop.time() < check_at:
                continue
            if not self.due():
                check_at = loop.time() + min(10.0, self._full_pass_seconds)
                continue
            took = self.collect_all()
            check_at = loop.time() + self._full_pass_seconds
            logger.info(
                "full collection: %d objects alive, %.1f ms",
                self._frozen_after_full_pass,
                took * 1000,
            )


@contextmanager
def collection_paused() -> Iterator[None]:
    """No collection inside: for a synchronous stretch whose objects mostly die at its end.

    Allocation counts go on; the first allocation after it collects if they passed the
    threshold, by then over what is still alive only.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
