"""Routes each consumed record to its processor, with validation, retries and dead letters.

Both request topics are read by one agent, one record at a time, so notifications are
written and published in the order their ids were drawn (a stream never sees a lower id
after a higher one from this worker).

`handle` never raises for a record: an outage of Kafka or PostgreSQL is waited out (with
backoff), a bad record is dead-lettered, and a request that keeps failing is marked failed
and dead-lettered. Only then does the agent move on and faust commit the offset.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.events import AllocationRequested, NotificationRequested
from herald_common.record_checks import record_problem
from herald_common.retry import RetryPolicy, run_with_retries
from herald_inserter.domain.allocations import AllocationProcessor
from herald_inserter.domain.parsing import RejectedRequest, parse_request
from herald_inserter.domain.pushes import PushProcessor
from herald_inserter.domain.transactions import TransactionalProducer
from herald_inserter.metrics import InserterMetrics

logger = logging.getLogger(__name__)


class RequestDispatcher:
    def __init__(
        self,
        *,
        allocation_topic: str,
        push_topic: str,
        allocations: AllocationProcessor,
        pushes: PushProcessor,
        producer: TransactionalProducer,
        metrics: InserterMetrics,
        retry: RetryPolicy,
        max_record_bytes: int,
    ) -> None:
        self._allocation_topic = allocation_topic
        self._push_topic = push_topic
        self._allocations = allocations
        self._pushes = pushes
        self._producer = producer
        self._dead_letters = DeadLetterPublisher(producer, max_record_bytes)
        self._metrics = metrics
        self._retry = retry
        self._max_record_bytes = max_record_bytes

    async def handle(self, record: ConsumedRecord) -> None:
        """Handle one consumed record; returns only when its offset may be committed."""
        try:
            problem = record_problem(record.value, record.headers, self._max_record_bytes)
            if problem is not None:
                raise RejectedRequest(problem)
            if record.topic == self._allocation_topic:
                await self._allocation(record)
            elif record.topic == self._push_topic:
                await self._push(record)
            else:
                raise RejectedRequest(f"no handler for topic {record.topic}")
        except RejectedRequest as exc:
            await self._dead_letter(record, str(exc))
            self._metrics.requests.labels("rejected").inc()

    async def _allocation(self, record: ConsumedRecord) -> None:
        request = parse_request(record.value, AllocationRequested, "allocation request")

        async def give_up(exc: Exception) -> None:
            await self._settle(
                f"failing allocation {request.allocation_id}",
                lambda: self._allocations.fail(request, exc),
            )
            await self._dead_letter(record, exc)

        done = await run_with_retries(
            f"allocation {request.allocation_id}",
            lambda: self._allocations.process(request),
            give_up,
            self._retry,
        )
        self._metrics.requests.labels("completed" if done else "failed").inc()

    async def _push(self, record: ConsumedRecord) -> None:
        request = parse_request(record.value, NotificationRequested, "push request")

        async def give_up(exc: Exception) -> None:
            await self._settle(
                f"failing push {request.push_id}", lambda: self._pushes.fail(request, exc)
            )
            await self._dead_letter(record, exc)

        done = await run_with_retries(
            f"push {request.push_id}", lambda: self._pushes.process(request), give_up, self._retry
        )
        self._metrics.requests.labels("completed" if done else "failed").inc()

    async def _dead_letter(self, record: ConsumedRecord, error: BaseException | str) -> None:
        async def publish() -> None:
            async with self._producer.transaction():
                await self._dead_letters.publish(record, error)

        if await self._settle(f"dead-lettering {record.topic}@{record.offset}", publish):
            self._metrics.dead_letters.inc()

    async def _settle(self, what: str, attempt: Callable[[], Awaitable[None]]) -> bool:
        """Bookkeeping after giving up: outages are waited out, a persistent error is logged."""

        async def abandon(exc: Exception) -> None:
            logger.error("%s abandoned: %s", what, exc)

        return await run_with_retries(what, attempt, abandon, self._retry)
