"""Kafka -> registry. A replica reads every partition, so it serves any client, or the
partitions of its share, and then serves the streams of its share's departments
(herald_common.affinity, docs/decisions/0078). The progress topic is read whole by all.

The per-employee topics (vouchers, generic pushes) share one shape: a CloudEvent whose id
is the notification id and whose data names the employee and their department.

The consumer has no group: partitions are assigned by hand and reading starts at the end,
because a stream that missed something catches up from the inbox, not from Kafka. So every
replica meets every bad record; one of them dead-letters it (`dead_letter_claims`).

`run` is restarted after a failure (herald_common.supervisor) and goes on from where the
failed run stopped: the position is the consumer's own, so what arrived while the task was
down is read then (starting from the end again would drop it), and records still to be
dead-lettered are sent first. Records of the failed fetch not yet dispatched are not read
again (reading a record that failed again would fail again); a stream that missed one
reads it from the inbox when the next event names it as previous, or on reconnect
(docs/decisions/0030).

Each topic has a Kafka consumer of its own (a `Feed`), read by a loop of its own: a fetch
request and its response carry every partition of the consumer, and aiokafka builds and
parses both in Python partition by partition, so a topic's live events do not wait on the
idle partitions of the others (docs/decisions/0095).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import TypeAdapter, ValidationError

from herald_common.affinity import Share
from herald_common.consumed import ConsumedRecord, KafkaRecord
from herald_common.dead_letter import describe
from herald_common.dead_letter_claims import ClaimedDeadLetters
from herald_common.events import (
    ALLOCATION_PROGRESS,
    ALLOCATION_STATUS,
    REVOCATION_COMPLETED,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationProgress,
    AllocationStatus,
    CloudEvent,
    EmployeeAddressed,
    RevocationCompleted,
)
from herald_common.gc_tuning import collection_paused
from herald_common.kafka import assign_from_end
from herald_common.notifications import parse_previous_id
from herald_common.record_checks import oversized, record_problem
from herald_common.routing import InvalidRouting, Routing, department_visible, route
from herald_notifier.domain.delivered_marks import DeliveredMarks
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.fetched_records import RecordReader
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.metrics import NotifierMetrics

logger = logging.getLogger(__name__)


class InvalidEvent(Exception):
    pass


_EMPLOYEE_EVENT = TypeAdapter(CloudEvent[EmployeeAddressed])


def decode_delivery(
    value: bytes | None, headers: Iterable[tuple[str, bytes | None]] = ()
) -> Delivery:
    """Decode and validate a whole per-employee CloudEvent (records without routing headers)."""
    if value is None:
        raise InvalidEvent("record has no value")
    try:
        event = _EMPLOYEE_EVENT.validate_json(value)
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
        data=value,
        allocation_id=allocation_id,
        previous_id=parse_previous_id(headers),
        department_visible=department_visible(headers, event.type),
    )


# Literals, so the compiler inlines them (docs/decisions/0093).
_OPEN_BRACE: Final = 0x7B  # {
_CLOSE_BRACE: Final = 0x7D  # }
# Looked for as ints: `10 in value` is one memchr, 0.03 µs over a 569-byte event. CPython
# 3.11 tries a bytes needle as an int first and raises and clears a TypeError before its
# memchr: `b"\n" in value` took 0.41 µs (measured in isolation).
_LF: Final = 0x0A
_CR: Final = 0x0D


def decode_routed(
    routing: Routing, event_type: str, department: str, value: bytes | None
) -> Delivery:
    """A per-employee event from its routing headers, its department (its key) and its
    value as it is.

    The value is not parsed (herald_common.routing); it is checked to be what an SSE `data:`
    line can carry: one line of UTF-8 text holding a JSON object.
    """
    if not value or value[0] != _OPEN_BRACE or value[-1] != _CLOSE_BRACE:
        raise InvalidEvent("per-employee event value is not a JSON object")
    if _LF in value or _CR in value:
        raise InvalidEvent("per-employee event value is not one line of JSON")
    if not value.isascii():
        try:
            value.decode()
        except UnicodeDecodeError as exc:
            raise InvalidEvent("per-employee event value is not UTF-8") from exc
    return Delivery(
        routing.notification_id,
        event_type,
        routing.employee_id,
        department,
        value,
        routing.allocation_id if event_type == VOUCHER_ALLOCATED else None,
        routing.previous_id,
        routing.department_visible,
    )


def decode_progress(value: bytes | None) -> tuple[str, Delivery]:
    """An allocation's status, progress or completion (or a revocation's), for the
    watchers of its progress channel."""
    if value is None:
        raise InvalidEvent("record has no value")
    try:
        raw = json.loads(value)
        kind = raw.get("type") if isinstance(raw, dict) else None
        event: (
            CloudEvent[AllocationProgress]
            | CloudEvent[AllocationCompleted]
            | CloudEvent[AllocationStatus]
            | CloudEvent[RevocationCompleted]
        )
        if kind == ALLOCATION_PROGRESS:
            event = CloudEvent[AllocationProgress].model_validate(raw)
        elif kind == ALLOCATION_STATUS:
            event = CloudEvent[AllocationStatus].model_validate(raw)
        elif kind == REVOCATION_COMPLETED:
            event = CloudEvent[RevocationCompleted].model_validate(raw)
        else:
            event = CloudEvent[AllocationCompleted].model_validate(raw)
    # Each clause names its exception apart: compiled (docs/decisions/0093), a name bound
    # in two clauses takes the first clause's type, and binding the second's can raise TypeError.
    except ValidationError as invalid:
        raise InvalidEvent(
            f"invalid {kind or 'allocation'} event: {invalid.errors()[:5]}"
        ) from invalid
    except (ValueError, RecursionError) as unreadable:
        # RecursionError: JSON nested deeper than the parser's stack ("[" * 100000).
        raise InvalidEvent(f"record is not JSON: {unreadable!r}"[:500]) from unreadable
    allocation_id = str(event.data.allocation_id)
    return allocation_id, Delivery(None, event.type, "", "", value)


def check_record(record: KafkaRecord, max_bytes: int) -> None:
    """Reject a record too large to read, or whose Herald headers make no sense."""
    problem = record_problem(record.value, record.headers, max_bytes)
    if problem is not None:
        raise InvalidEvent(problem)


def decode_record(
    event_type: str, record: KafkaRecord, registry: Registry, max_bytes: int
) -> Delivery | None:
    """A per-employee record's delivery: routed by its headers, or decoded in full.

    The record is checked first as `check_record` does, in the same pass over its headers
    that reads the routing ones. None for a routed record that no stream on this replica
    wants: its headers are checked (malformed ones are dead-lettered), its value only by a
    replica that sends it on. An allocation reaches every employee, most of whom have no
    stream here. A key that is not UTF-8 names no department, so nobody here wants it.
    """
    # Each read once: a record is aiokafka's object, and compiled code reads its
    # attributes the generic way.
    value, headers = record.value, record.headers
    problem = oversized(value, max_bytes)
    if problem is not None:
        raise InvalidEvent(problem)
    try:
        routing = route(headers, event_type)
    except InvalidRouting as invalid:  # named apart: see decode_progress
        raise InvalidEvent(str(invalid)) from invalid
    if routing is None:
        return decode_delivery(value, headers)
    key = record.key
    if key is None:
        raise InvalidEvent("per-employee event has no key (its department)")
    department = registry.wanted_in(key, routing.employee_id, routing.department_visible)
    if department is None:
        return None
    return decode_routed(routing, event_type, department, value)


# The consumer lag is read at most this often while records keep coming, and after every
# fetch that brought none (docs/decisions/0094).
LAG_INTERVAL_SECONDS: Final = 1.0

# A fetch's dispatch gives the loop up between partitions once it has held it this long
# (docs/decisions/0095). A yield after every partition let the next fetch go out before the
# rest of this one was written: at a steady 1,000 events/s, fetches of a few records each,
# 1.5-1.7x the floor's CPU per delivery and a p99 of 6.3-9.1 ms from the Kafka commit.
YIELD_AFTER_SECONDS: Final = 0.002


@dataclass(frozen=True, slots=True)
class Feed:
    """A Kafka consumer, what reads its fetched records, and the topics it reads."""

    consumer: AIOKafkaConsumer
    records: RecordReader
    topics: tuple[str, ...]


class EventConsumer:
    def __init__(
        self,
        feeds: Sequence[Feed],
        *,
        employee_topics: Mapping[str, str],
        progress_topic: str,
        registry: Registry,
        dead_letters: ClaimedDeadLetters,
        metrics: NotifierMetrics,
        max_record_bytes: int,
        tally: DeliveryTally | None = None,
        marks: DeliveredMarks | None = None,
        share: Share | None = None,
        lag_interval_seconds: float = LAG_INTERVAL_SECONDS,
        yield_after_seconds: float = YIELD_AFTER_SECONDS,
    ) -> None:
        # topic -> the CloudEvents type of its per-employee events (the topic is named after it)
        self._event_types = dict(employee_topics)
        wanted = sorted([*self._event_types, progress_topic])
        fed = sorted([topic for feed in feeds for topic in feed.topics])
        if fed != wanted:
            raise ValueError(f"the feeds read {fed}, not each of {wanted} once")
        self._feeds = list(feeds)
        self._lag_interval = lag_interval_seconds
        self._yield_after = yield_after_seconds
        self._share = share or Share()
        self._registry = registry
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._live = metrics.deliveries.labels("live")
        self._tally = tally
        self._marks = marks
        self._max_record_bytes = max_record_bytes
        # Records to dead-letter, each until it is sent: a run that failed sending leaves
        # the rest to the next run. One loop sends them at a time (`_sending`).
        self._rejected: deque[tuple[TopicPartition, KafkaRecord, str]] = deque()
        self._sending = asyncio.Lock()
        # Each feed's last lag read; the gauge shows their sum.
        self._lags = [0] * len(self._feeds)
        self.ready = asyncio.Event()

    async def start(self, partitions_for: Callable[[str], Awaitable[set[int]]]) -> None:
        """Assign the share's partitions and position at the end; live from here on.

        `partitions_for` is a producer's metadata lookup: it waits for a topic created
        moments ago, which the consumer's own metadata (tracking no topics) does not.
        A per-employee topic whose partitions do not divide among the shares stops the
        start (herald_common.affinity.InvalidShare names it).
        """
        read = 0
        for feed in self._feeds:
            assigned = await assign_from_end(
                feed.consumer, feed.topics, partitions_for, self._chosen
            )
            read += sum(1 for tp in assigned if tp.topic in self._event_types)
        self._metrics.partitions_read.set(read)
        self.ready.set()

    def _chosen(self, topic: str, partitions: set[int]) -> list[int]:
        if topic not in self._event_types:  # progress: few records, every stream may watch
            return sorted(partitions)
        return self._share.partitions(topic, partitions)

    async def run(self) -> None:
        """Every feed's loop, until one fails: its error is raised, the others stopped."""
        await self._dead_letter_rejected()
        loops = [asyncio.ensure_future(self._read(index)) for index in range(len(self._feeds))]
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            for loop in done:
                loop.result()
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _read(self, index: int) -> None:
        feed = self._feeds[index]
        fetched_records, consumer = feed.records, feed.consumer
        registry, clock = self._registry, asyncio.get_running_loop().time
        yield_after = self._yield_after
        lag_read_at = -math.inf
        while True:
            fetched = await fetched_records.get(wait_seconds=1.0)
            yielded_at = clock()
            consumed = 0
            fetched.reverse()
            while fetched:
                # Taken off the list, so each partition's records die once dispatched.
                tp, records = fetched.pop()
                consumed += len(records)
                # The records and what is made of them mostly die by the end: no collection
                # pass walks them meanwhile (herald_common.gc_tuning).
                with collection_paused():
                    # Idle streams are written to once the partition is offered, from
                    # here, without waking their tasks (docs/decisions/0088).
                    registry.hold_wakes()
                    try:
                        self._dispatch(tp, records)
                    finally:
                        registry.flush(clock())
                del records
                # A per-employee event's key is its department, so an employee's events of
                # this fetch are all in this partition: their streams have everything now
                # and write it in one write. Once the dispatch has held the loop for its
                # budget, the woken streams write and the rest of the process runs before
                # the next partition (docs/decisions/0073); a fetch's small partitions go out
                # together (0095). Taking fetched records does not suspend.
                if fetched and clock() - yielded_at >= yield_after:
                    await asyncio.sleep(0)
                    yielded_at = clock()
            self._metrics.events_consumed.inc(consumed)
            await self._dead_letter_rejected()
            # Not after every fetch: over the 39 partitions one consumer read before 0095 the
            # lag took 0.11 ms (measured alone), and at 1,000 events/s a fetch every few ms
            # brings a few records.
            now = clock()
            if not consumed or now - lag_read_at >= self._lag_interval:
                self._lags[index] = await _lag(consumer)
                self._metrics.consumer_lag.set(sum(self._lags))
                lag_read_at = now

    def _dispatch(self, tp: TopicPartition, records: list[KafkaRecord]) -> None:
        """Decode one partition's fetched records and offer each to its streams."""
        registry = self._registry
        rejected = self._rejected
        event_type = self._event_types.get(tp.topic)
        taken = 0
        # What some stream took: its tallies are done once per batch.
        taken_by_some: list[Delivery] = []
        for record in records:
            try:
                if event_type is None:
                    check_record(record, self._max_record_bytes)
                    allocation_id, progress = decode_progress(record.value)
                    registry.dispatch_allocation(allocation_id, progress)
                    continue
                delivery = decode_record(event_type, record, registry, self._max_record_bytes)
            except InvalidEvent as invalid:  # named apart: see decode_progress
                rejected.append((tp, record, str(invalid)))
                continue
            except Exception as exc:
                # A record the decoders did not foresee: escaping here would end the
                # run and drop the rest of this fetch. It is dead-lettered, with
                # the exception as the reason, and the loop goes on.
                logger.exception("record %s[%d]@%d", tp.topic, tp.partition, record.offset)
                rejected.append((tp, record, describe(exc)))
                continue
            if delivery is None:
                continue
            streams = registry.dispatch(delivery)
            if streams:
                taken += streams
                taken_by_some.append(delivery)
        self._live.inc(taken)
        if taken_by_some:
            if self._tally is not None:
                self._tally.delivered(taken_by_some)
            if self._marks is not None:
                self._marks.delivered(taken_by_some)

    async def _dead_letter_rejected(self) -> None:
        if not self._rejected:
            return  # the usual case, after every fetch: no lock taken
        # One loop at a time: two would both send the first record, and drop another.
        async with self._sending:
            while self._rejected:
                tp, record, reason = self._rejected[0]
                sent = await self._dead_letters.publish(
                    ConsumedRecord.from_kafka(tp.topic, tp.partition, record), reason
                )
                self._rejected.popleft()
                if sent:
                    self._metrics.dead_letters.inc()

    async def stop(self) -> None:
        """Stop every feed's consumer; the first failure is raised once all have been tried."""
        stopped = await asyncio.gather(
            *[feed.consumer.stop() for feed in self._feeds], return_exceptions=True
        )
        for outcome in stopped:
            if isinstance(outcome, BaseException):
                raise outcome


async def _lag(consumer: AIOKafkaConsumer) -> int:
    """How many records `consumer` has still to read, over its partitions."""
    lag = 0
    for tp in consumer.assignment():
        # read_committed reads up to the last stable offset, not the high watermark.
        end = consumer.last_stable_offset(tp)
        if end is None:
            end = consumer.highwater(tp)
        if end is not None:
            lag += max(0, end - await consumer.position(tp))
    return lag
