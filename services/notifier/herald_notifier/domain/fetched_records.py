"""Fetched Kafka records, batch by batch, without aiokafka's per-record Python.

`AIOKafkaConsumer.getmany()` hands every record through a generator, an iterator and a
list append, and wraps it in a `ConsumerRecord`: about 4 µs a record on this hardware,
where the C batch parser needs about 1. The notifier reads every record of every
partition (100,000 per allocation), so that wrapping was the largest single cost of its
hot path. `FetchedRecords.get()` takes what aiokafka's fetcher has buffered and returns
each batch's records as the parser made them (`offset`, `key`, `value`, `headers`), and
does what `getmany()` does around them: records of aborted transactions and control
batches are skipped (read_committed), CRCs are checked when asked for, positions move on
and the fetcher is told to fetch again. Anything else in the buffer (a fetch error) goes
through `getmany()`, which raises it.

This reads aiokafka's fetcher internals. aiokafka is pinned (uv.lock), and
tests/integration/test_fetched_records.py checks the behaviour against a real broker,
aborted transactions included, so an upgrade that changes them fails there first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.consumer.fetcher import READ_COMMITTED, FetchResult
from aiokafka.errors import CorruptRecordException

from herald_common.consumed import KafkaRecord

Fetched = list[tuple[TopicPartition, list[KafkaRecord]]]


class FetchedRecords:
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def get(self, wait_seconds: float) -> Fetched:
        """Everything fetched so far, waiting up to `wait_seconds` for something."""
        # As getmany: the time spent in here is not idle time.
        with self._consumer._subscription.fetch_context():
            return await self._get(wait_seconds)

    async def _get(self, wait_seconds: float) -> Fetched:
        fetcher: Any = self._consumer._fetcher
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            if any(type(r) is not FetchResult for r in fetcher._records.values()):
                # A fetch error: getmany raises it (or returns what came before it).
                return [
                    (tp, list(records))
                    for tp, records in (await self._consumer.getmany(timeout_ms=0)).items()
                ]
            fetched = self._drain(fetcher)
            left = deadline - loop.time()
            if fetched or left <= 0:
                return fetched
            waiter = fetcher._create_fetch_waiter()
            done, _ = await asyncio.wait([waiter], timeout=left)
            if not done or fetcher._closed:
                waiter.cancel()
                return []
            waiter.result()  # authorization errors surface here, as in getmany

    def _drain(self, fetcher: Any) -> Fetched:
        fetched: Fetched = []
        buffered = fetcher._records
        for tp in list(buffered):
            result = buffered[tp]
            if result.check_assignment(tp) and result.has_more():
                records = _unpack(result._partition_records)
                result._update_position()
                if records:
                    fetched.append((tp, records))
            del buffered[tp]
            fetcher._notify(fetcher._wait_consume_future)  # fetch this partition again
        return fetched


def _unpack(partition: Any) -> list[KafkaRecord]:
    """A partition's buffered records, as aiokafka's PartitionRecords._unpack_records
    filters them, in whole batches."""
    records: list[KafkaRecord] = []
    batches = partition._records
    read_committed = partition._isolation_level == READ_COMMITTED
    while batches.has_next():
        batch = batches.next_batch()
        if partition._check_crcs and not batch.validate_crc():
            raise CorruptRecordException(f"Invalid CRC - {partition._tp}")
        if read_committed and batch.producer_id is not None:
            partition._consume_aborted_up_to(batch.base_offset)
            if batch.is_control_batch and partition._contains_abort_marker(batch):
                partition._aborted_producers.discard(batch.producer_id)
            if batch.is_transactional and batch.producer_id in partition._aborted_producers:
                partition.next_fetch_offset = batch.next_offset
                continue
        if batch.is_control_batch:
            partition.next_fetch_offset = batch.next_offset
            continue
        start = partition.next_fetch_offset
        if batch.base_offset >= start:
            records.extend(batch)  # iterated in C
        else:  # a batch that starts before the position asked for
            records.extend([record for record in batch if record.offset >= start])
        partition.next_fetch_offset = batch.next_offset
    return records
