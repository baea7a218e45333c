"""The notifier's consumer hands a fetch to the streams partition by partition: once a
dispatch has held the loop for its budget, a stream writes its department's events before
the next partition is dispatched (decisions 0073, 0095); a fetch's small partitions go out
together."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition

from herald_notifier.domain.consumer import EventConsumer, Feed
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.metrics import NotifierMetrics
from tests.support.notifier_consumer import Fetch, Fetches, routed


async def _seen_by_sales(yield_after_seconds: float) -> list[tuple[list[int | None], int]]:
    """What Sales' stream wrote, and how many of Support's events were offered by then,
    when Sales' partition and then Support's come in one fetch."""
    registry = Registry()
    sales, support = Subscriber("E1", "Sales", 10), Subscriber("E2", "Support", 10)
    registry.add(sales)
    registry.add(support)
    fetched = [
        (TopicPartition("v", 0), [routed(0, "Sales", "E1", 1), routed(1, "Sales", "E1", 2)]),
        (TopicPartition("v", 1), [routed(0, "Support", "E2", 3)]),
    ]
    consumer = EventConsumer(
        # No Kafka consumer: the lag is not asked for before the fetch is dispatched.
        [Feed(None, Fetches([fetched]), ("v", "p"))],  # type: ignore[arg-type]
        employee_topics={"v": "herald.voucher.allocated"},
        progress_topic="p",
        registry=registry,
        dead_letters=None,  # type: ignore[arg-type]
        metrics=NotifierMetrics(),
        max_record_bytes=1 << 20,
        yield_after_seconds=yield_after_seconds,
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
    assert taken is not None
    assert [d.event_id for d in taken] == [3]
    return seen_by_sales


async def test_a_stream_gets_its_partitions_events_before_the_next_partition_once_the_budget_is_spent():
    # Both of its events, in one batch; Support's not yet offered.
    assert await _seen_by_sales(yield_after_seconds=0) == [([1, 2], 0)]


async def test_a_fetchs_partitions_are_dispatched_together_within_the_budget():
    # Both of its events, in one batch; Support's already offered, with no yield between.
    assert await _seen_by_sales(yield_after_seconds=3600) == [([1, 2], 1)]


class _CountedLag:
    """A consumer whose lag reads are counted (each reads the assignment once)."""

    def __init__(self) -> None:
        self.reads = 0

    def assignment(self) -> set[TopicPartition]:
        self.reads += 1
        return set()


async def _lag_reads(fetches: list[Fetch]) -> int:
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 100))
    kafka = _CountedLag()
    records = Fetches(fetches)
    consumer = EventConsumer(
        [Feed(kafka, records, ("v", "p"))],  # type: ignore[arg-type]
        employee_topics={"v": "herald.voucher.allocated"},
        progress_topic="p",
        registry=registry,
        dead_letters=None,  # type: ignore[arg-type]
        metrics=NotifierMetrics(),
        max_record_bytes=1 << 20,
        lag_interval_seconds=3600,
    )
    running = asyncio.create_task(consumer.run())
    await asyncio.wait_for(records.done.wait(), 5)
    running.cancel()
    return kafka.reads


async def test_the_lag_is_read_once_an_interval_while_records_keep_coming():
    tp = TopicPartition("v", 0)
    fetches = [[(tp, [routed(n, "Sales", "E1", n + 1)])] for n in range(5)]
    assert await _lag_reads(fetches) == 1


async def test_the_lag_is_read_after_every_fetch_that_brought_nothing():
    tp = TopicPartition("v", 0)
    fetches = [[(tp, [routed(0, "Sales", "E1", 1)])], [], []]
    assert await _lag_reads(fetches) == 3
