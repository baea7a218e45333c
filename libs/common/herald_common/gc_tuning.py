"""Garbage collection tuned for services that allocate in bursts and hold many objects.

CPython's cyclic collector runs a young-generation pass every 700 net allocations and,
every 100 of those, a pass over everything. A notifier holding 10,000 open streams
allocates several objects per Kafka record it reads; with the defaults, a burst of
100,000 records spent about half its time in the collector walking the streams (measured
in bench/, docs/decisions/0031). Herald's hot paths create few reference cycles, so
collecting a hundred times less often costs little memory and gives that time back.

Work done in one synchronous stretch on objects that die at its end (a fetch's records, a
sweep's list of every stream) runs with the collector paused (`collection_paused`), so no
pass walks them at all (docs/decisions/0073, which also records what shorter young passes
did to the notifier's latency tail).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 50
OLD_THRESHOLD = 100


def relax_garbage_collection() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


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
