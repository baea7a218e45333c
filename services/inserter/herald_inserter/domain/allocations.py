"""One allocation, end to end: write, publish, complete.

1. One PostgreSQL transaction writes every voucher and inbox row (or finds them written).
2. One Kafka transaction publishes every per-employee event and the completion event.
3. The allocation row is marked completed (retried alone while PostgreSQL is away, so an
   outage after the Kafka commit publishes nothing twice).

Every step is safe to repeat, because the consumed offset is committed only after the
whole request is done: a crash anywhere means the request is handled again. A crash
between 2 and 3 publishes the same events (same ids) in a second transaction; consumers
drop them by id (docs/decisions/0030).
"""

from __future__ import annotations

import logging
import os
import time

from herald_common.dead_letter import describe
from herald_common.events import (
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationProgress,
    AllocationRequested,
)
from herald_inserter.domain.allocation_store import AllocationStore
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.retry import RetryPolicy, outlast_outages
from herald_inserter.metrics import InserterMetrics

logger = logging.getLogger(__name__)


class AllocationProcessor:
    def __init__(
        self,
        store: AllocationStore,
        publisher: EventPublisher,
        metrics: InserterMetrics,
        voucher_topic: str,
        retry: RetryPolicy,
        *,
        crash_after_commit: bool = False,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._voucher_topic = voucher_topic
        self._retry = retry
        self._crash_after_commit = crash_after_commit

    async def process(self, request: AllocationRequested) -> None:
        allocation_id = request.allocation_id
        phases = self._metrics.phase_seconds
        started = time.perf_counter()
        outcome = await self._store.write(request)
        written = time.perf_counter()
        phases.labels("write").observe(written - started)
        if outcome.inserted_now:
            self._metrics.vouchers_inserted.inc(len(outcome.notifications))
            if self._crash_after_commit:
                logger.critical("test hook: exiting between the database commit and the publish")
                logging.shutdown()
                os._exit(70)
        if outcome.status == "completed":
            return
        # One voucher per matched employee, all written in the transaction that matched them.
        count = len(outcome.notifications)
        await self._publisher.publish_progress(
            AllocationProgress(
                allocation_id=allocation_id,
                phase="inserted",
                matched=count,
                inserted=count,
                published=0,
            )
        )

        matched, inserted, _ = await self._store.counts(allocation_id)
        async with self._publisher.transaction():
            published = await self._publisher.publish_notifications(
                self._voucher_topic,
                outcome.notifications,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                created_at=outcome.created_at,
                allocation_id=allocation_id,
            )
            await self._publisher.publish_final_progress(
                AllocationProgress(
                    allocation_id=allocation_id,
                    phase="published",
                    matched=matched,
                    inserted=inserted,
                    published=published,
                )
            )
            await self._publisher.publish_completed(
                AllocationCompleted(
                    allocation_id=allocation_id,
                    status="completed",
                    matched=matched,
                    inserted=inserted,
                    published=published,
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
        reason = describe(exc)
        await self._store.mark_failed(request.allocation_id, reason)
        matched, inserted, published = await self._store.counts(request.allocation_id)
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
