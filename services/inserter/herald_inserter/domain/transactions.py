"""The worker's transactional producer: everything the inserter sends is in a Kafka transaction.

A request's per-employee events (a chunk's, for an allocation: docs/decisions/0068) commit
together or not at all, with the completion event in the last one's transaction, so a
read_committed consumer sees a whole chunk or nothing of it, never a half. The
transactional id belongs to the worker (see InserterSettings.worker_id): when a killed
worker comes back, its new producer registers under the same id, which fences the old one
and aborts the transaction it left open at once, instead of leaving read_committed
consumers stuck behind it until the broker's transaction timeout.

A transaction that fails leaves the producer in a state not worth reasoning about (an
abort needs the very broker that may be gone), so after a failure the producer is
discarded and the next transaction starts a new one; registering it aborts the old one.

A transaction that outlives its budget is discarded as well, and then told apart: if
Kafka takes the next producer at once and the database answers, nothing was away and the
work itself was too slow for the budget (`TransactionBudgetExceeded`, permanent: another
try would hold the writer lock as long again); otherwise it waited on an outage, and the
plain `TimeoutError` says so (temporary, docs/decisions/0038).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer

from herald_common.dead_letter import describe
from herald_common.retry import BudgetExceeded

logger = logging.getLogger(__name__)

# Bounds the clean-up of a failed transaction; the producer is dropped either way.
_ABORT_SECONDS = 5.0
_STOP_SECONDS = 5.0
# How long Kafka and the database get to answer after a transaction ran out of budget.
_ANSWER_SECONDS = 10.0


class NotInTransaction(RuntimeError):
    """A record was sent outside `transaction()`."""


class TransactionBudgetExceeded(BudgetExceeded):
    """A transaction outlived its budget while Kafka and the database answered."""

    def __init__(self, budget_seconds: float) -> None:
        super().__init__(
            f"the transaction outlived its budget of {budget_seconds:g} s"
            " (HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS) while Kafka and PostgreSQL answered"
        )
        self.budget_seconds = budget_seconds


class TransactionalProducer:
    def __init__(
        self,
        factory: Callable[[], AIOKafkaProducer],
        timeout_seconds: float,
        *,
        database: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`database` raises unless the database the transactions write to answers."""
        self._factory = factory
        self._timeout = timeout_seconds
        self._database = database
        self._producer: AIOKafkaProducer | None = None
        self._active: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect and register the transactional id (fencing a previous incarnation)."""
        await self._ensure_started()

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await _stop(producer)

    async def _ensure_started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._factory()
            try:
                await producer.start()
                # Registering the id is what fences an older producer; do it now rather
                # than on the first send, so a restarted worker clears the way at once.
                await producer.begin_transaction()
                await producer.abort_transaction()
            except BaseException:
                await _stop(producer)
                raise
            self._producer = producer
        return self._producer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[TransactionalProducer]:
        """One transaction: committed when the block ends, discarded if it raises.

        Past its budget it ends in `TransactionBudgetExceeded` when Kafka and the database
        answer right after, else in `TimeoutError` (see the module's docstring).
        """
        async with self._lock:
            producer = await self._ensure_started()
            budget = asyncio.timeout(self._timeout)
            try:
                async with budget:
                    await producer.begin_transaction()
                    self._active = producer
                    try:
                        yield self
                    finally:
                        self._active = None
                    await producer.commit_transaction()
            except BaseException as exc:
                await self._discard(producer)
                if isinstance(exc, TimeoutError) and budget.expired() and await self._answering():
                    raise TransactionBudgetExceeded(self._timeout) from exc
                raise

    async def _answering(self) -> bool:
        """Whether Kafka registers the next transaction's producer, and the database
        answers, in time: then nothing was away while the budget ran out."""
        try:
            async with asyncio.timeout(_ANSWER_SECONDS):
                await self._ensure_started()
                if self._database is not None:
                    await self._database()
        except Exception as exc:
            logger.warning(
                "a transaction ran out of budget and Kafka or PostgreSQL does not answer"
                " (an outage, waited out): %s",
                describe(exc),
            )
            return False
        return True

    async def _discard(self, producer: AIOKafkaProducer) -> None:
        self._producer = None
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_ABORT_SECONDS):
                await producer.abort_transaction()
        await _stop(producer)
        logger.warning("Kafka transaction abandoned; the next one starts a new producer")

    def _current(self) -> AIOKafkaProducer:
        if self._active is None:
            raise NotInTransaction("records are only sent inside transaction()")
        return self._active

    # The parts of aiokafka's producer the publishers use, bound to the open transaction.

    async def partitions_for(self, topic: str) -> set[int]:
        partitions: set[int] = await self._current().partitions_for(topic)
        return partitions

    def create_batch(self) -> Any:
        return self._current().create_batch()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        return await self._current().send_batch(batch, topic, partition=partition)

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> Any:
        return await self._current().send_and_wait(
            topic, value, key, partition, timestamp_ms, headers
        )


async def _stop(producer: AIOKafkaProducer) -> None:
    # stop() flushes what is pending, which never ends while the broker is away; the
    # records are worthless anyway once their transaction is given up.
    try:
        async with asyncio.timeout(_STOP_SECONDS):
            await producer.stop()
    except Exception:
        logger.warning("Kafka producer did not stop cleanly", exc_info=True)
