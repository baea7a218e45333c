"""Live streams' gap reads, shared: one inbox query per department set and cursor, not one per
stream (docs/decisions/0074).

A department watcher cannot tell from an event alone that nothing before it is still on its
way (its scope mixes its own channel with whole departments), so after each live batch it
reads the inbox up to the newest id offered to it (docs/decisions/0030). A burst reaches
every watcher of a department at once, and they have all sent the same ids: their reads
differ only in whose own notifications they include. So the streams that ask in the same
turn of the event loop, for the same departments after the same id, share one query that
covers all of them (the departments' visible rows, and every one of their employees' own),
and each keeps its part. The query starts in the next turn, once every stream woken by the
same dispatch has asked.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.inbox import Inbox, Scope, Watchers
from herald_notifier.metrics import NotifierMetrics


@dataclass(slots=True)
class GapRead:
    """One query's rows: those visible through the departments, and the rest per employee,
    each in id order."""

    departments: frozenset[str]
    after_id: int
    employee_ids: set[str] = field(default_factory=set)
    until: int = 0
    shared: list[Delivery] = field(default_factory=list)
    own: dict[str, list[Delivery]] = field(default_factory=dict)

    def keep(self, delivery: Delivery) -> None:
        if delivery.department_visible and delivery.department in self.departments:
            self.shared.append(delivery)
        else:
            self.own.setdefault(delivery.employee_id, []).append(delivery)

    def rows_for(self, employee_id: str, until: int) -> list[Delivery]:
        """The rows of one stream's scope up to `until`, in id order."""
        shared = self.shared
        own = self.own.get(employee_id)
        if own:
            shared = sorted((*shared, *own), key=_event_id)
        return shared[: bisect.bisect_right(shared, until, key=_event_id)]


def _event_id(delivery: Delivery) -> int:
    return delivery.event_id or 0


class GapReads:
    def __init__(self, inbox: Inbox, metrics: NotifierMetrics) -> None:
        self._inbox = inbox
        self._metrics = metrics
        # Reads asked for in this turn of the loop, not started yet: streams join them.
        self._pending: dict[tuple[frozenset[str], int], tuple[GapRead, asyncio.Task[GapRead]]] = {}

    async def rows(self, scope: Scope, after_id: int, until: int) -> Sequence[Delivery]:
        """Every notification of the stream's scope above `after_id` up to `until` (committed,
        as every id up to one offered to a stream is), in id order."""
        key = (scope.departments, after_id)
        pending = self._pending.get(key)
        if pending is None:
            read = GapRead(scope.departments, after_id)
            pending = self._pending[key] = (read, asyncio.create_task(self._run(key, read)))
        read, task = pending
        read.employee_ids.add(scope.employee_id)
        read.until = max(read.until, until)
        # Shielded: a stream that ends while waiting must not cancel the others' read.
        done = await asyncio.shield(task)
        return done.rows_for(scope.employee_id, until)

    async def _run(self, key: tuple[frozenset[str], int], read: GapRead) -> GapRead:
        # Streams that ask from now on start a read of their own.
        del self._pending[key]
        self._metrics.gap_queries.inc()
        first = min(read.employee_ids)
        watchers = Watchers(first, read.departments, frozenset(read.employee_ids))
        async for delivery in self._inbox.after(watchers, read.after_id, read.until):
            read.keep(delivery)
        return read
