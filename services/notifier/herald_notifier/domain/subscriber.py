"""One open stream's mailbox: a bounded buffer that never blocks the publisher.

A subscriber whose buffer is full is cut off rather than allowed to slow everyone else;
its client reconnects with Last-Event-ID and catches up from the inbox. The stream takes
everything buffered at once, so a burst of events leaves in one socket write.

A subscriber owns no timer: the Heartbeat asks quiet ones for a ping, cuts off those
whose write has been stuck too long, and wakes those whose token expired, which then end
(domain/heartbeat.py).

The consumer offers a partition's records with wakes held (`offer(..., held)`): a stream
idle in `take()` whose response can write directly is then written to from the consumer's
own stack once the partition is dispatched (`flush`), without waking its task. Waking a
task, resuming its coroutines and suspending them again cost about a third of a fan-out
delivery's CPU (docs/decisions/0088).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, Protocol

from herald_notifier.domain.delivery import Delivery

logger = logging.getLogger(__name__)


class DirectWrites(Protocol):
    """What writes a stream's buffered deliveries from the caller's stack (its session)."""

    def write_now(self, now: float) -> bool:
        """Frame and write everything buffered; False when the stream's own task must
        (an inbox read, an expired token, a client not reading)."""
        ...

    def ping_now(self, now: float) -> bool:
        """Write a ping; False when the stream's own task must (an expired token, a client
        not reading)."""
        ...


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Subscriber:
    __slots__ = (
        "_capacity",
        "_pending",
        "_ping_due",
        "_waiter",
        "allocations",
        "closed",
        "department",
        "departments",
        "direct",
        "employee_id",
        "expires_at",
        "last_write",
        "newest_offered",
        "stalled",
        "writer",
        "writing_since",
    )

    def __init__(
        self,
        employee_id: str,
        department: str,
        capacity: int,
        *,
        departments: frozenset[str] = frozenset(),
        allocations: frozenset[str] = frozenset(),
        expires_at: float = math.inf,
    ) -> None:
        self.employee_id = employee_id
        self.department = department
        self.departments = departments  # department channels it watches
        self.allocations = allocations  # allocation progress channels it watches
        self.closed = False
        # When the credentials the stream was opened with end (event loop time): the stream
        # sends nothing after it and ends with a frame saying so.
        self.expires_at = expires_at
        # The highest notification id ever offered here. It was published after its commit,
        # and ids commit in order, so every id up to it is already in the inbox.
        self.newest_offered = 0
        # The writing side, as the stream response reports it (event loop time).
        self.writer: asyncio.Task[Any] | None = None
        self.writing_since: float | None = None
        self.last_write = 0.0
        self.stalled = False
        # Set while the stream is live and its response can write directly (`flush`).
        self.direct: DirectWrites | None = None
        self._capacity = capacity
        self._pending: list[Delivery] = []
        self._ping_due = False
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, delivery: Delivery, held: list[Subscriber] | None = None) -> bool:
        """Buffer a delivery; False (and cut off) when the buffer is full.

        With `held`, a stream idle in `take()` that can be written directly is not woken:
        it joins `held` (once) and the caller `flush`es it when its batch is offered.
        """
        if self.closed:
            return False
        if len(self._pending) >= self._capacity:
            if self.writing_since is None:
                self.close()
            else:
                # Its write is held up too: that writer gives up and ends the stream. The
                # stream leaves the registry now, so the Heartbeat would never cut it off.
                self.stall()
            return False
        self._pending.append(delivery)
        event_id = delivery.event_id
        if event_id is not None and event_id > self.newest_offered:
            self.newest_offered = event_id
        waiter = self._waiter
        if waiter is not None:
            if held is None or self.direct is None or waiter.done():
                _wake(waiter)
            elif len(self._pending) == 1:
                held.append(self)
        return True

    def flush(self, now: float) -> None:
        """Write what `offer` held, from here, or wake the stream's task to write it."""
        waiter = self._waiter
        if waiter is None or waiter.done() or not self._pending:
            return  # the task is awake, or will find it when it next takes
        direct = self.direct
        try:
            written = direct is not None and direct.write_now(now)
        except Exception:
            # One stream's failure must not leave the rest of the batch unwritten: its task
            # takes over, and ends if its connection is gone.
            logger.exception("direct write to %s's stream failed", self.employee_id)
            written = False
        if not written:
            _wake(waiter)

    @property
    def pending(self) -> list[Delivery]:
        """What is buffered, not taken."""
        return self._pending

    def take_now(self) -> list[Delivery]:
        """Everything buffered, taken without waiting (`DirectWrites.write_now`)."""
        batch, self._pending = self._pending, []
        return batch

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._pending = []
            if self._waiter is not None:
                _wake(self._waiter)

    def ping_now(self, now: float) -> bool:
        """Write a ping from the caller's stack to a stream idle in `take()`, without waking
        its task; False when its task must be woken for it (`ping`): the task is awake or
        has something to take, or the stream cannot be written directly now.

        Every idle stream is pinged every `ping_seconds`, and waking a task for it cost
        what waking it for a delivery did (docs/decisions/0096)."""
        waiter, direct = self._waiter, self.direct
        if waiter is None or waiter.done() or self._pending or direct is None:
            return False
        try:
            return direct.ping_now(now)
        except Exception:
            # As in `flush`: the task takes over, and ends if its connection is gone.
            logger.exception("direct ping to %s's stream failed", self.employee_id)
            return False

    def ping(self) -> None:
        """Wake the stream with an empty batch if nothing else is waiting: it sends a ping,
        or ends if its token expired."""
        self._ping_due = True
        if self._waiter is not None:
            _wake(self._waiter)

    def stall(self) -> None:
        """Cut off a stream whose write is stuck: its writer gives up the write and ends."""
        if self.stalled:
            return
        self.stalled = True
        self.close()
        if self.writer is not None:
            self.writer.cancel()

    async def _wait(self) -> None:
        if self._pending or self.closed or self._ping_due:
            return
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    async def take(self) -> list[Delivery] | None:
        """Everything buffered (waiting for something), or None once closed.

        An empty list means a ping was asked for and nothing else is waiting.
        """
        await self._wait()
        if self.closed:
            return None
        self._ping_due = False
        return self.take_now()
