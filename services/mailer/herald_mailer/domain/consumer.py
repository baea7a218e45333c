"""Kafka -> processor, in a consumer group: each completion is handled by one replica.

Offsets are committed one record at a time, after the record is fully handled. A record
handled but not committed (crash, rebalance) is handled again, which the summary store
makes harmless.

`run` is restarted after a failure (herald_common.supervisor). The failed run had fetched
past the record it was handling, and committing a later record would skip it, so a run
first goes back to the first record not committed of each partition it had fetched from:
that record is handled again, as a redelivery would (docs/decisions/0011).

Handling one record can take long: its emails wait in rounds for an SMTP relay that is
away. A member that stops polling for `max.poll.interval` leaves its group, and the record
in hand goes to another replica, which would handle it alongside (an email it finds being
sent is then reported unknown, never sent). So while a record is handled, every partition
is paused and the consumer keeps polling, which returns nothing but keeps it a member.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from herald_common.cancelling import cancel_and_wait
from herald_common.consumed import ConsumedRecord
from herald_mailer.domain.processor import CompletionProcessor

logger = logging.getLogger(__name__)

# How often a paused consumer polls while a record is handled; the mailer's
# max_poll_interval_seconds is 5 s at least.
_POLL_WHILE_HANDLING_SECONDS = 1.0


class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, ready: asyncio.Event) -> None:
        self._ready = ready

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        logger.info(
            "partitions revoked: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked)
        )

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        logger.info(
            "partitions assigned: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)
        )
        self._ready.set()


class CompletionConsumer:
    def __init__(
        self, consumer: AIOKafkaConsumer, topic: str, processor: CompletionProcessor
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._processor = processor
        # Set once the group has given this replica its partitions (possibly none).
        self.ready = asyncio.Event()
        # Per partition of the fetch in hand: the first offset not committed yet.
        self._unfinished: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        self._consumer.subscribe([self._topic], listener=_Assignment(self.ready))
        await self._consumer.start()

    async def run(self) -> None:
        self._rewind()
        while True:
            batches = await self._consumer.getmany(timeout_ms=1000, max_records=50)
            self._unfinished = {tp: rs[0].offset for tp, rs in batches.items() if rs}
            for tp, records in batches.items():
                for record in records:
                    await self._handle(ConsumedRecord.from_kafka(tp.topic, tp.partition, record))
                    if not await self._commit(tp, record.offset + 1):
                        break  # the partition moved to another replica mid-batch
                    self._unfinished[tp] = record.offset + 1
                self._unfinished.pop(tp, None)

    def _rewind(self) -> None:
        """Back to where the last run left records unfinished, in the partitions still ours."""
        assigned = self._consumer.assignment()
        for tp, offset in self._unfinished.items():
            if tp in assigned:  # else its new owner reads on from the last commit
                self._consumer.seek(tp, offset)
        self._unfinished = {}

    async def _handle(self, record: ConsumedRecord) -> None:
        """Hand the record to the processor, polling meanwhile (see the module's docstring)."""
        polling = asyncio.create_task(self._poll_paused())
        try:
            await self._processor.handle(record)
        finally:
            await cancel_and_wait(polling)
            self._consumer.resume(*self._consumer.paused())

    async def _poll_paused(self) -> None:
        while True:
            # A record handled within the first wait pauses nothing.
            await asyncio.sleep(_POLL_WHILE_HANDLING_SECONDS)
            self._consumer.pause(*self._consumer.assignment())
            try:
                fetched = await self._consumer.getmany(timeout_ms=0)
            except Exception:
                # Polling only keeps the membership; the record in hand decides the rest.
                logger.warning("polling while a record is handled failed", exc_info=True)
                continue
            for tp, records in fetched.items():
                # A partition assigned meanwhile was not paused yet: its records wait.
                self._consumer.seek(tp, records[0].offset)

    async def _commit(self, tp: TopicPartition, offset: int) -> bool:
        try:
            await self._consumer.commit({tp: offset})
            return True
        except (CommitFailedError, IllegalStateError) as exc:
            # Rebalanced away: the new owner re-reads from the last commit, harmlessly.
            logger.warning("commit of %s[%d]@%d failed: %s", tp.topic, tp.partition, offset, exc)
            return False

    async def stop(self) -> None:
        await self._consumer.stop()
