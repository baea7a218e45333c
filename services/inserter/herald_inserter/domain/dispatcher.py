"""Routes each consumed record to its processor, with validation, retries and dead letters.

Both request topics are read by one agent, one record at a time, so notifications are
written and published in the order their ids were drawn (a stream never sees a lower id
after a higher one from this worker).
"""

from __future__ import annotations

from herald_common.dead_letter import DeadLetterPublisher, FailedRecord
from herald_common.events import AllocationRequested, NotificationRequested
from herald_inserter.domain.allocations import AllocationProcessor
from herald_inserter.domain.parsing import RejectedRequest, parse_request
from herald_inserter.domain.pushes import PushProcessor
from herald_inserter.domain.retry import RetryPolicy, run_with_retries
from herald_inserter.metrics import InserterMetrics


class RequestDispatcher:
    def __init__(
        self,
        *,
        allocation_topic: str,
        push_topic: str,
        allocations: AllocationProcessor,
        pushes: PushProcessor,
        dead_letters: DeadLetterPublisher,
        metrics: InserterMetrics,
        retry: RetryPolicy,
    ) -> None:
        self._allocation_topic = allocation_topic
        self._push_topic = push_topic
        self._allocations = allocations
        self._pushes = pushes
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._retry = retry

    async def handle(self, record: FailedRecord) -> None:
        """Handle one consumed record; returns only when its offset may be committed."""
        try:
            if record.topic == self._allocation_topic:
                await self._allocation(record)
            elif record.topic == self._push_topic:
                await self._push(record)
            else:
                raise RejectedRequest(f"no handler for topic {record.topic}")
        except RejectedRequest as exc:
            await self._dead_letter(record, str(exc))
            self._metrics.requests.labels("rejected").inc()

    async def _allocation(self, record: FailedRecord) -> None:
        request = parse_request(record.value, AllocationRequested, "allocation request")

        async def give_up(exc: Exception) -> None:
            await self._allocations.fail(request, exc)
            await self._dead_letter(record, exc)

        done = await run_with_retries(
            f"allocation {request.allocation_id}",
            lambda: self._allocations.process(request),
            give_up,
            self._retry,
        )
        self._metrics.requests.labels("completed" if done else "failed").inc()

    async def _push(self, record: FailedRecord) -> None:
        request = parse_request(record.value, NotificationRequested, "push request")

        async def give_up(exc: Exception) -> None:
            await self._pushes.fail(request, exc)
            await self._dead_letter(record, exc)

        done = await run_with_retries(
            f"push {request.push_id}", lambda: self._pushes.process(request), give_up, self._retry
        )
        self._metrics.requests.labels("completed" if done else "failed").inc()

    async def _dead_letter(self, record: FailedRecord, error: BaseException | str) -> None:
        await self._dead_letters.publish(record, error)
        self._metrics.dead_letters.inc()
