"""Kafka -> this replica's sockets. Every replica reads every partition of its topics live
(no group, from the end), as the notifier does: what a socket missed comes from the inbox.

- the broadcast topic: events for channels, presence changes, terminations;
- the per-employee topics: Herald's notifications, for private-employee-<id> and
  private-department-<name>, followed by the employee's unread count;
- the completions topic: an allocation's progress, for private-allocation-<id>.

A record this replica cannot handle is dead-lettered, with its reason, and the loop reads
on. Every replica meets every record, and the notifiers read the per-employee topics and
the completions too: the record is claimed in PostgreSQL first (dead_letter_claims), so
one reader in all sends it (docs/decisions/0041, 0063, 0065). The wording of a rejection
follows the notifier's, whichever of them sends it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer
from pydantic import TypeAdapter, ValidationError

from herald_channels.domain import protocol
from herald_channels.domain.hub import Hub
from herald_channels.domain.inbox import ChannelInbox
from herald_channels.domain.protocol import MEMBER_ADDED, MEMBER_REMOVED
from herald_channels.domain.triggers import notification_message
from herald_channels.metrics import ChannelsMetrics
from herald_common.consumed import ConsumedRecord, KafkaRecord
from herald_common.dead_letter import describe
from herald_common.dead_letter_claims import ClaimedDeadLetters
from herald_common.events import CloudEvent, EmployeeAddressed
from herald_common.kafka import assign_from_end
from herald_common.pusher.broadcast import from_record
from herald_common.record_checks import record_problem
from herald_common.routing import InvalidRouting, department_visible, read_routing
from herald_common.stream_frames import UNREAD_COUNT

logger = logging.getLogger(__name__)

_EMPLOYEE_EVENT = TypeAdapter(CloudEvent[EmployeeAddressed])
_MEMBER_EVENTS = frozenset({MEMBER_ADDED, MEMBER_REMOVED})


class InvalidRecord(Exception):
    """A record this replica cannot handle; its message is the dead letter's reason."""


class UnreadCounts:
    """Each employee whose notification went out hears their unread count after it; a burst
    is counted once per round."""

    def __init__(self, hub: Hub, inbox: ChannelInbox, interval_seconds: float = 0.2) -> None:
        self._hub, self._inbox, self._interval = hub, inbox, interval_seconds
        self._marked: asyncio.Queue[str] = asyncio.Queue()

    def mark(self, employee_id: str) -> None:
        self._marked.put_nowait(employee_id)

    async def run(self) -> None:
        while True:
            batch = {await self._marked.get()}
            while not self._marked.empty():
                batch.add(self._marked.get_nowait())
            for employee_id in batch:
                channel = f"private-employee-{employee_id}"
                if not self._hub.has(channel):
                    continue
                unread = await self._inbox.unread(employee_id)
                self._hub.send(channel, protocol.message(UNREAD_COUNT, {"unread": unread}, channel))
            await asyncio.sleep(self._interval)


