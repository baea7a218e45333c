"""What every stream of the process shares (`StreamContext`), and what writes a live
stream's chunks (`ChunkWriter`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from herald_notifier.domain.gap_reads import GapReads
from herald_notifier.domain.inbox import Inbox
from herald_notifier.domain.opening import Openings
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.metrics import NotifierMetrics


class ChunkWriter(Protocol):
    """Writes a live stream's chunks straight to its connection (the response's)."""

    def ready(self) -> bool:
        """Whether a chunk written now would go at once (the client is reading)."""
        ...

    def write(self, chunk: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamContext:
    """What every stream of the process shares, built once: each idle stream keeps only a
    reference to it, not one to each part (docs/decisions/0032)."""

    inbox: Inbox
    # A stream of the employee's own channel reads its opening here, batched with others.
    openings: Openings
    registry: Registry
    metrics: NotifierMetrics
    tally: DeliveryTally
    retry_ms: int
    # Past this many missed events a stream sends `reset` instead of a backlog.
    replay_limit: int
    # Live gap reads, shared by the streams that need the same one (docs/decisions/0074).
    gap_reads: GapReads
    # Asks for an employee's unread count again (`UnreadCounter.mark`): a recount arrived
    # that a stream could not place.
    recount: Callable[[str], None]
