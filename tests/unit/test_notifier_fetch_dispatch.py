"""The notifier's consumer hands a fetch to the streams partition by partition: a stream
writes its department's events before the next partition is dispatched (decision 0073)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from herald_common.routing import EMPLOYEE_ID_HEADER, NOTIFICATION_ID_HEADER
from herald_notifier.domain.consumer import EventConsumer
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.metrics import NotifierMetrics


@dataclass
class _Record:
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


def _record(offset: int, department: str, employee: str, notification_id: int) -> _Record:
    return _Record(
        offset,
        department.encode(),
        b'{"id": "%d"}' % notification_id,
        [
            (NOTIFICATION_ID_HEADER, b"%d" % notification_id),
            (EMPLOYEE_ID_HEADER, employee.encode()),
        ],
    )


class _OneFetch:
    """Hands out one fetch, then nothing (waits until cancelled)."""

    def __init__(self, fetched: list[tuple[TopicPartition, list[_Record]]]) -> None:
        self._fetched: list[tuple[TopicPartition, list[_Record]]] | None = fetched

    async def get(self, wait_seconds: float) -> list[tuple[TopicPartition, list[_Record]]]:
        if self._fetched is None:
            await asyncio.Event().wait()
        fetched, self._fetched = self._fetched, None
        assert fetched is not None
        return fetched


async def test_a_stream_gets_its_partitions_events_before_the_next_partition_is_dispatched():
    registry = Registry()
    sales, support = Subscriber("E1", "Sales", 10), Subscriber("E2", "Support", 10)
    registry.add(sales)
    registry.add(support)
    fetched = [
        (TopicPartition("v", 0), [_record(0, "Sales", "E1", 1), _record(1, "Sales", "E1", 2)]),
        (TopicPartition("v", 1), [_record(0, "Support", "E2", 3)]),
    ]
    consumer = EventConsumer(
        None,  # type: ignore[arg-type]  # the lag is not asked for before the fetch is dispatched
        employee_topics={"v": "herald.voucher.allocated"},
        progress_topic="p",
        registry=registry,
        dead_letters=None,  # type: ignore[arg-type]
        metrics=NotifierMetrics(),
        records=_OneFetch(fetched),  # type: ignore[arg-type]
        max_record_bytes=1 << 20,
    )
    seen_by_sales: list[tuple[list[int | None], int]] = []

    async def sales_writer() -> None:
        batch: list[Delivery] | None = await sales.take()
        assert batch is not None
        # What the other partition's stream holds at the moment this one writes.
        seen_by_sales.append(([d.event_id for d in batch], len(support._pending)))

    writer = asyncio.create_task(sales_writer())
    await asyncio.sleep(0)  # the writer waits on its subscriber
    running = asyncio.create_task(consumer.run())
    await asyncio.wait_for(writer, 5)
    taken = await asyncio.wait_for(support.take(), 5)
    running.cancel()
    assert seen_by_sales == [([1, 2], 0)]  # both of its events, in one batch; Support's not yet
    assert taken is not None
    assert [d.event_id for d in taken] == [3]


class _Fetches:
    """Hands out the given fetches one after the other, then waits until cancelled."""

    def __init__(self, fetches: list[list[tuple[TopicPartition, list[_Record]]]]) -> None:
        self._fetches = fetches
        self.done = asyncio.Event()

    async def get(self, wait_seconds: float) -> list[tuple[TopicPartition, list[_Record]]]:
        if not self._fetches:
            self.done.set()
            await asyncio.Event().wait()
        return self._fetches.pop(0)


class _CountedLag:
    """A consumer whose lag reads are counted (each reads the assignment once)."""

    def __init__(self) -> None:
        self.reads = 0

    def assignment(self) -> set[TopicPartition]:
        self.reads += 1
        return set()


async def _lag_reads(fetches: list[list[tuple[TopicPartition, list[_Record]]]]) -> int:
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 100))
    kafka = _CountedLag()
    records = _Fetches(fetches)
    consumer = EventConsumer(
        kafka,  # type: ignore[arg-type]
        employee_topics={"v": "herald.voucher.allocated"},
        progress_topic="p",
        registry=registry,
        dead_letters=None,  # type: ignore[arg-type]
        metrics=NotifierMetrics(),
        records=records,  # type: ignore[arg-type]
        max_record_bytes=1 << 20,
        lag_interval_seconds=3600,
    )
    running = asyncio.create_task(consumer.run())
    await asyncio.wait_for(records.done.wait(), 5)
    running.cancel()
    return kafka.reads


async def test_the_lag_is_read_once_an_interval_while_records_keep_coming():
    tp = TopicPartition("v", 0)
    fetches = [[(tp, [_record(n, "Sales", "E1", n + 1)])] for n in range(5)]
    assert await _lag_reads(fetches) == 1


async def test_the_lag_is_read_after_every_fetch_that_brought_nothing():
    tp = TopicPartition("v", 0)
    fetches = [[(tp, [_record(0, "Sales", "E1", 1)])], [], []]
    assert await _lag_reads(fetches) == 3
