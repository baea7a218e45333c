"""One open stream's mailbox: a bounded buffer that never blocks the publisher.

A subscriber whose buffer is full is cut off rather than allowed to slow everyone else;
its client reconnects with Last-Event-ID and catches up from the inbox.
"""

from __future__ import annotations

import asyncio

from herald_notifier.domain.delivery import Delivery


class Subscriber:
    __slots__ = (
        "_queue",
        "allocations",
        "cut_off",
        "department",
        "departments",
        "employee_id",
        "newest_offered",
        "private",
    )

    def __init__(
        self,
        employee_id: str,
        department: str,
        capacity: int,
        *,
        private: bool = True,
        departments: frozenset[str] = frozenset(),
        allocations: frozenset[str] = frozenset(),
    ) -> None:
        self.employee_id = employee_id
        self.department = department
        self.private = private  # reads the employee's own channel
        self.departments = departments  # department channels it watches
        self.allocations = allocations  # allocation progress channels it watches
        self.cut_off = False
        # The highest notification id ever offered here. It was published after its commit,
        # and ids commit in order, so every id up to it is already in the inbox.
        self.newest_offered = 0
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=capacity + 1)

    def offer(self, delivery: Delivery) -> bool:
        """Buffer a delivery; False (and cut off) when the buffer is full."""
        if self.cut_off:
            return False
        # One slot stays free for the wake-up sentinel of `close`.
        if self._queue.qsize() >= self._queue.maxsize - 1:
            self.close()
            return False
        self._queue.put_nowait(delivery)
        if delivery.event_id is not None and delivery.event_id > self.newest_offered:
            self.newest_offered = delivery.event_id
        return True

    def close(self) -> None:
        if not self.cut_off:
            self.cut_off = True
            self._queue.put_nowait(None)

    async def next(self) -> Delivery | None:
        """The next buffered delivery, or None once cut off."""
        if self.cut_off:
            return None
        return await self._queue.get()
