"""Reading a dead-letter topic from its start for the records a test is waiting for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

from herald_common.settings import TopicSettings


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
