"""Kafka -> registry. Every replica reads every partition, so any replica serves any client.

The per-employee topics (vouchers, generic pushes) share one shape: a CloudEvent whose id
is the notification id and whose data names the employee and their department.

The consumer has no group: partitions are assigned by hand and reading starts at the end,
because a stream that missed something catches up from the inbox, not from Kafka.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from herald_common.dead_letter import DeadLetterPublisher, FailedRecord
from herald_common.events import (
    ALLOCATION_PROGRESS,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationProgress,
    CloudEvent,
    EmployeeAddressed,
)
from herald_common.notifications import parse_previous_id
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.unread import UnreadCounter
from herald_notifier.metrics import NotifierMetrics

logger = logging.getLogger(__name__)


class InvalidEvent(Exception):
    pass


def decode_delivery(value: bytes | None, headers: Iterable[tuple[str, bytes]] = ()) -> Delivery:
    if value is None:
        raise InvalidEvent("record has no value")
    try:
        event = CloudEvent[EmployeeAddressed].model_validate_json(value)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid per-employee event: {exc.errors()[:5]}") from exc
    if not event.id.isdigit():
        raise InvalidEvent(f"event id {event.id!r} is not a notification id")
    allocation_id = None
    if event.type == VOUCHER_ALLOCATED and event.data.model_extra:
        found = event.data.model_extra.get("allocation_id")
        allocation_id = found if isinstance(found, str) else None
    return Delivery(
        event_id=int(event.id),
        event_type=event.type,
        employee_id=event.data.employee_id,
        department=event.data.department,
        data=value.decode(),
        allocation_id=allocation_id,
        previous_id=parse_previous_id(headers),
    )


def decode_progress(value: bytes | None) -> tuple[str, Delivery]:
    """An allocation's progress or completion, for the watchers of its progress channel."""
    if value is None:
        raise InvalidEvent("record has no value")
    try:
        raw = json.loads(value)
        kind = raw.get("type") if isinstance(raw, dict) else None
        event: CloudEvent[AllocationProgress] | CloudEvent[AllocationCompleted]
        if kind == ALLOCATION_PROGRESS:
            event = CloudEvent[AllocationProgress].model_validate(raw)
        else:
            event = CloudEvent[AllocationCompleted].model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid {kind or 'allocation'} event: {exc.errors()[:5]}") from exc
    except ValueError as exc:
        raise InvalidEvent(f"record is not JSON: {exc}") from exc
    allocation_id = str(event.data.allocation_id)
    return allocation_id, Delivery(None, event.type, "", "", value.decode())


def _failed(record: ConsumerRecord[bytes, bytes]) -> FailedRecord:
    return FailedRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=tuple((k, bytes(v)) for k, v in record.headers),
    )


class EventConsumer:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        *,
        employee_topics: list[str],
        progress_topic: str,
        registry: Registry,
        unread: UnreadCounter,
        dead_letters: DeadLetterPublisher,
        metrics: NotifierMetrics,
        tally: DeliveryTally | None = None,
    ) -> None:
        self._consumer = consumer
        self._topics = [*employee_topics, progress_topic]
        self._progress_topic = progress_topic
        self._registry = registry
        self._unread = unread
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._tally = tally
        self.ready = asyncio.Event()

    async def start(self, partitions_for: Callable[[str], Awaitable[set[int]]]) -> None:
        """Assign every partition and position at the end; live from here on.

        `partitions_for` is a producer's metadata lookup: it waits for a topic created
        moments ago, which the consumer's own metadata (tracking no topics) does not.
        """
        await self._consumer.start()
        assignment = [
            TopicPartition(topic, partition)
            for topic in self._topics
            for partition in sorted(await partitions_for(topic))
        ]
        self._consumer.assign(assignment)
        await self._consumer.seek_to_end(*assignment)
        for tp in assignment:
            await self._consumer.position(tp)
        self.ready.set()

    async def run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=1000, max_records=10_000)
            for records in batches.values():
                for record in records:
                    await self._handle(record)
            self._metrics.consumer_lag.set(await self._lag())

    async def _lag(self) -> int:
        lag = 0
        for tp in self._consumer.assignment():
            # read_committed reads up to the last stable offset, not the high watermark.
            end = self._consumer.last_stable_offset(tp)
            if end is None:
                end = self._consumer.highwater(tp)
            if end is not None:
                lag += max(0, end - await self._consumer.position(tp))
        return lag

    async def _handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self._metrics.events_consumed.inc()
        try:
            if record.topic == self._progress_topic:
                allocation_id, progress = decode_progress(record.value)
                self._registry.dispatch_allocation(allocation_id, progress)
                return
            delivery = decode_delivery(record.value, record.headers)
        except InvalidEvent as exc:
            await self._dead_letters.publish(_failed(record), str(exc))
            self._metrics.dead_letters.inc()
            return
        taken = self._registry.dispatch(delivery)
        if taken:
            self._metrics.deliveries.labels("live").inc(taken)
            if delivery.allocation_id is not None and self._tally is not None:
                self._tally.delivered(delivery)
        self._unread.mark(delivery.employee_id)

    async def stop(self) -> None:
        await self._consumer.stop()
