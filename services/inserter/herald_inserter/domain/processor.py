"""One allocation request, end to end: validate, write, publish, complete.

Every step is safe to repeat, because the consumed offset is committed only after the
whole request is done: a crash anywhere means the request is handled again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import psycopg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NotLeaderForPartitionError
from herald_common.dead_letter import DeadLetterPublisher, FailedRecord, describe
from herald_common.events import AllocationCompleted, AllocationRequested, CloudEvent
from pydantic import ValidationError

from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.store import AllocationStore
from herald_inserter.metrics import InserterMetrics

logger = logging.getLogger(__name__)

# Failures of the infrastructure, not of the request: retried until they pass.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NotLeaderForPartitionError,
)


class RejectedRequest(Exception):
    """The record is not a valid allocation request; it goes to the dead-letter topic."""


def parse_request(value: bytes | None) -> AllocationRequested:
    if value is None:
        raise RejectedRequest("record has no value")
    try:
        event = CloudEvent[AllocationRequested].model_validate_json(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise RejectedRequest(f"invalid allocation request: {problems}") from exc
    return event.data


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    initial_seconds: float
    max_seconds: float


class AllocationProcessor:
    def __init__(
        self,
        store: AllocationStore,
        publisher: EventPublisher,
        dead_letters: DeadLetterPublisher,
        metrics: InserterMetrics,
        retry: RetryPolicy,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._retry = retry

    async def handle(self, record: FailedRecord) -> None:
        """Handle one consumed record; returns only when it may be committed."""
        try:
            request = parse_request(record.value)
        except RejectedRequest as exc:
            await self._dead_letter(record, str(exc))
            self._metrics.requests.labels("rejected").inc()
            return

        attempt = 0
        delay = self._retry.initial_seconds
        while True:
            try:
                await self.process(request)
                self._metrics.requests.labels("completed").inc()
                return
            except TRANSIENT_ERRORS as exc:
                logger.warning(
                    "allocation %s: %s; retrying in %.1fs",
                    request.allocation_id,
                    describe(exc),
                    delay,
                    extra={"allocation_id": str(request.allocation_id)},
                )
            except Exception as exc:
                attempt += 1
                logger.exception(
                    "allocation %s failed (attempt %d)",
                    request.allocation_id,
                    attempt,
                    extra={"allocation_id": str(request.allocation_id)},
                )
                if attempt >= self._retry.max_attempts:
                    await self._fail(request, record, exc)
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry.max_seconds)

    async def process(self, request: AllocationRequested) -> None:
        allocation_id = request.allocation_id
        phases = self._metrics.phase_seconds
        started = time.perf_counter()
        outcome = await self._store.write(request)
        written = time.perf_counter()
        phases.labels("write").observe(written - started)
        if outcome.inserted_now:
            self._metrics.vouchers_inserted.inc(len(outcome.notifications))
        if outcome.status == "completed":
            return

        published = await self._publisher.publish_vouchers(
            outcome.notifications, outcome.created_at
        )
        phases.labels("publish").observe(time.perf_counter() - written)
        self._metrics.events_published.inc(published)
        await self._store.mark_published(allocation_id, published)

        matched, inserted, _ = await self._store.counts(allocation_id)
        completed_event_id = await self._publisher.publish_completed(
            AllocationCompleted(
                allocation_id=allocation_id,
                status="completed",
                matched=matched,
                inserted=inserted,
                published=published,
            )
        )
        await self._store.mark_completed(allocation_id)
        logger.info(
            "allocation %s completed: %d vouchers in %.3fs",
            allocation_id,
            published,
            time.perf_counter() - started,
            extra={
                "allocation_id": str(allocation_id),
                "event_id": completed_event_id,
                "vouchers": published,
            },
        )

    async def _fail(
        self, request: AllocationRequested, record: FailedRecord, exc: Exception
    ) -> None:
        reason = describe(exc)
        await self._store.mark_failed(request.allocation_id, reason)
        matched, inserted, published = await self._store.counts(request.allocation_id)
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
        await self._dead_letter(record, exc)
        self._metrics.requests.labels("failed").inc()

    async def _dead_letter(self, record: FailedRecord, error: BaseException | str) -> None:
        await self._dead_letters.publish(record, error)
        self._metrics.dead_letters.inc()
