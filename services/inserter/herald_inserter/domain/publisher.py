"""Publishing: one event per employee, keyed by department, and completion events.

Records are grouped by partition and sent as whole batches (create_batch/send_batch):
many concurrent `send()` calls cost several times more per record in aiokafka. Per-employee
and completion events go out inside the caller's `TransactionalProducer.transaction()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from pydantic import BaseModel

from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_PROGRESS,
    CONTENT_TYPE,
    REVOCATION_COMPLETED,
    SOURCE_INSERTER,
    AllocationCompleted,
    AllocationProgress,
    RevocationCompleted,
    encode,
    envelope,
)
from herald_common.notifications import EventTemplate, previous_id_header
from herald_common.routing import (
    ALLOCATION_ID_HEADER,
    DEPARTMENT_VISIBLE,
    EMPLOYEE_ID_HEADER,
    NOTIFICATION_ID_HEADER,
    PRIVATE,
    VISIBILITY_HEADER,
)
from herald_inserter.domain.inbox_writer import IssuedNotification, Visibility
from herald_inserter.domain.transactions import TransactionalProducer

logger = logging.getLogger(__name__)

_HEADERS = [("content-type", CONTENT_TYPE.encode())]


class EventPublisher:
    def __init__(
        self,
        producer: TransactionalProducer,
        *,
        completed_topic: str,
        progress_producer: AIOKafkaProducer,
    ) -> None:
        self._producer = producer
        self._progress_producer = progress_producer
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
        allocation_id: UUID | None = None,
        visibility: Visibility = "private",
    ) -> int:
        """Send and wait until Kafka acknowledged every record; returns how many.

        Acknowledged is not yet visible: the records count once the transaction commits.
        Each record carries routing headers (herald_common.routing) besides the event.
        """
        partitions = sorted(await self._producer.partitions_for(topic))
        template = EventTemplate(kind=kind, source=source, created_at=created_at)
        content_type = _HEADERS[0]
        # Said explicitly on every record, so no reader relies on the default by type.
        visible = (VISIBILITY_HEADER, DEPARTMENT_VISIBLE if visibility == "department" else PRIVATE)
        allocation = None
        if allocation_id is not None:
            allocation = (ALLOCATION_ID_HEADER, str(allocation_id).encode())
        route: dict[str, tuple[int, bytes]] = {}  # department -> (partition, key)
        # One open batch per partition, filled in a single pass and sent when full.
        batches: dict[int, Any] = {}  # aiokafka's BatchBuilder
        deliveries: list[asyncio.Future[object]] = []
        total = 0
        for n in notifications:
            found = route.get(n.department)
            if found is None:
                key = n.department.encode()
                found = route[n.department] = (
                    self._partitioner(key, partitions, partitions),
                    key,
                )
            partition, key = found
            headers = [
                content_type,
                (NOTIFICATION_ID_HEADER, b"%d" % n.notification_id),
                (EMPLOYEE_ID_HEADER, n.employee_id.encode()),
                visible,
            ]
            if n.previous_id is not None:
                headers.append(previous_id_header(n.previous_id))
            if allocation is not None:
                headers.append(allocation)
            value = template.render(n.notification_id, n.employee_id, n.payload_json)
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = self._producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                deliveries.append(
                    await self._producer.send_batch(batch, topic, partition=partition)
                )
                batch = batches[partition] = self._producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=headers)
            total += 1
        for partition, batch in batches.items():
            # Closed, a batch leaves at once; open, it would linger for more records first.
            batch.close()
            deliveries.append(await self._producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*deliveries)
        return total

    async def publish_completed(self, completed: AllocationCompleted) -> str:
        """Publish the allocation's outcome; returns the event's id."""
        event_id = f"{completed.allocation_id}:{completed.status}"
        await self._send_outcome(event_id, ALLOCATION_COMPLETED, completed.allocation_id, completed)
        return event_id

    async def publish_revocation_completed(self, completed: RevocationCompleted) -> None:
        """Publish a revocation's outcome, after the allocation's in its partition."""
        event_id = f"{completed.revocation_id}:{completed.status}"
        await self._send_outcome(event_id, REVOCATION_COMPLETED, completed.allocation_id, completed)

    async def _send_outcome(
        self, event_id: str, event_type: str, allocation_id: UUID, data: BaseModel
    ) -> None:
        event = envelope(
            event_id=event_id,
            source=SOURCE_INSERTER,
            event_type=event_type,
            subject=str(allocation_id),
            data=data,
        )
        await self._producer.send_and_wait(
            self._completed_topic,
            key=str(allocation_id).encode(),
            value=encode(event),
            headers=_HEADERS,
        )

    async def publish_progress(self, progress: AllocationProgress) -> None:
        """Send a progress event without waiting for Kafka's acknowledgement.

        Progress only informs people watching; it must never slow or fail an allocation, so
        it goes through a producer of its own, outside any transaction, and is visible at
        once. It has the completion's key, so it lands in the same partition, before the
        completion, which is sent and awaited later. The last phase goes with the events
        instead (`publish_final_progress`).
        """
        try:
            sent = await self._progress_producer.send(
                self._completed_topic,
                key=str(progress.allocation_id).encode(),
                value=_progress_event(progress),
                headers=_HEADERS,
            )
        except Exception:
            logger.warning("progress of allocation %s not sent", progress.allocation_id)
            return
        sent.add_done_callback(_log_unsent_progress)

    async def publish_final_progress(self, progress: AllocationProgress) -> None:
        """The "published" phase, in the transaction of the events it counts, so that it
        becomes visible with them and ahead of the completion."""
        await self._producer.send_and_wait(
            self._completed_topic,
            key=str(progress.allocation_id).encode(),
            value=_progress_event(progress),
            headers=_HEADERS,
        )


def _progress_event(progress: AllocationProgress) -> bytes:
    step: str = progress.phase
    if progress.phase == "chunk":
        step = f"chunk:{progress.chunks_done}"
    return encode(
        envelope(
            event_id=f"{progress.allocation_id}:progress:{step}",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_PROGRESS,
            subject=str(progress.allocation_id),
            data=progress,
        )
    )


def _log_unsent_progress(sent: asyncio.Future[object]) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        logger.warning("a progress event was not delivered: %s", sent.exception())
