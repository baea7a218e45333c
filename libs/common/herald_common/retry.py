"""Retrying work through outages: which errors are temporary, the backoff, the two loops.

Every service that retries uses this one rule and this one backoff, so "temporary" means
the same thing in the inserter as in the mailer (docs/decisions/0038).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from herald_common.dead_letter import describe

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Kafka errors caused by the record itself; no retry can make it fit.
_OVERSIZED_RECORD_ERRORS = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)


class BudgetExceeded(TimeoutError):
    """Work that outlived its time budget while what it depends on kept answering.

    A timeout by kind, but not an outage: the work itself takes longer than it may, and
    takes as long again on the next try, so it is permanent (counted towards the policy's
    attempts, like a bug). Raised by whoever enforces the budget, once it has checked that
    its dependencies answer (herald_inserter.domain.transactions).
    """


class Verdict(Exception):
    """A decision about the work itself (a record that is no valid request, say).

    Neither retried nor counted as a failure: `run_with_retries` lets it propagate at
    once, for the caller to act on (typically by dead-lettering the record).
    """


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing piece of work is tried, and how long to wait between tries."""

    max_attempts: int
    initial_seconds: float
    max_seconds: float

    def backoff(self) -> Backoff:
        return Backoff(self.initial_seconds, self.max_seconds)


class Backoff:
    """Waits that double from `initial_seconds` up to `max_seconds`."""

    def __init__(self, initial_seconds: float, max_seconds: float) -> None:
        self._initial = initial_seconds
        self._max = max_seconds
        self.delay = initial_seconds

    async def wait(self) -> None:
        """Sleep for the current delay, then double it (up to the maximum)."""
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, self._max)

    def reset(self) -> None:
        """Back to the first delay, after the work went well again."""
        self.delay = self._initial


def is_transient(exc: BaseException) -> bool:
    """A failure of the infrastructure, not of the work: worth waiting out.

    PostgreSQL: `psycopg.OperationalError`, which psycopg raises for the SQLSTATE classes
    that pass with time: 08 (connection lost or refused), 40 (transaction rollback:
    serialization failure, deadlock detected), 53 (insufficient resources), 55 (lock not
    available), 57 (operator intervention: admin shutdown, cannot connect now) and 58, as
    well as a pool that had no connection to give in time. A programming, data or
    integrity error (a bad query, a duplicate key) fails again on every try: permanent.

    Kafka: aiokafka's `KafkaError.retriable` marks what its client may resend at once at
    the protocol level (a leader moved, a coordinator still loading, a connection lost);
    those are temporary. The flag is False for many more errors that are still the state
    of the broker or of our producer rather than of the work, because the work is retried
    whole, by a producer that is rebuilt after a failed transaction
    (herald_inserter.domain.transactions): a send not acknowledged in time
    (`KafkaTimeoutError`), a producer fenced or with a stale epoch (`ProducerFenced`,
    `InvalidProducerEpoch`, `UnknownProducerId`), a transaction still settling
    (`ConcurrentTransactions`), a broker or replica away (`BrokerNotAvailableError`,
    `ReplicaNotAvailableError`), a missing permission an operator can grant. So where the
    flag says "not retriable", only an oversized record is believed permanent: it is the
    one Kafka error that the same record meets again on every try.

    A `TimeoutError` is a piece of work that outlived its budget because something it
    waited on did not answer (a Kafka transaction during an outage): temporary. A
    `BudgetExceeded` outlived it while everything answered: permanent.
    """
    if isinstance(exc, BudgetExceeded):
        return False
    if isinstance(exc, psycopg.OperationalError | TimeoutError):
        return True
    if isinstance(exc, KafkaError):
        return exc.retriable or not isinstance(exc, _OVERSIZED_RECORD_ERRORS)
    return False


def _log_outage(what: str, delay: float, exc: BaseException) -> None:
    # One line: driver messages (psycopg's) span several.
    reason = " ".join(describe(exc).split())
    logger.warning("%s: retrying in %.1fs after %s", what, delay, reason)


async def run_with_retries(
    what: str,
    attempt: Callable[[], Awaitable[None]],
    give_up: Callable[[Exception], Awaitable[None]],
    policy: RetryPolicy,
) -> bool:
    """True once `attempt` succeeds; False after `give_up` ran for a persistent failure.

    Transient errors are retried without limit (the work must not be dropped because a
    dependency restarted); other errors count towards `policy.max_attempts`. A `Verdict`
    propagates at once.
    """
    failures = 0
    backoff = policy.backoff()
    while True:
        try:
            await attempt()
            return True
        except Verdict:
            # A decision on the work, not a failure: no retry helps; the caller acts on it.
            raise
        except Exception as exc:
            if is_transient(exc):
                _log_outage(what, backoff.delay, exc)
            else:
                failures += 1
                logger.exception(
                    "%s failed (attempt %d of %d)", what, failures, policy.max_attempts
                )
                if failures >= policy.max_attempts:
                    await give_up(exc)
                    return False
        await backoff.wait()


async def outlast_outages(what: str, attempt: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Run `attempt` until it succeeds, waiting out transient failures; others propagate.

    For a step that must not be repeated with the work around it: the bookkeeping after
    a Kafka commit (retrying the whole request would publish everything again), or the
    record of what an SMTP server answered (known only at that moment).
    """
    backoff = policy.backoff()
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_transient(exc):
                raise
            _log_outage(what, backoff.delay, exc)
        await backoff.wait()
