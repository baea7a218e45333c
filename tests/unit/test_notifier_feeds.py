"""The notifier's consumer reads each feed (a Kafka consumer and its topics) in a loop of its
own (decision 0095): one feed waiting does not hold another, a failing loop ends the run with
its error, the lag gauge sums the feeds, and a rejected record is dead-lettered once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import TopicPartition

from herald_notifier.domain.consumer import EventConsumer, Feed
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.metrics import NotifierMetrics
from tests.support.notifier_consumer import Fetch, Fetches, Record, routed

TOPICS = {"v": "herald.voucher.allocated", "w": "herald.push"}


class _Failing:
    async def get(self, wait_seconds: float) -> Fetch:
        raise RuntimeError("the broker went away")


class _Lagging:
    """A Kafka consumer with one partition, `lag` records behind its end."""

    def __init__(self, topic: str, lag: int) -> None:
        self.tp = TopicPartition(topic, 0)
        self.lag = lag
        self.stopped = False

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return 100

    def highwater(self, tp: TopicPartition) -> int:
        return 100

    async def position(self, tp: TopicPartition) -> int:
        return 100 - self.lag

    async def stop(self) -> None:
        self.stopped = True


class _FailingStop(_Lagging):
    async def stop(self) -> None:
        raise RuntimeError("could not close")


class _SlowDeadLetters:
    """Takes a while to send each record, so that two loops could both send the first."""

    def __init__(self) -> None:
        self.sent: list[bytes | None] = []

    async def publish(self, record: Any, reason: str) -> bool:
        await asyncio.sleep(0.01)
        self.sent.append(record.value)
        return True


def _consumer(
    feeds: list[Feed], registry: Registry | None = None, dead_letters: Any = None
) -> EventConsumer:
    return EventConsumer(
        feeds,
        employee_topics=TOPICS,
        progress_topic="p",
        registry=registry or Registry(),
        dead_letters=dead_letters,
        metrics=NotifierMetrics(),
        max_record_bytes=1 << 20,
    )


def test_feeds_that_leave_a_topic_unread_are_refused() -> None:
    with pytest.raises(ValueError, match=r"not each of \['p', 'v', 'w'\] once"):
        _consumer([Feed(None, Fetches([]), ("v", "p"))])  # type: ignore[arg-type]


def test_feeds_that_read_a_topic_twice_are_refused() -> None:
    with pytest.raises(ValueError, match=r"the feeds read \['p', 'v', 'v', 'w'\]"):
        _consumer(
            [
                Feed(None, Fetches([]), ("v", "p")),  # type: ignore[arg-type]
                Feed(None, Fetches([]), ("v", "w")),  # type: ignore[arg-type]
            ]
        )


async def test_a_feed_is_read_while_another_waits() -> None:
    registry = Registry()
    sales = Subscriber("E1", "Sales", 10)
    registry.add(sales)
    waiting = Fetches([])
    pushes = Fetches([[(TopicPartition("w", 0), [routed(0, "Sales", "E1", 7)])]])
    consumer = _consumer(
        [
            Feed(None, waiting, ("v", "p")),  # type: ignore[arg-type]
            Feed(None, pushes, ("w",)),  # type: ignore[arg-type]
        ],
        registry,
    )
    running = asyncio.create_task(consumer.run())
    taken = await asyncio.wait_for(sales.take(), 5)
    running.cancel()
    assert taken is not None
    assert [d.event_id for d in taken] == [7]


async def test_a_failing_feed_ends_the_run_with_its_error() -> None:
    waiting = Fetches([])
    consumer = _consumer(
        [
            Feed(None, waiting, ("v", "p")),  # type: ignore[arg-type]
            Feed(None, _Failing(), ("w",)),  # type: ignore[arg-type]
        ]
    )
    with pytest.raises(RuntimeError, match="the broker went away"):
        await asyncio.wait_for(consumer.run(), 5)


async def test_a_failing_feed_stops_the_other_loops() -> None:
    waiting = Fetches([])
    consumer = _consumer(
        [
            Feed(None, waiting, ("v", "p")),  # type: ignore[arg-type]
            Feed(None, _Failing(), ("w",)),  # type: ignore[arg-type]
        ]
    )
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(consumer.run(), 5)
    assert waiting.cancelled


async def test_the_lag_gauge_is_the_sum_of_the_feeds() -> None:
    first, second = Fetches([[]]), Fetches([[]])
    metrics = NotifierMetrics()
    consumer = EventConsumer(
        [
            Feed(_Lagging("v", 3), first, ("v", "p")),  # type: ignore[arg-type]
            Feed(_Lagging("w", 4), second, ("w",)),  # type: ignore[arg-type]
        ],
        employee_topics=TOPICS,
        progress_topic="p",
        registry=Registry(),
        dead_letters=None,  # type: ignore[arg-type]
        metrics=metrics,
        max_record_bytes=1 << 20,
    )
    running = asyncio.create_task(consumer.run())
    for _ in range(20):  # both empty fetches read, each loop then waits
        await asyncio.sleep(0)
    running.cancel()
    assert metrics.consumer_lag._value.get() == 3 + 4


async def test_records_rejected_by_two_feeds_are_each_dead_lettered_once() -> None:
    dead_letters = _SlowDeadLetters()
    consumer = _consumer(
        [
            Feed(None, Fetches([[(TopicPartition("v", 0), [Record(0, b"S", None)])]]), ("v", "p")),  # type: ignore[arg-type]
            Feed(None, Fetches([[(TopicPartition("w", 0), [Record(0, b"S", b"")])]]), ("w",)),  # type: ignore[arg-type]
        ],
        dead_letters=dead_letters,
    )
    running = asyncio.create_task(consumer.run())
    for _ in range(100):
        if len(dead_letters.sent) >= 2:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # a second send of either would have come by now
    running.cancel()
    assert sorted(dead_letters.sent, key=repr) == sorted([None, b""], key=repr)


async def test_stop_stops_every_feeds_consumer_when_one_fails_to() -> None:
    failing, other = _FailingStop("v", 0), _Lagging("w", 0)
    consumer = _consumer(
        [
            Feed(failing, Fetches([]), ("v", "p")),  # type: ignore[arg-type]
            Feed(other, Fetches([]), ("w",)),  # type: ignore[arg-type]
        ]
    )
    with pytest.raises(RuntimeError, match="could not close"):
        await consumer.stop()
    assert other.stopped
