"""What the consumer reads Kafka records with: everything fetched so far, partition by partition.

Two readers answer the same question. The default takes aiokafka's fetch buffers directly,
batch by batch, about four times cheaper per record than `getmany()` (`compat.FetchedRecords`,
docs/decisions/0031). `GetmanyRecords` is aiokafka's public `getmany()`: what the notifier
reads with when it keeps to public APIs (docs/decisions/0042). Both return the same records,
which tests/integration/test_fetched_records.py checks on a real broker.
"""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from herald_common.consumed import KafkaRecord

Fetched = list[tuple[TopicPartition, list[KafkaRecord]]]


class RecordReader(Protocol):
    async def get(self, wait_seconds: float) -> Fetched:
        """Everything fetched so far, waiting up to `wait_seconds` for something."""
        ...


class GetmanyRecords:
    """The reader of the public path: aiokafka's `getmany()`."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def get(self, wait_seconds: float) -> Fetched:
        fetched = await self._consumer.getmany(timeout_ms=int(wait_seconds * 1000))
        return [(tp, list(records)) for tp, records in fetched.items()]
