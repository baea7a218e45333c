"""Publishing: one event per employee, keyed by department, and completion events.

Records are grouped by partition and sent as whole batches (create_batch/send_batch):
many concurrent `send()` calls cost several times more per record in aiokafka. Every
method runs inside the caller's `TransactionalProducer.transaction()`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from aiokafka.partitioner import DefaultPartitioner

from herald_common.events import (
    ALLOCATION_COMPLETED,
    CONTENT_TYPE,
    SOURCE_INSERTER,
    AllocationCompleted,
    encode,
    envelope,
)
from herald_common.notifications import notification_event, previous_id_header
from herald_inserter.domain.inbox_writer import IssuedNotification
from herald_inserter.domain.transactions import TransactionalProducer

_HEADERS = [("content-type", CONTENT_TYPE.encode())]


class EventPublisher:
    def __init__(self, producer: TransactionalProducer, *, completed_topic: str) -> None:
        self._producer = producer
        self._completed_topic = completed_topic
        self._partitioner = DefaultPartitioner()

    def transaction(self) -> AbstractAsyncContextManager[object]:
        """What is published inside becomes visible at once, or never."""
        return self._producer.transaction()

    async def publish_notifications(
        self,
        topic: str,
        notifications: Iterable[IssuedNotification],
        *,
        kind: str,
        source: str,
        created_at: datetime,
    ) -> int:
        """Send and wait until Kafka acknowledged every record; returns how many.

        Acknowledged is not yet visible: the records count once the transaction commits.
        """
        partitions = sorted(await self._producer.partitions_for(topic))
        partition_of: dict[str, int] = {}
        by_partition: dict[int, list[tuple[bytes, bytes, list[tuple[str, bytes]]]]]
        by_partition = defaultdict(list)
        for n in notifications:
            partition = partition_of.get(n.department)
            if partition is None:
                partition = self._partitioner(n.department.encode(), partitions, partitions)
                partition_of[n.department] = partition
            value = notification_event(
                notification_id=n.notification_id,
                kind=kind,
                source=source,
                employee_id=n.employee_id,
                created_at=created_at,
                payload=n.payload,
            )
            headers = _HEADERS
            if n.previous_id is not None:
                headers = [*_HEADERS, previous_id_header(n.previous_id)]
            by_partition[partition].append((n.department.encode(), value, headers))

        deliveries: list[asyncio.Future[object]] = []
        total = 0
        for partition, records in by_partition.items():
            batch = self._producer.create_batch()
            for key, value, headers in records:
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    deliveries.append(
                        await self._producer.send_batch(batch, topic, partition=partition)
                    )
                    batch = self._producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=headers)
            deliveries.append(await self._producer.send_batch(batch, topic, partition=partition))
            total += len(records)
        await asyncio.gather(*deliveries)
        return total

    async def publish_completed(self, completed: AllocationCompleted) -> None:
        event = envelope(
            event_id=f"{completed.allocation_id}:{completed.status}",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_COMPLETED,
            subject=str(completed.allocation_id),
            data=completed,
        )
        await self._producer.send_and_wait(
            self._completed_topic,
            key=str(completed.allocation_id).encode(),
            value=encode(event),
            headers=_HEADERS,
        )
