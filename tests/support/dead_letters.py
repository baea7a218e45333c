"""Reading a dead-letter topic from its start for the records a test is waiting for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

from herald_common.consumed import ConsumedRecord
from herald_common.kafka import connection_options
from herald_common.settings import KafkaSettings, TopicSettings
from tests.support.topic_reader import topic_partitions


async def dead_letters(
    bootstrap: str,
    topic: str,
    count: int,
    wanted: Callable[[Any], bool] = lambda record: True,
    timeout: float = 60,
) -> list[Any]:
    """The first `count` records of `topic`'s dead-letter topic that are `wanted`.

    Other tests of the session dead-letter to the same topic, so a test says which
    records are its own instead of counting from the start.
    """
    consumer = AIOKafkaConsumer(
        TopicSettings.dead_letter(topic),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:

        async def collect() -> None:
            async for record in consumer:
                if wanted(record):
                    records.append(record)
                    if len(records) == count:
                        return

        await asyncio.wait_for(collect(), timeout)
    finally:
        await consumer.stop()
    return records


async def every_dead_letter(
    kafka: KafkaSettings, topic: str, wanted: Callable[[Any], bool] = lambda record: True
) -> list[Any]:
    """Every record of `topic`'s dead-letter topic, up to where it ends now, that is `wanted`.

    For counting: what is there now is all there is (the writers are known to be done).
    """
    consumer = AIOKafkaConsumer(
        **connection_options(kafka), enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        partitions = await topic_partitions(kafka, TopicSettings.dead_letter(topic))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=500)
                records.extend(r for r in batch.get(tp, []) if wanted(r))
    finally:
        await consumer.stop()
    return records


class RecordedClaims:
    """Stands in for ClaimedDeadLetters in unit tests: every record is this reader's to
    send, and what would be sent is kept, with its reason."""

    def __init__(self) -> None:
        self.sent: list[tuple[ConsumedRecord, str]] = []

    async def publish(self, record: ConsumedRecord, reason: str) -> bool:
        self.sent.append((record, reason))
        return True
