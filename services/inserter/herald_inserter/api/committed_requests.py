"""Whether a request was committed, asked of a read_committed reader: the public path's check.

On the public path (`compat`) faust's consumer reads read_uncommitted: it hands over
requests still in an open transaction and those of aborted ones. Before one is acted on,
a read_committed aiokafka consumer of our own (no group, nothing committed) reads the
request's partition from the request's offset. It returns the request once its
transaction commits (at once outside transactions), and moves past it without returning
it when the transaction was aborted. The agent waits for that answer, so requests are
still handled in order and an open transaction holds up its partition, as read_committed
does.
"""

from __future__ import annotations

import logging
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition

from herald_common.consumed import ConsumedRecord

logger = logging.getLogger(__name__)


class CommittedRequests:
    def __init__(self, consumer: AIOKafkaConsumer, *, poll_seconds: float = 1.0) -> None:
        # A read_committed consumer without a group (herald_common.kafka.create_consumer).
        self._consumer = consumer
        self._poll_ms = int(poll_seconds * 1000)

    async def __aenter__(self) -> CommittedRequests:
        await self._consumer.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    async def committed(self, record: ConsumedRecord) -> bool:
        """True once `record`'s transaction commits; False if it was aborted."""
        consumer = self._consumer
        tp = TopicPartition(record.topic, record.partition)
        if consumer.assignment() != {tp}:
            consumer.assign([tp])
        consumer.seek(tp, record.offset)
        while True:
            fetched = await consumer.getmany(tp, timeout_ms=self._poll_ms, max_records=1)
            for found in fetched.get(tp, ()):
                # The first committed record from its offset on: itself, or a later one.
                return self._confirmed(record, found.offset == record.offset)
            if await consumer.position(tp) > record.offset:
                return self._confirmed(record, False)  # passed over: aborted

    @staticmethod
    def _confirmed(record: ConsumedRecord, committed: bool) -> bool:
        if not committed:
            logger.info(
                "passed over a request of an aborted transaction",
                extra={
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                },
            )
        return committed
