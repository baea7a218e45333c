"""One allocation, end to end: written and published chunk by chunk, then completed.

Each chunk (docs/decisions/0068, `AllocationStore`):

1. One Kafka transaction opens.
2. One PostgreSQL transaction, under the writer lock, writes the chunk's voucher and inbox
   rows; their events are sent into the Kafka transaction while its COPY runs.
3. The database commits, then Kafka commits: a read_committed consumer sees an event only
   after its inbox row is there, and the chunk's employees hear at once.
4. The allocation's row records the chunk as published, and watchers get a progress event.

The last chunk's transaction also carries the final progress and the completion event;
then the allocation row is marked completed (retried alone while PostgreSQL is away, so an
outage after the Kafka commit publishes nothing twice).

Every step is safe to repeat, because the consumed offset is committed only after the
whole request is done: a crash anywhere means the request is handled again, and it goes
on from the allocation's row. A crash between a chunk's two commits leaves a Kafka
transaction that the restarted worker's producer aborts; the request, handled again, finds
the chunk written but not published and sends its events anew (same ids) before writing
the next chunk. A crash between 3 and 4 publishes that chunk's events a second time; a
crash after the completion's commit sends the completion again; consumers drop both by id
(docs/decisions/0030).
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import datetime
from typing import Literal, TypedDict
from uuid import UUID

from herald_common.events import (
    SOURCE_ALLOCATION,
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationProgress,
    AllocationRequested,
)
from herald_common.retry import outlast_outages
from herald_inserter.domain.allocation_store import NOT_SENT, AllocationStore, Chunk, Publish
from herald_inserter.domain.claims import WriteOutcome
from herald_inserter.domain.failures import gave_up
from herald_inserter.domain.inbox_writer import IssuedNotification
from herald_inserter.domain.parsing import RejectedRequest
from herald_inserter.domain.processing import RequestProcessor

logger = logging.getLogger(__name__)

ProgressPhase = Literal["chunk", "inserted", "published"]


class _Counts(TypedDict):
    matched: int
    inserted: int
    published: int


def _counts(matched: int, inserted: int, published: int) -> _Counts:
    return {"matched": matched, "inserted": inserted, "published": published}


def _progress(
    allocation_id: UUID, chunk: Chunk, phase: ProgressPhase, done: int, published: int
) -> AllocationProgress:
    """Progress as of `chunk`: `done` chunks and `published` events committed in Kafka."""
    return AllocationProgress(
        allocation_id=allocation_id,
        phase=phase,
        chunks_done=done,
        chunks_total=chunk.total,
        **_counts(chunk.matched, chunk.inserted, published),
    )


class AllocationProcessor(RequestProcessor[AllocationStore]):
    async def process(self, request: AllocationRequested, source: str = SOURCE_ALLOCATION) -> None:
        allocation_id = request.allocation_id
        phases = self._metrics.phase_seconds
        started = time.perf_counter()

        async def publish(notifications: list[IssuedNotification], created_at: datetime) -> int:
            return await self._publisher.publish_notifications(
                self._topic,
                notifications,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                created_at=created_at,
                allocation_id=allocation_id,
                visibility="department",
            )

        first = True
        while True:
            began = time.perf_counter()
            # A chunk's events are sent while its rows are written, in a Kafka transaction
            # committed after the database's: nothing is visible before its row is.
            async with self._publisher.transaction():
                outcome = await self._store.write(request, publish, source=source)
                written = time.perf_counter()
                phases.labels("write").observe(written - began)
                if not await self._goes_on(request, outcome):
                    return
                chunk = outcome.chunk
                if chunk is None:
                    # Written whole before allocations were chunked: published whole.
                    chunk = await self._publish_whole(outcome, publish)
                    sent = chunk.inserted
                else:
                    sent = await self._publish_chunk(request, outcome, chunk, publish)
            phases.labels("publish").observe(time.perf_counter() - written)
            if first:
                phases.labels("first_chunk").observe(time.perf_counter() - started)
                first = False
            self._metrics.events_published.inc(sent)
            self._metrics.chunks.inc()
            await outlast_outages(
                f"allocation {allocation_id}",
                functools.partial(self._store.mark_chunk_published, allocation_id, chunk),
                self._retry,
            )
            if chunk.last:
                break
            await self._publisher.publish_progress(
                _progress(allocation_id, chunk, "chunk", chunk.number, chunk.inserted)
            )

        async def mark_done() -> None:
            await self._store.mark_published(allocation_id, chunk.inserted)
            await self._store.mark_completed(allocation_id)

        await outlast_outages(f"allocation {allocation_id}", mark_done, self._retry)
        phases.labels("total").observe(time.perf_counter() - started)
        logger.info(
            "allocation %s completed: %d vouchers in %d chunks, %.3fs",
            allocation_id,
            chunk.inserted,
            chunk.number,
            time.perf_counter() - started,
        )

    async def _goes_on(self, request: AllocationRequested, outcome: WriteOutcome) -> bool:
        """Whether the write has a chunk to publish; else it is answered here."""
        allocation_id = request.allocation_id
        if outcome.status == "rejected":
            assert outcome.failure is not None
            raise RejectedRequest(outcome.failure.reason)
        if outcome.status in NOT_SENT:
            # It waits for approval or its time, or was stopped: nobody is told.
            logger.info("allocation %s is %s: nothing written", allocation_id, outcome.status)
            return False
        if outcome.status == "failed":
            assert outcome.failure is not None
            matched, inserted, published = await self._store.counts(allocation_id)
            await self._publisher.publish_completed(
                AllocationCompleted(
                    allocation_id=allocation_id,
                    status="failed",
                    reason=outcome.failure.reason,
                    **_counts(matched, inserted, published),
                )
            )
            logger.warning("allocation %s failed: %s", allocation_id, outcome.failure.detail)
            return False
        return outcome.status != "completed"

    async def _publish_chunk(
        self,
        request: AllocationRequested,
        outcome: WriteOutcome,
        chunk: Chunk,
        publish: Publish,
    ) -> int:
        """The chunk's events (sent while it was written, or now again), and after the
        last chunk the final progress and the completion; returns the events sent."""
        allocation_id = request.allocation_id
        sent = outcome.published or 0
        if outcome.inserted_now:
            self._metrics.vouchers_inserted.inc(len(outcome.notifications))
            if self._after_commit is not None:
                await self._after_commit()
        if chunk.step == "unpublished":
            logger.info(
                "allocation %s: chunk %d written before, publishing it again",
                allocation_id,
                chunk.number,
            )
            created_at, notifications = await self._store.load_chunk(allocation_id, chunk)
            sent = await publish(notifications, created_at)
        if chunk.last:
            await self._complete(request, chunk)
        return sent

    async def _publish_whole(
        self,
        outcome: WriteOutcome,
        publish: Publish,
    ) -> Chunk:
        count = len(outcome.notifications)
        await publish(outcome.notifications, outcome.created_at)
        ids = [n.notification_id for n in outcome.notifications]
        return Chunk(
            number=1,
            total=1,
            last=True,
            matched=count,
            inserted=count,
            first_id=min(ids, default=None),
            last_id=max(ids, default=None),
            step="unpublished",
        )

    async def _complete(self, request: AllocationRequested, chunk: Chunk) -> None:
        """Every chunk is written: the final progress and the completion go with the last
        chunk's events, so they become visible with them."""
        allocation_id = request.allocation_id
        # Every row is written; the events of all chunks but this one are committed.
        await self._publisher.publish_progress(
            _progress(
                allocation_id, chunk, "inserted", chunk.number - 1, chunk.inserted - chunk.rows
            )
        )
        await self._publisher.publish_final_progress(
            _progress(allocation_id, chunk, "published", chunk.number, chunk.inserted)
        )
        counts = _counts(chunk.matched, chunk.inserted, chunk.inserted)
        await self._publisher.publish_completed(
            AllocationCompleted(allocation_id=allocation_id, status="completed", **counts)
        )

    async def fail(self, request: AllocationRequested, exc: Exception) -> None:
        matched, inserted, published = await self._store.counts(request.allocation_id)
        failure = gave_up(exc, what="allocation", written=inserted)
        await self._store.mark_failed(request.allocation_id, failure)
        reason = failure.reason
        async with self._publisher.transaction():
            await self._publisher.publish_completed(
                AllocationCompleted(
                    allocation_id=request.allocation_id,
                    status="failed",
                    matched=matched,
                    inserted=inserted,
                    published=published,
                    reason=reason,
                )
            )
