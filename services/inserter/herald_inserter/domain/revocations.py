"""One revocation, end to end: void the vouchers and write the notices, then publish.

As with a push, the database commits first (inside the Kafka transaction) and the
notices' events then go out in that one Kafka transaction with the revocation's outcome,
so they become visible whole or not at all. A crash anywhere before the offset commit
means the request is handled again: rows written before are found and their events sent
anew with the same ids (consumers drop repeats by id, docs/decisions/0030).
"""

from __future__ import annotations

import logging
import time

from herald_common.events import (
    SOURCE_INSERTER,
    VOUCHER_REVOKED,
    RevocationCompleted,
    RevocationRequested,
)
from herald_common.retry import outlast_outages
from herald_inserter.domain.parsing import RejectedRequest
from herald_inserter.domain.processing import RequestProcessor
from herald_inserter.domain.revocation_store import RevocationStore

logger = logging.getLogger(__name__)


class RevocationProcessor(RequestProcessor[RevocationStore]):
    async def process(self, request: RevocationRequested, source: str = "") -> None:
        started = time.perf_counter()
        # Written inside the Kafka transaction: the worker's transactions run one at a
        # time, so a push's ids (another agent) are published before or after these,
        # never in between (api.requests_topic).
        async with self._publisher.transaction():
            outcome = await self._store.write(request)
            if outcome.status == "rejected":
                assert outcome.failure is not None
                raise RejectedRequest(outcome.failure.reason)
            if outcome.status == "completed":
                return
            if outcome.inserted_now and self._after_commit is not None:
                await self._after_commit()
            published = await self._publisher.publish_notifications(
                self._topic,
                outcome.notifications,
                kind=VOUCHER_REVOKED,
                source=SOURCE_INSERTER,
                created_at=outcome.created_at,
                visibility="department",
            )
            await self._publisher.publish_revocation_completed(
                RevocationCompleted(
                    revocation_id=request.revocation_id,
                    allocation_id=request.allocation_id,
                    status="completed",
                    revoked=len(outcome.notifications),
                    published=published,
                )
            )
        self._metrics.events_published.inc(published)
        # Only this step is retried through an outage: the events are out already.
        await outlast_outages(
            f"revocation {request.revocation_id}",
            lambda: self._store.mark_completed(request.revocation_id, published),
            self._retry,
        )
        logger.info(
            "revocation %s of allocation %s completed: %d vouchers in %.3fs",
            request.revocation_id,
            request.allocation_id,
            published,
            time.perf_counter() - started,
            extra={"allocation_id": str(request.allocation_id)},
        )

    async def fail(self, request: RevocationRequested, exc: Exception) -> None:
        failure = await self._store.mark_failed(request.revocation_id, exc)
        async with self._publisher.transaction():
            await self._publisher.publish_revocation_completed(
                RevocationCompleted(
                    revocation_id=request.revocation_id,
                    allocation_id=request.allocation_id,
                    status="failed",
                    revoked=0,
                    published=0,
                    reason=failure.reason,
                )
            )
