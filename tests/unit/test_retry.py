"""The one retry rule of every service: which errors are temporary, the backoff, the loops."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
from aiokafka.errors import (
    BrokerNotAvailableError,
    ConcurrentTransactions,
    CoordinatorLoadInProgressError,
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    ProducerFenced,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
)
from psycopg_pool import PoolTimeout

from herald_common.retry import (
    Backoff,
    BudgetExceeded,
    RetryPolicy,
    Verdict,
    is_transient,
    outlast_outages,
    run_with_retries,
)
from herald_inserter.domain.parsing import RejectedRequest
from herald_inserter.domain.transactions import TransactionBudgetExceeded
from herald_mailer.domain.processor import RejectedRecord


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        # PostgreSQL: what passes with time is an OperationalError (SQLSTATE 08, 40, 53, 57).
        (psycopg.OperationalError("connection lost"), True),
        (psycopg.errors.ConnectionFailure("server closed the connection"), True),
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.TooManyConnections("too many clients"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),
        (PoolTimeout("no connection in 30s"), True),
        # ... and programming, data and integrity errors fail again on every try.
        (psycopg.errors.UniqueViolation("duplicate code"), False),
        (psycopg.errors.UndefinedTable("no such table"), False),
        (psycopg.errors.NumericValueOutOfRange("integer out of range"), False),
        (psycopg.errors.InFailedSqlTransaction("current transaction is aborted"), False),
        # Kafka, retriable by aiokafka's flag.
        (KafkaConnectionError("no broker"), True),
        (NotLeaderForPartitionError(), True),
        (CoordinatorLoadInProgressError(), True),
        # Kafka, not retriable by the flag, but the broker's or the producer's state.
        (KafkaTimeoutError(), True),
        (ProducerFenced(), True),
        (ConcurrentTransactions(), True),
        (BrokerNotAvailableError(), True),
        (TopicAuthorizationFailedError(), True),
        # Kafka, the record itself: too large on every try.
        (RecordTooLargeError(), False),
        (MessageSizeTooLargeError(), False),
        (RecordListTooLargeError(), False),
        # A piece of work past its budget (a Kafka transaction during an outage).
        (TimeoutError(), True),
        # ... or past it while everything it uses answered: the work is too slow.
        (BudgetExceeded(), False),
        (TransactionBudgetExceeded(60), False),
        # Verdicts on the work and plain bugs.
        (RejectedRequest("invalid allocation request"), False),
        (RejectedRecord("record has no value"), False),
        (ValueError("bug"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_what_counts_as_an_outage(error, transient):
    assert is_transient(error) is transient


class Flaky:
    """An attempt that meets `outages` PostgreSQL outages, then succeeds."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.outages:
            raise psycopg.OperationalError("down")
        return self.calls


async def never(exc: Exception) -> None:
    raise AssertionError(f"gave up on {exc}")


async def test_outages_are_waited_out_and_real_failures_give_up():
    policy = RetryPolicy(max_attempts=2, initial_seconds=0.001, max_seconds=0.002)
    flaky = Flaky(outages=5)

    async def attempt() -> None:
        await flaky()

    assert await run_with_retries("outage", attempt, never, policy)
    assert flaky.calls == 6

    given_up: list[Exception] = []

    async def broken() -> None:
        raise ValueError("bad request")

    async def give_up(exc: Exception) -> None:
        given_up.append(exc)

    assert not await run_with_retries("broken", broken, give_up, policy)
    assert [str(e) for e in given_up] == ["bad request"]


async def test_work_over_its_budget_gives_up_after_the_attempts():
    policy = RetryPolicy(max_attempts=2, initial_seconds=0.001, max_seconds=0.002)
    attempts: list[int] = []
    given_up: list[Exception] = []

    async def too_slow() -> None:
        attempts.append(1)
        raise TransactionBudgetExceeded(5)

    async def give_up(exc: Exception) -> None:
        given_up.append(exc)

    assert not await run_with_retries("allocation", too_slow, give_up, policy)
    assert len(attempts) == 2
    assert [type(e) for e in given_up] == [TransactionBudgetExceeded]


@pytest.mark.parametrize("verdict", [RejectedRequest("not JSON"), RejectedRecord("not JSON")])
async def test_a_verdict_propagates_at_once(verdict: Verdict):
    policy = RetryPolicy(max_attempts=3, initial_seconds=0.001, max_seconds=0.002)
    attempts: list[int] = []

    async def rejected() -> None:
        attempts.append(1)
        raise verdict

    with pytest.raises(Verdict, match="not JSON"):
        await run_with_retries("request", rejected, never, policy)
    assert attempts == [1]


async def test_after_the_commit_only_the_failed_step_is_repeated():
    policy = RetryPolicy(max_attempts=1, initial_seconds=0.001, max_seconds=0.002)
    mark = Flaky(outages=3)

    assert await outlast_outages("marking", mark, policy) == 4
    assert mark.calls == 4

    async def bug() -> None:
        raise ValueError("not an outage")

    with pytest.raises(ValueError, match="not an outage"):
        await outlast_outages("marking", bug, policy)


async def test_backoff_doubles_up_to_its_maximum_and_resets():
    backoff = RetryPolicy(max_attempts=1, initial_seconds=0.001, max_seconds=0.005).backoff()
    delays = []
    for _ in range(5):
        delays.append(backoff.delay)
        await backoff.wait()
    assert delays == [0.001, 0.002, 0.004, 0.005, 0.005]
    backoff.reset()
    assert backoff.delay == 0.001
    assert Backoff(0.5, 15).delay == 0.5
