"""Retrying a request until it passes, or giving up on it after repeated real failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import psycopg
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from herald_common.dead_letter import describe
from herald_inserter.domain.parsing import RejectedRequest

logger = logging.getLogger(__name__)

# Kafka errors caused by the request itself; retrying cannot help.
_PERMANENT_KAFKA_ERRORS = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)


def is_transient(exc: BaseException) -> bool:
    """A failure of the infrastructure, not of the request: retried until it passes.

    Every Kafka error but an oversized record is the broker's or the producer's state
    (leaders moving, a coordinator loading, a fenced or timed-out transaction), and so is a
    transaction that outlived its budget (TimeoutError), typically during an outage.
    """
    if isinstance(exc, psycopg.OperationalError | TimeoutError):
        return True
    return isinstance(exc, KafkaError) and not isinstance(exc, _PERMANENT_KAFKA_ERRORS)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    initial_seconds: float
    max_seconds: float


async def run_with_retries(
    what: str,
    attempt: Callable[[], Awaitable[None]],
    give_up: Callable[[Exception], Awaitable[None]],
    policy: RetryPolicy,
) -> bool:
    """True once `attempt` succeeds; False after `give_up` ran for a persistent failure.

    Transient errors are retried without limit (the work must not be dropped because a
    dependency restarted); other errors count towards `policy.max_attempts`. A
    `RejectedRequest` propagates at once.
    """
    failures = 0
    delay = policy.initial_seconds
    while True:
        try:
            await attempt()
            return True
        except RejectedRequest:
            # A verdict on the request, not a failure: no retry helps; the caller
            # dead-letters it.
            raise
        except Exception as exc:
            if is_transient(exc):
                # One line: driver messages (psycopg's) span several.
                reason = " ".join(describe(exc).split())
                logger.warning("%s: retrying in %.1fs after %s", what, delay, reason)
            else:
                failures += 1
                logger.exception(
                    "%s failed (attempt %d of %d)", what, failures, policy.max_attempts
                )
                if failures >= policy.max_attempts:
                    await give_up(exc)
                    return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, policy.max_seconds)


async def outlast_outages(
    what: str, attempt: Callable[[], Awaitable[None]], policy: RetryPolicy
) -> None:
    """Run `attempt` until it succeeds, waiting out transient failures; others propagate.

    For the bookkeeping after a Kafka commit: retrying the whole request there would
    publish everything again, so only the step that failed is repeated.
    """
    delay = policy.initial_seconds
    while True:
        try:
            await attempt()
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            reason = " ".join(describe(exc).split())
            logger.warning("%s: retrying in %.1fs after %s", what, delay, reason)
        await asyncio.sleep(delay)
        delay = min(delay * 2, policy.max_seconds)
