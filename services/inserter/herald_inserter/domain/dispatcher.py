"""Routes each consumed record to its processor, with validation, retries and dead letters.

The request topics are read by two agents (allocations and revocations; pushes), each one
record at a time, sharing one dispatcher. Each write and its Kafka commit happen inside one
transaction of the shared producer, and those run one at a time, so notifications are
published in the order their ids were drawn (a stream never sees a lower id after a higher
one from this worker); a push waits for one allocation chunk at most (docs/decisions/0068).

`handle` never raises for a record: an outage of Kafka or PostgreSQL is waited out (with
backoff), a bad record is dead-lettered, and a request that keeps failing is marked failed
and dead-lettered. Only then does the agent move on and faust commit the offset.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.events import AllocationRequested, NotificationRequested, RevocationRequested
from herald_common.record_checks import record_problem
from herald_common.retry import RetryPolicy, run_with_retries
from herald_inserter.domain.allocations import AllocationProcessor
from herald_inserter.domain.parsing import RejectedRequest, parse_event
from herald_inserter.domain.pushes import PushProcessor
from herald_inserter.domain.revocations import RevocationProcessor
from herald_inserter.domain.transactions import TransactionalProducer
from herald_inserter.metrics import InserterMetrics

logger = logging.getLogger(__name__)


class Processor(Protocol):
    # `source` is the CloudEvent's: the approval rule exempts trusted producers (0043).
    async def process(self, request: Any, source: str) -> None: ...

    async def fail(self, request: Any, exc: Exception) -> None: ...


@dataclass(frozen=True, slots=True)
class RequestKind:
    """How the records of one request topic are read and carried out."""

    model: type[BaseModel]
    # For messages and logs: "allocation", "push", "revocation".
    what: str
    # The request's own id field.
    id_field: str
    processor: Processor


class RequestDispatcher:
    def __init__(
        self,
        *,
        allocation_topic: str,
        push_topic: str,
        revocation_topic: str,
        allocations: AllocationProcessor,
        pushes: PushProcessor,
        revocations: RevocationProcessor,
        producer: TransactionalProducer,
        metrics: InserterMetrics,
        retry: RetryPolicy,
        max_record_bytes: int,
    ) -> None:
        self._kinds = {
            allocation_topic: RequestKind(
                AllocationRequested, "allocation", "allocation_id", allocations
            ),
            push_topic: RequestKind(NotificationRequested, "push", "push_id", pushes),
            revocation_topic: RequestKind(
                RevocationRequested, "revocation", "revocation_id", revocations
            ),
        }
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
            kind = self._kinds.get(record.topic)
            if kind is None:
                raise RejectedRequest(f"no handler for topic {record.topic}")
            await self._request(record, kind)
        except RejectedRequest as exc:
            await self._dead_letter(record, str(exc))
            self._metrics.requests.labels("rejected").inc()

    async def _request(self, record: ConsumedRecord, kind: RequestKind) -> None:
        event = parse_event(record.value, kind.model, f"{kind.what} request")
        request = event.data
        name = f"{kind.what} {getattr(request, kind.id_field)}"

        async def give_up(exc: Exception) -> None:
            await self._settle(f"failing {name}", lambda: kind.processor.fail(request, exc))
            await self._dead_letter(record, exc)

        done = await run_with_retries(
            name, lambda: kind.processor.process(request, event.source), give_up, self._retry
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