class ChannelsConsumer:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        *,
        broadcast_topic: str,
        employee_topics: Mapping[str, str],
        progress_topic: str,
        hub: Hub,
        unread: UnreadCounts,
        metrics: ChannelsMetrics,
        dead_letters: ClaimedDeadLetters,
        max_record_bytes: int,
    ) -> None:
        self._consumer = consumer
        self._broadcast_topic = broadcast_topic
        self._employee_topics = dict(employee_topics)
        self._progress_topic = progress_topic
        self._topics = [broadcast_topic, *self._employee_topics, progress_topic]
        self._hub = hub
        self._unread = unread
        self._metrics = metrics
        self._dead_letters = dead_letters
        self._max_record_bytes = max_record_bytes
        # Records to dead-letter (topic, partition, record, reason), each until it is sent:
        # a run that failed sending (PostgreSQL or Kafka away) leaves the rest to the next.
        self._rejected: deque[tuple[str, int, KafkaRecord, str]] = deque()
        self.ready = asyncio.Event()

    async def start(self, partitions_for: Callable[[str], Awaitable[set[int]]]) -> None:
        await assign_from_end(self._consumer, self._topics, partitions_for)
        self.ready.set()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def run(self) -> None:
        await self._dead_letter_rejected()
        while True:
            fetched = await self._consumer.getmany(timeout_ms=1000)
            for tp, records in fetched.items():
                for record in records:
                    reason = self.handle(tp.topic, tp.partition, record)
                    if reason is not None:
                        self._rejected.append((tp.topic, tp.partition, record, reason))
            await self._dead_letter_rejected()
            await asyncio.sleep(0)

    def handle(self, topic: str, partition: int, record: KafkaRecord) -> str | None:
        """Hand the record to the sockets; why it cannot be, or None once it is."""
        try:
            problem = record_problem(record.value, record.headers, self._max_record_bytes)
            if problem is not None:
                return problem
            self._dispatch(topic, record)
        except InvalidRecord as exc:
            return str(exc)
        except Exception as exc:
            # What no check foresaw: escaping here would end the run and drop the rest of
            # the fetch. The exception is the reason.
            logger.exception("record %s[%d]@%d", topic, partition, record.offset)
            return describe(exc)
        return None

    async def _dead_letter_rejected(self) -> None:
        while self._rejected:
            topic, partition, record, reason = self._rejected[0]
            sent = await self._dead_letters.publish(
                ConsumedRecord.from_kafka(topic, partition, record), reason
            )
            self._rejected.popleft()
            if sent:
                self._metrics.dead_letters.inc()

    def _dispatch(self, topic: str, record: KafkaRecord) -> None:
        if topic == self._broadcast_topic:
            self._broadcast(record.value)
        elif topic == self._progress_topic:
            self._progress(record.value)
        else:
            self._notification(self._employee_topics[topic], record)

    def _broadcast(self, value: bytes | None) -> None:
        if value is None:
            raise InvalidRecord("record has no value")
        try:
            broadcast = from_record(value)
        except ValidationError as exc:
            raise InvalidRecord(f"invalid channel broadcast: {exc.errors()[:5]}") from exc
        self._metrics.broadcasts.inc()
        if broadcast.event in _MEMBER_EVENTS and broadcast.data is not None:
            self._presence(broadcast.channels, broadcast.event, broadcast.data)
            return
        if broadcast.event is not None and broadcast.data is not None:
            for channel in broadcast.channels:
                if self._hub.has(channel):
                    text = protocol.message(
                        broadcast.event, broadcast.data, channel, broadcast.user_id
                    )
                    self._hub.send(channel, text, broadcast.exclude_socket_id)
            return
        for connection in self._hub.users_connections(broadcast.user_id or ""):
            connection.send(protocol.error(protocol.Code.UNAUTHORIZED, "connection terminated"))
            connection.close(protocol.Code.UNAUTHORIZED, "terminated")

    def _presence(self, channels: list[str], event: str, data: str) -> None:
        user_id = json.loads(data)["user_id"]
        added = event == MEMBER_ADDED
        for channel in channels:
            text = protocol.message(event, data, channel)
            for connection in self._hub.subscribers(channel):
                connection.presence_change(channel, added, user_id, text)

    def _progress(self, value: bytes | None) -> None:
        if value is None:
            raise InvalidRecord("record has no value")
        try:
            raw = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise InvalidRecord(f"record is not JSON: {exc!r}"[:500]) from exc
        data = raw.get("data") if isinstance(raw, dict) else None
        if not isinstance(data, dict):
            raise InvalidRecord("invalid allocation event: not a CloudEvent with data")
        allocation_id = data.get("allocation_id")
        channel = f"private-allocation-{allocation_id}"
        if self._hub.has(channel):
            self._hub.send(channel, protocol.message(str(raw.get("type")), value.decode(), channel))

    def _notification(self, event_type: str, record: KafkaRecord) -> None:
        value = record.value
        if value is None:
            raise InvalidRecord("record has no value")
        try:
            routing = read_routing(record.headers, event_type)
        except InvalidRouting as exc:
            raise InvalidRecord(str(exc)) from exc
        if routing is not None and record.key is not None:
            notification_id, employee_id = routing.notification_id, routing.employee_id
            department = record.key.decode()
        else:
            try:
                event = _EMPLOYEE_EVENT.validate_json(value)
            except ValidationError as exc:
                raise InvalidRecord(f"invalid per-employee event: {exc.errors()[:5]}") from exc
            if not event.id.isdigit():
                raise InvalidRecord(f"event id {event.id!r} is not a notification id")
            notification_id, employee_id = int(event.id), event.data.employee_id
            department, event_type = event.data.department, event.type
        own = f"private-employee-{employee_id}"
        channels = [own]
        # A department's channel carries only what its watchers may see (0051).
        if department_visible(record.headers, event_type):
            channels.append(f"private-department-{department}")
        delivered = 0
        for channel in channels:
            if self._hub.has(channel):
                text = notification_message(event_type, value, channel)
                for connection in self._hub.subscribers(channel):
                    connection.offer(channel, notification_id, text)
                    delivered += 1
        if delivered:
            self._metrics.deliveries.labels("live").inc(delivered)
        if self._hub.has(own):
            self._unread.mark(employee_id)
