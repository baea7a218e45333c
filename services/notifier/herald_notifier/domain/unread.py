"""Unread-count frames: after every change of an employee's count, each of their streams hears it.

Changes arrive from two places: new notifications (the Kafka consumer) and read marks
(PostgreSQL NOTIFY from the API). Both only mark the employee; a background task counts
marked employees in one query per round and sends each of their streams the new count.
Rounds are at least `min_interval_seconds` apart: a burst of events (an allocation reaching
thousands of streams) is counted in a few queries, and each stream gets one count frame
for the burst instead of one per event.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable

from herald_common.stream_frames import UNREAD_COUNT
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.inbox import Inbox
from herald_notifier.domain.registry import Registry

logger = logging.getLogger(__name__)

# Streams woken per slice of a round: each wakes its stream for a write, and a round of
# thousands done at once would hold up the live events behind it for tens of ms; 256 at
# once still held them up for several ms (docs/decisions/0073).
_SLICE = 32
# A round's slices are spread over this share of the interval, not sent back to back: at
# 1,000 events/s a round is a thousand count frames, and written in one go (the notifier's
# writes, then the clients' reads of them) they held up the events behind them for tens of
# ms once a second. That was the latency tail: p99 15.3 ms from the Kafka commit, 4.8 ms
# with no count frames at all (docs/decisions/0083).
_SPREAD = 0.5


def unread_frame(employee_id: str, unread: int) -> Delivery:
    # As json.dumps({"unread": unread}) writes it, without the encoder.
    return Delivery(None, UNREAD_COUNT, employee_id, "", f'{{"unread": {int(unread)}}}')


class UnreadCounter:
    def __init__(
        self,
        inbox: Inbox,
        registry: Registry,
        min_interval_seconds: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._inbox = inbox
        self._registry = registry
        self._min_interval = min_interval_seconds
        self._sleep = sleep
        self._pending: set[str] = set()
        self._wake = asyncio.Event()

    def mark(self, employee_id: str) -> None:
        self.mark_all((employee_id,))

    def mark_all(self, employee_ids: Iterable[str]) -> None:
        # Only employees with a stream on this replica need counting here.
        marked = [e for e in employee_ids if self._registry.has_streams(e)]
        if marked:
            self._pending.update(marked)
            self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            began = loop.time()
            batch, self._pending = self._pending, set()
            try:
                counts = await self._inbox.unread_counts(batch)
            except Exception:
                logger.exception("counting unread notifications failed; will retry")
                self._pending |= batch
                await self._sleep(1)
                self._wake.set()
                continue
            await self._send(counts)
            # Rounds start at least the interval apart.
            await self._sleep(max(0.0, began + self._min_interval - loop.time()))

    async def _send(self, counts: dict[str, int]) -> None:
        """Each count to its employee's streams, a slice at a time, the slices spread over
        part of the interval: events go out between them (see `_SPREAD`)."""
        items = list(counts.items())
        if not items:
            return
        slices = math.ceil(len(items) / _SLICE)
        gap = self._min_interval * _SPREAD / slices
        for start in range(0, len(items), _SLICE):
            if start:
                await self._sleep(gap)
            for employee_id, unread in items[start : start + _SLICE]:
                self._registry.dispatch_to_employee(employee_id, unread_frame(employee_id, unread))
