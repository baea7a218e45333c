"""The mailer's consumer keeps polling, with its partitions paused, while a record is handled."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import TopicPartition

from herald_common.consumed import ConsumedRecord
from herald_mailer.domain import consumer as consumer_module
from herald_mailer.domain.consumer import CompletionConsumer

TOPIC = "herald.allocation.completed"
A, B = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


@dataclass
class Record:
    offset: int
    key: bytes | None = None
    value: bytes | None = b"{}"
    headers: tuple[tuple[str, bytes], ...] = ()


def consumed(tp: TopicPartition, offset: int) -> ConsumedRecord:
    return ConsumedRecord.from_kafka(tp.topic, tp.partition, Record(offset))  # type: ignore[arg-type]


@dataclass
class FakeConsumer:
    """What CompletionConsumer asks of aiokafka's consumer, recorded."""

    assigned: set[TopicPartition] = field(default_factory=lambda: {A})
    paused_now: set[TopicPartition] = field(default_factory=set)
    # What each poll returns, in turn; then nothing.
    polls: list[dict[TopicPartition, list[Record]]] = field(default_factory=list)
    polled_while_paused: list[set[TopicPartition]] = field(default_factory=list)
    seeks: list[tuple[TopicPartition, int]] = field(default_factory=list)

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused_now.update(partitions)

    def paused(self) -> set[TopicPartition]:
        return self.paused_now & self.assigned

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused_now.difference_update(partitions)

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> Any:
        self.polled_while_paused.append(set(self.paused_now))
        return self.polls.pop(0) if self.polls else {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


class SlowProcessor:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.handled: list[int] = []

    async def handle(self, record: Any) -> None:
        await asyncio.sleep(self.seconds)
        self.handled.append(record.offset)


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_module, "_POLL_WHILE_HANDLING_SECONDS", 0.01)


def _consumer(fake: FakeConsumer, processor: SlowProcessor) -> CompletionConsumer:
    return CompletionConsumer(fake, TOPIC, processor)  # type: ignore[arg-type]


async def test_a_slow_record_is_handled_with_every_partition_paused_and_polled():
    fake = FakeConsumer()
    processor = SlowProcessor(0.2)
    await _consumer(fake, processor)._handle(consumed(A, 7))

    assert processor.handled == [7]
    assert len(fake.polled_while_paused) >= 5
    assert all(paused == {A} for paused in fake.polled_while_paused)
    assert fake.paused_now == set()  # resumed once the record was handled


async def test_a_quick_record_pauses_nothing():
    fake = FakeConsumer()
    await _consumer(fake, SlowProcessor(0))._handle(consumed(A, 3))
    assert fake.polled_while_paused == []


async def test_records_of_a_partition_assigned_meanwhile_are_left_for_later():
    fake = FakeConsumer()

    class Rebalanced(SlowProcessor):
        async def handle(self, record: Any) -> None:
            await asyncio.sleep(0.05)
            fake.assigned.add(B)  # not paused: the next poll returns its records
            fake.polls.append({B: [Record(40), Record(41)]})
            await super().handle(record)

    await _consumer(fake, Rebalanced(0.1))._handle(consumed(A, 1))
    assert fake.seeks == [(B, 40)]
    assert fake.paused_now == set()


async def test_a_failed_poll_does_not_fail_the_record():
    fake = FakeConsumer()

    async def broken(timeout_ms: int = 0, max_records: int | None = None) -> Any:
        raise RuntimeError("coordinator gone")

    fake.getmany = broken  # type: ignore[method-assign]
    processor = SlowProcessor(0.05)
    await _consumer(fake, processor)._handle(consumed(A, 5))
    assert processor.handled == [5]
