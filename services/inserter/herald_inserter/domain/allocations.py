"""One allocation, end to end: write, publish, complete.

1. One Kafka transaction opens.
2. One PostgreSQL transaction writes every voucher and inbox row (or finds them written);
   the per-employee events are sent into the Kafka transaction while its COPY runs.
3. The database commits, then the completion event is sent and Kafka commits: a
   read_committed consumer sees an event only after its inbox row is there.
4. The allocation row is marked completed (retried alone while PostgreSQL is away, so an
   outage after the Kafka commit publishes nothing twice).

Every step is safe to repeat, because the consumed offset is committed only after the
whole request is done: a crash anywhere means the request is handled again. A crash
between the two commits leaves a Kafka transaction that the restarted worker's producer
aborts; the request, handled again, finds its rows and sends their events anew. A crash
between 3 and 4 publishes the same events (same ids) in a second transaction; consumers
drop them by id (docs/decisions/0030).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TypedDict

from herald_common.events import (
    SOURCE_ALLOCATION,
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationProgress,
    AllocationRequested,
)
from herald_common.retry import outlast_outages
from herald_inserter.domain.allocation_store import NOT_SENT, AllocationStore
from herald_inserter.domain.failures import gave_up
from herald_inserter.domain.inbox_writer import IssuedNotification
from herald_inserter.domain.parsing import RejectedRequest
from herald_inserter.domain.processing import RequestProcessor

logger = logging.getLogger(__name__)


class _Counts(TypedDict):
    matched: int
    inserted: int
    published: int


def _counts(matched: int, published: int) -> _Counts:
    # Nothing between the two commits needs the database: one voucher and one inbox row
    # per matched employee, all written by the transaction that matched.
    return {"matched": matched, "inserted": matched, "published": published}


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

        # The events are sent while the rows are written, in a Kafka transaction committed
        # after the database's: nothing is visible before its row is.
        async with self._publisher.transaction():
            outcome = await self._store.write(request, publish, source=source)
            written = time.perf_counter()
            phases.labels("write").observe(written - started)
            if outcome.status == "rejected":
                assert outcome.failure is not None
                raise RejectedRequest(outcome.failure.reason)
            if outcome.status in NOT_SENT:
                # It waits for approval or its time, or was stopped: nobody is told.
                logger.info("allocation %s is %s: nothing written", allocation_id, outcome.status)
                return
            if outcome.status == "failed":
                assert outcome.failure is not None
                await self._publisher.publish_completed(
                    AllocationCompleted(
                        allocation_id=allocation_id,
                        status="failed",
                        reason=outcome.failure.reason,
                        **_counts(0, 0),
                    )
                )
                logger.warning("allocation %s failed: %s", allocation_id, outcome.failure.detail)
                return
            if outcome.inserted_now:
                self._metrics.vouchers_inserted.inc(len(outcome.notifications))
                if self._after_commit is not None:
                    await self._after_commit()
            if outcome.status == "completed":
                return
            count = len(outcome.notifications)
            await self._publisher.publish_progress(
                AllocationProgress(
                    allocation_id=allocation_id, phase="inserted", **_counts(count, 0)
                )
            )
            published = outcome.published
            if published is None:  # written before (a redelivered request): send them now
                published = await publish(outcome.notifications, outcome.created_at)
            await self._publisher.publish_final_progress(
                AllocationProgress(
                    allocation_id=allocation_id, phase="published", **_counts(count, published)
                )
            )
            await self._publisher.publish_completed(
                AllocationCompleted(
                    allocation_id=allocation_id, status="completed", **_counts(count, published)
                )
            )
        phases.labels("publish").observe(time.perf_counter() - written)
        self._metrics.events_published.inc(published)

        async def mark_done() -> None:
            await self._store.mark_published(allocation_id, published)
            await self._store.mark_completed(allocation_id)

        await outlast_outages(f"allocation {allocation_id}", mark_done, self._retry)
        logger.info(
            "allocation %s completed: %d vouchers in %.3fs",
            allocation_id,
            published,
            time.perf_counter() - started,
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
