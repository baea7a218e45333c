"""The inserter's transactional producer, against a stand-in producer."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from aiokafka.errors import KafkaConnectionError

from herald_common.retry import is_transient
from herald_inserter.domain.transactions import (
    NotInTransaction,
    TransactionalProducer,
    TransactionBudgetExceeded,
)


class FakeProducer:
    """Records what a TransactionalProducer asks of aiokafka's producer."""

    def __init__(self, *, commit_hangs: bool = False, unreachable: bool = False) -> None:
        self.calls: list[str] = []
        self.sent: list[tuple[str, bytes | None]] = []
        self._commit_hangs = commit_hangs
        self._unreachable = unreachable

    async def start(self) -> None:
        self.calls.append("start")
        if self._unreachable:
            raise KafkaConnectionError("Unable to bootstrap from 127.0.0.1:9092")

    async def stop(self) -> None:
        self.calls.append("stop")

    async def begin_transaction(self) -> None:
        self.calls.append("begin")

    async def commit_transaction(self) -> None:
        self.calls.append("commit")
        if self._commit_hangs:
            await asyncio.sleep(3600)

    async def abort_transaction(self) -> None:
        self.calls.append("abort")

    async def send_and_wait(self, topic, value=None, key=None, partition=None, *rest):
        self.sent.append((topic, value))


def _factory(made: list[FakeProducer], **options):
    def make() -> FakeProducer:
        made.append(FakeProducer(**options))
        return made[-1]

    return make


def _broker_gone_after(made: list[FakeProducer], producers: int, **options):
    """The first `producers` producers reach the broker; later ones do not."""

    def make() -> FakeProducer:
        made.append(FakeProducer(unreachable=len(made) >= producers, **options))
        return made[-1]

    return make


async def test_start_registers_the_id_before_any_transaction():
    made: list[FakeProducer] = []
    producer = TransactionalProducer(_factory(made), timeout_seconds=5)
    await producer.start()
    # An empty transaction makes aiokafka register the transactional id (fencing a killed
    # predecessor) at once, instead of on the first send.
    assert made[0].calls == ["start", "begin", "abort"]


async def test_a_successful_block_commits_and_keeps_the_producer():
    made: list[FakeProducer] = []
    producer = TransactionalProducer(_factory(made), timeout_seconds=5)
    await producer.start()
    for n in range(2):
        async with producer.transaction():
            await producer.send_and_wait("t", value=str(n).encode())
    assert len(made) == 1
    assert made[0].calls[3:] == ["begin", "commit", "begin", "commit"]
    assert made[0].sent == [("t", b"0"), ("t", b"1")]


async def test_a_failed_block_abandons_the_producer_and_the_next_starts_a_new_one():
    made: list[FakeProducer] = []
    producer = TransactionalProducer(_factory(made), timeout_seconds=5)
    await producer.start()

    async def broker_dies_midway() -> None:
        async with producer.transaction():
            await producer.send_and_wait("t", value=b"x")
            raise KafkaConnectionError("broker gone")

    with pytest.raises(KafkaConnectionError):
        await broker_dies_midway()
    assert made[0].calls[-3:] == ["begin", "abort", "stop"]
    async with producer.transaction():
        await producer.send_and_wait("t", value=b"y")
    assert len(made) == 2
    assert made[1].calls == ["start", "begin", "abort", "begin", "commit"]


async def test_a_transaction_past_its_budget_is_given_up():
    made: list[FakeProducer] = []
    producer = TransactionalProducer(_factory(made, commit_hangs=True), timeout_seconds=0.2)

    async def publish() -> None:
        async with producer.transaction():
            await producer.send_and_wait("t", value=b"x")

    with pytest.raises(TimeoutError):
        await publish()
    assert made[0].calls[-2:] == ["abort", "stop"]


async def _over_budget(producer: TransactionalProducer) -> None:
    async with producer.transaction():
        await producer.send_and_wait("t", value=b"x")


async def test_over_budget_while_kafka_and_the_database_answer_is_the_work_itself():
    made: list[FakeProducer] = []
    pings: list[int] = []

    async def database() -> None:
        pings.append(1)

    producer = TransactionalProducer(
        _factory(made, commit_hangs=True), timeout_seconds=0.2, database=database
    )
    with pytest.raises(TransactionBudgetExceeded, match=r"budget of 0\.2 s") as raised:
        await _over_budget(producer)
    assert not is_transient(raised.value)
    assert raised.value.budget_seconds == 0.2
    assert made[0].calls[-2:] == ["abort", "stop"]
    # The answer was the next transaction's producer, registered and kept.
    assert made[1].calls == ["start", "begin", "abort"]
    assert pings == [1]


async def test_over_budget_while_kafka_is_away_is_an_outage():
    made: list[FakeProducer] = []
    producer = TransactionalProducer(
        _broker_gone_after(made, 1, commit_hangs=True), timeout_seconds=0.2
    )
    with pytest.raises(TimeoutError) as raised:
        await _over_budget(producer)
    assert not isinstance(raised.value, TransactionBudgetExceeded)
    assert is_transient(raised.value)
    assert made[1].calls == ["start", "stop"]


async def test_over_budget_while_the_database_is_away_is_an_outage():
    made: list[FakeProducer] = []

    async def database() -> None:
        raise psycopg.OperationalError("connection refused")

    producer = TransactionalProducer(
        _factory(made, commit_hangs=True), timeout_seconds=0.2, database=database
    )
    with pytest.raises(TimeoutError) as raised:
        await _over_budget(producer)
    assert not isinstance(raised.value, TransactionBudgetExceeded)


async def test_a_timeout_of_the_work_itself_is_left_as_it_is():
    made: list[FakeProducer] = []
    producer = TransactionalProducer(_factory(made), timeout_seconds=5)

    async def waits_on_its_own() -> None:
        async with producer.transaction():
            raise TimeoutError("an SMTP server, say")

    with pytest.raises(TimeoutError, match="an SMTP server") as raised:
        await waits_on_its_own()
    assert not isinstance(raised.value, TransactionBudgetExceeded)
    assert len(made) == 1  # nothing asked of Kafka: the budget did not run out


async def test_nothing_is_sent_outside_a_transaction():
    producer = TransactionalProducer(_factory([]), timeout_seconds=5)
    await producer.start()
    with pytest.raises(NotInTransaction):
        await producer.send_and_wait("t", value=b"x")
