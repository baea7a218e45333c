"""The inserter's transactional producer and retry rules, against a stand-in producer."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from aiokafka.errors import KafkaConnectionError, ProducerFenced, RecordTooLargeError

from herald_inserter.domain.retry import (
    RetryPolicy,
    is_transient,
    outlast_outages,
    run_with_retries,
)
from herald_inserter.domain.transactions import NotInTransaction, TransactionalProducer


class FakeProducer:
    """Records what a TransactionalProducer asks of aiokafka's producer."""

    def __init__(self, *, commit_hangs: bool = False) -> None:
        self.calls: list[str] = []
        self.sent: list[tuple[str, bytes | None]] = []
        self._commit_hangs = commit_hangs

    async def start(self) -> None:
        self.calls.append("start")

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


async def test_nothing_is_sent_outside_a_transaction():
    producer = TransactionalProducer(_factory([]), timeout_seconds=5)
    await producer.start()
    with pytest.raises(NotInTransaction):
        await producer.send_and_wait("t", value=b"x")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (psycopg.OperationalError("connection lost"), True),
        (KafkaConnectionError("no broker"), True),
        (ProducerFenced(), True),
        (TimeoutError(), True),
        (RecordTooLargeError(), False),
        (ValueError("bug"), False),
        (psycopg.errors.UniqueViolation("duplicate code"), False),
    ],
)
def test_what_counts_as_an_outage(error, transient):
    assert is_transient(error) is transient


async def test_outages_are_waited_out_and_real_failures_give_up():
    policy = RetryPolicy(max_attempts=2, initial_seconds=0.001, max_seconds=0.002)
    outages = [psycopg.OperationalError("down")] * 5
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        if outages:
            raise outages.pop()

    async def never(exc: Exception) -> None:
        raise AssertionError(f"gave up on {exc}")

    assert await run_with_retries("outage", flaky, never, policy)
    assert len(attempts) == 6

    given_up: list[Exception] = []

    async def broken() -> None:
        raise ValueError("bad request")

    async def give_up(exc: Exception) -> None:
        given_up.append(exc)

    assert not await run_with_retries("broken", broken, give_up, policy)
    assert [str(e) for e in given_up] == ["bad request"]


async def test_after_the_commit_only_the_failed_step_is_repeated():
    policy = RetryPolicy(max_attempts=1, initial_seconds=0.001, max_seconds=0.002)
    outages = [psycopg.OperationalError("down")] * 3
    marks: list[int] = []

    async def mark() -> None:
        marks.append(1)
        if outages:
            raise outages.pop()

    await outlast_outages("marking", mark, policy)
    assert len(marks) == 4

    async def bug() -> None:
        raise ValueError("not an outage")

    with pytest.raises(ValueError, match="not an outage"):
        await outlast_outages("marking", bug, policy)
