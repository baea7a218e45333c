"""Retrying a request until it passes, or giving up on it after repeated real failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import psycopg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NotLeaderForPartitionError

from herald_common.dead_letter import describe

logger = logging.getLogger(__name__)

# Failures of the infrastructure, not of the request: retried until they pass.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NotLeaderForPartitionError,
)


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
    dependency restarted); other errors count towards `policy.max_attempts`.
    """
    failures = 0
    delay = policy.initial_seconds
    while True:
        try:
            await attempt()
            return True
        except TRANSIENT_ERRORS as exc:
            logger.warning("%s: %s; retrying in %.1fs", what, describe(exc), delay)
        except Exception as exc:
            failures += 1
            logger.exception("%s failed (attempt %d of %d)", what, failures, policy.max_attempts)
            if failures >= policy.max_attempts:
                await give_up(exc)
                return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, policy.max_seconds)
