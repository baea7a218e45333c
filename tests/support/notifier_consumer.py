"""The notifier's EventConsumer for unit tests: one voucher topic "v", progress topic "p",
and whatever fakes a test hands in for the parts it looks at; records as the batch parser
makes them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from herald_common.routing import EMPLOYEE_ID_HEADER, NOTIFICATION_ID_HEADER
from herald_notifier.domain.consumer import EventConsumer, Feed
from herald_notifier.domain.registry import Registry
from herald_notifier.metrics import NotifierMetrics


def event_consumer(
    consumer: Any,
    registry: Registry,
    *,
    dead_letters: Any = None,
    records: Any = None,
    max_record_bytes: int = 1 << 20,
) -> EventConsumer:
    return EventConsumer(
        [Feed(consumer, records, ("v", "p"))],
        employee_topics={"v": "herald.voucher.allocated"},
        progress_topic="p",
        registry=registry,
        dead_letters=dead_letters,
        metrics=NotifierMetrics(),
        max_record_bytes=max_record_bytes,
    )


@dataclass
class Record:
    """A fetched record: what the consumer reads of aiokafka's."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


def routed(offset: int, department: str, employee: str, notification_id: int) -> Record:
    """A per-employee event with its routing headers, keyed by its department."""
    return Record(
        offset,
        department.encode(),
        b'{"id": "%d"}' % notification_id,
        [
            (NOTIFICATION_ID_HEADER, b"%d" % notification_id),
            (EMPLOYEE_ID_HEADER, employee.encode()),
        ],
    )


Fetch = list[tuple[TopicPartition, list[Record]]]


class Fetches:
    """A record reader that hands out the given fetches one after the other, then waits
    until cancelled: `done` is set once they are all handed out, `cancelled` once the
    wait is cancelled."""

    def __init__(self, fetches: list[Fetch]) -> None:
        self._fetches = fetches
        self.done = asyncio.Event()
        self.cancelled = False

    async def get(self, wait_seconds: float) -> Fetch:
        if not self._fetches:
            self.done.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        return self._fetches.pop(0)
