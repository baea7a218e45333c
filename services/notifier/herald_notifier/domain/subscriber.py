"""One open stream's mailbox: a bounded buffer that never blocks the publisher.

A subscriber whose buffer is full is cut off rather than allowed to slow everyone else;
its client reconnects with Last-Event-ID and catches up from the inbox. The stream takes
everything buffered at once, so a burst of events leaves in one socket write.
"""

from __future__ import annotations

import asyncio

from herald_notifier.domain.delivery import Delivery


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Subscriber:
    __slots__ = (
        "_capacity",
        "_pending",
        "_waiter",
        "allocations",
        "cut_off",
        "department",
        "departments",
        "employee_id",
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
        self._capacity = capacity
        self._pending: list[Delivery] = []
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, delivery: Delivery) -> bool:
        """Buffer a delivery; False (and cut off) when the buffer is full."""
        if self.cut_off:
            return False
        if len(self._pending) >= self._capacity:
            self.close()
            return False
        self._pending.append(delivery)
        if self._waiter is not None:
            _wake(self._waiter)
        return True

    def close(self) -> None:
        if not self.cut_off:
            self.cut_off = True
            self._pending = []
            if self._waiter is not None:
                _wake(self._waiter)

    async def _wait(self, wake_after: float | None) -> None:
        if self._pending or self.cut_off:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        # A timer, not a task: idle streams cost no task of their own.
        timer = loop.call_later(wake_after, _wake, waiter) if wake_after is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def take(self, wake_after: float | None = None) -> list[Delivery] | None:
        """Everything buffered (waiting up to `wake_after` s for something), or None if cut off.

        An empty list means the timeout passed with nothing to send: time for a ping.
        """
        await self._wait(wake_after)
        if self.cut_off:
            return None
        batch, self._pending = self._pending, []
        return batch

    async def next(self) -> Delivery | None:
        """The next buffered delivery, or None once cut off (one at a time)."""
        while not self.cut_off:
            if self._pending:
                return self._pending.pop(0)
            await self._wait(None)
        return None
