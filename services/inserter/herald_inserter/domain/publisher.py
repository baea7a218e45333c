"""Publishing: one event per employee, keyed by department, and completion events.

Records are grouped by partition and sent as whole batches (create_batch/send_batch):
many concurrent `send()` calls cost several times more per record in aiokafka.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_PROGRESS,
    CONTENT_TYPE,
    SOURCE_INSERTER,
    AllocationCompleted,
    AllocationProgress,
    encode,
    envelope,
)
from herald_common.notifications import EventTemplate
from herald_inserter.domain.inbox_writer import IssuedNotification

logger = logging.getLogger(__name__)

_HEADERS = [("content-type", CONTENT_TYPE.encode())]


class EventPublisher:
    def __init__(self, producer: AIOKafkaProducer, *, completed_topic: str) -> None:
        self._producer = producer
        self._completed_topic = completed_topic
        self._partitioner = DefaultPartitioner()

    async def publish_notifications(
        self,
        topic: str,
        notifications: Iterable[IssuedNotification],
        *,
        kind: str,
        source: str,
        created_at: datetime,
    ) -> int:
        """Publish and wait until Kafka acknowledged every record; returns how many."""
        partitions = sorted(await self._producer.partitions_for(topic))
        template = EventTemplate(kind=kind, source=source, created_at=created_at)
        route: dict[str, tuple[int, bytes]] = {}  # department -> (partition, key)
        by_partition: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
        for n in notifications:
            found = route.get(n.department)
            if found is None:
                key = n.department.encode()
                found = route[n.department] = (
                    self._partitioner(key, partitions, partitions),
                    key,
                )
            partition, key = found
            by_partition[partition].append(
                (key, template.render(n.notification_id, n.employee_id, n.payload_json))
            )

        deliveries: list[asyncio.Future[object]] = []
        total = 0
        for partition, records in by_partition.items():
            batch = self._producer.create_batch()
            for key, value in records:
                if batch.append(key=key, value=value, timestamp=None, headers=_HEADERS) is None:
                    deliveries.append(
                        await self._producer.send_batch(batch, topic, partition=partition)
                    )
                    batch = self._producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=_HEADERS)
            deliveries.append(await self._producer.send_batch(batch, topic, partition=partition))
            total += len(records)
        await asyncio.gather(*deliveries)
        return total

    async def publish_completed(self, completed: AllocationCompleted) -> str:
        """Publish the allocation's outcome; returns the event's id."""
        event_id = f"{completed.allocation_id}:{completed.status}"
        event = envelope(
            event_id=event_id,
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
        return event_id

    async def publish_progress(self, progress: AllocationProgress) -> None:
        """Send a progress event without waiting for Kafka's acknowledgement.

        Progress only informs people watching; it must never slow or fail an allocation.
        It has the completion's key, so it lands in the same partition, before the
        completion, which is sent and awaited later.
        """
        event = envelope(
            event_id=f"{progress.allocation_id}:progress:{progress.phase}",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_PROGRESS,
            subject=str(progress.allocation_id),
            data=progress,
        )
        try:
            sent = await self._producer.send(
                self._completed_topic,
                key=str(progress.allocation_id).encode(),
                value=encode(event),
                headers=_HEADERS,
            )
        except Exception:
            logger.warning("progress of allocation %s not sent", progress.allocation_id)
            return
        sent.add_done_callback(_log_unsent_progress)


def _log_unsent_progress(sent: asyncio.Future[object]) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        logger.warning("a progress event was not delivered: %s", sent.exception())
