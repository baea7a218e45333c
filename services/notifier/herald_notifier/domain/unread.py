"""Unread counts: each stream keeps its employee's count, and read marks have it counted again.

A stream opens with the count and the employee's newest notification id when it was
counted (`UnreadCount`). Ids commit in order, so each notification of the employee's that
the stream sends with a higher id is one more unread: the stream adds it, and its new count
leaves in the same write as the events (`HeldCount`). Before, every event marked its
employee and a background round counted them again in PostgreSQL and sent each stream a
count frame of its own: a quarter of the notifier's CPU in a fan-out burst
(docs/decisions/0086).

What a stream cannot see is a read mark, an archive or a read-all made through the API
(PostgreSQL NOTIFY, any replica). Those mark the employee; this counter counts marked
employees in one query per round and offers each of their streams a `Recount`. Rounds are
at least `min_interval_seconds` apart.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Final, Protocol

from herald_common.stream_frames import UNREAD_COUNT
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.inbox import Inbox, UnreadCount

logger = logging.getLogger(__name__)

# Streams woken per slice of a round: each wakes its stream for a write, and a round of
# thousands done at once would hold up the live events behind it for tens of ms; 256 at
# once still held them up for several ms (docs/decisions/0073).
_SLICE: Final = 32
# A round's slices are spread over this share of the interval, not sent back to back: when
# every event still marked its employee, a round at 1,000 events/s was a thousand count
# frames, and written in one go (the notifier's writes, then the clients' reads of them)
# they held up the events behind them for tens of ms once a second: p99 15.3 ms from the
# Kafka commit, 4.8 ms with no count frames at all (docs/decisions/0083). Read marks make
# small rounds; the one after the listener reconnects holds every stream.
_SPREAD: Final = 0.5


# A count's SSE frame as `Delivery.frame` writes one, its data as json.dumps({"unread": n}):
# a stream sends one with each write that raises its count, so no Delivery is built for it.
_FRAME: Final = b'event: %s\ndata: {"unread": %%d}\nretry: %%d\n\n' % UNREAD_COUNT.encode()


def unread_frame(unread: int, retry_ms: int) -> bytes:
    """The `unread-count` frame of a count."""
    return _FRAME % (unread, retry_ms)


class Recount(Delivery):
    """An employee's count as PostgreSQL has it now, offered to their streams after a read
    mark; each stream takes it over (`HeldCount.recounted`) and sends it on."""

    __slots__ = ("counted",)

    def __init__(self, employee_id: str, counted: UnreadCount) -> None:
        super().__init__(None, UNREAD_COUNT, employee_id, "", "")
        self.counted = counted


# Own ids a stream remembers having sent above its count's `as_of`, for a recount that was
# read before they committed. A recount lands within a round of its read, so a handful is
# the usual; past this many the oldest go, and a recount older than them is asked again.
_REMEMBERED: Final = 64


class HeldCount:
    """One stream's unread count: the count read at its opening (or a recount), plus every
    notification of its employee it has sent since with a higher id."""

    __slots__ = ("_as_of", "_forgotten", "_sent", "unread")

    def __init__(self, counted: UnreadCount) -> None:
        self.unread = counted.unread
        self._as_of = counted.as_of
        # Own ids sent above `_as_of`, increasing (a stream sends ids in order); None: none.
        self._sent: list[int] | None = None
        # The highest id dropped from `_sent` (0: none dropped).
        self._forgotten = 0

    def sent(self, notification_id: int) -> bool:
        """The stream sent one of its employee's notifications: True when it counts."""
        if notification_id <= self._as_of:
            return False  # the count already holds it
        sent = self._sent
        if sent is None:
            self._sent = [notification_id]
        else:
            sent.append(notification_id)
            if len(sent) > _REMEMBERED:
                self._forgotten = sent.pop(0)
        self.unread += 1
        return True

    def recounted(self, counted: UnreadCount) -> bool:
        """Take over a recount; False when it cannot be placed (it is older than the count
        held, or than ids this count no longer remembers): the caller asks for another."""
        if counted.as_of < self._as_of or counted.as_of < self._forgotten:
            return False
        after = [i for i in self._sent if i > counted.as_of] if self._sent else []
        self.unread = counted.unread + len(after)
        self._as_of = counted.as_of
        self._sent = after or None
        self._forgotten = 0
        return True


class Streams(Protocol):
    """What the counter needs of the registry: whose streams are here, and a way to them."""

    def has_streams(self, employee_id: str) -> bool: ...

    def dispatch_to_employee(self, employee_id: str, delivery: Delivery) -> int: ...


class UnreadCounter:
    def __init__(
        self,
        inbox: Inbox,
        registry: Streams,
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

    async def _send(self, counts: dict[str, UnreadCount]) -> None:
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
            for employee_id, counted in items[start : start + _SLICE]:
                self._registry.dispatch_to_employee(employee_id, Recount(employee_id, counted))
