"""Reading a per-employee topic as a downstream subscriber would: read_committed, dedup by id."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from herald_common.kafka import connection_options
from herald_common.settings import KafkaSettings


@dataclass
class Tally:
    """What a subscriber that drops duplicate ids got from a topic."""

    records: int = 0
    # id -> how many records carried it
    copies: dict[int, int] = field(default_factory=dict)
    # employee -> ids in the order they first arrived
    first_seen: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def ids(self) -> set[int]:
        return set(self.copies)

    @property
    def duplicates(self) -> int:
        return self.records - len(self.copies)

    def lost(self, expected: Collection[int]) -> int:
        return len(set(expected) - self.ids)

    def out_of_order(self) -> int:
        """Employees whose ids did not first arrive in increasing order."""
        return sum(1 for ids in self.first_seen.values() if ids != sorted(ids))


async def read_everything(
    kafka: KafkaSettings,
    topic: str,
    since: dict[int, int] | None = None,
    timeout: float = 120,
) -> Tally:
    """Every committed record of `topic` from the beginning (or the offsets in `since`, by
    partition) to the current end.

    read_committed: records of aborted transactions are never seen, and the end is the last
    stable offset, so whatever was committed before the call is all in the tally.
    """
    consumer = AIOKafkaConsumer(
        **connection_options(kafka),
        client_id="reliability-subscriber",
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    tally = Tally()
    try:
        partitions = await topic_partitions(kafka, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            if since and tp.partition in since:
                consumer.seek(tp, since[tp.partition])
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > (since or {}).get(tp.partition, 0)}
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end in {timeout}s")
            batches = await consumer.getmany(timeout_ms=500, max_records=20_000)
            for records in batches.values():
                for record in records:
                    tally.records += 1
                    event = json.loads(record.value)
                    event_id = int(event["id"])
                    seen = tally.copies.get(event_id, 0)
                    tally.copies[event_id] = seen + 1
                    if not seen:
                        tally.first_seen[event["data"]["employee_id"]].append(event_id)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return tally


async def committed_events(
    kafka: KafkaSettings, topic: str, since: dict[int, int] | None = None
) -> list[dict[str, Any]]:
    """Every committed event of `topic` after `since`, decoded, in partition order."""
    consumer = AIOKafkaConsumer(
        **connection_options(kafka),
        client_id="reliability-events",
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    events: list[dict[str, Any]] = []
    try:
        partitions = await topic_partitions(kafka, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for tp in partitions:
            if since and tp.partition in since:
                consumer.seek(tp, since[tp.partition])
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=500)
                events.extend(json.loads(r.value) for r in batch.get(tp, []))
    finally:
        await consumer.stop()
    return events


class HighWatermarks:
    """Records appended to a topic so far, committed or not: how far a publish has got.

    With `committed` it is the last stable offsets instead: how far a read_committed
    consumer may read.
    """

    def __init__(self, kafka: KafkaSettings, topic: str, *, committed: bool = False) -> None:
        self._kafka = kafka
        self._topic = topic
        self._consumer = AIOKafkaConsumer(
            **connection_options(kafka),
            client_id="reliability-progress",
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed" if committed else "read_uncommitted",
        )
        self._partitions: list[TopicPartition] = []

    async def __aenter__(self) -> HighWatermarks:
        await self._consumer.start()
        self._partitions = await topic_partitions(self._kafka, self._topic)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def total(self) -> int:
        return sum((await self.by_partition()).values())

    async def by_partition(self) -> dict[int, int]:
        ends = await self._consumer.end_offsets(self._partitions)
        return {tp.partition: offset for tp, offset in ends.items()}


async def high_watermarks(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    """Where each partition ends now: a subscriber joining here sees only what comes next."""
    async with HighWatermarks(kafka, topic) as marks:
        return await marks.by_partition()


async def describe_topic(kafka: KafkaSettings, topic: str) -> dict[str, Any]:
    """The broker's description of `topic`: its partitions, each with leader and replicas."""
    admin = AIOKafkaAdminClient(**connection_options(kafka), client_id="reliability-admin")
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return dict(described)


async def topic_partitions(kafka: KafkaSettings, topic: str) -> list[TopicPartition]:
    described = await describe_topic(kafka, topic)
    partitions = sorted(p["partition"] for p in described["partitions"])
    assert partitions, f"topic {topic} has no partitions"
    return [TopicPartition(topic, p) for p in partitions]
