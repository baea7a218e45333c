"""One dead-letter record per bad record, however many notifier replicas read it.

The notifier has no consumer group: every replica reads every partition, so every replica
meets the same bad record. Before sending it to the dead-letter topic, a replica claims it
in PostgreSQL, keyed by where it was read (topic, partition, offset): the first claim is
inserted and its replica sends; the others find the claim taken and skip the record.
Replicas may come and go: no replica owns a partition, the claim decides each record.

A replica whose send failed sends again on its next run (its claim is still its own). A
replica that dies between its claim and its send leaves that record without a dead-letter
copy; its log names the claim.
"""

from __future__ import annotations

import logging

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.consumed import ConsumedRecord
from herald_common.db import fetch_one
from herald_common.dead_letter import DeadLetterPublisher

logger = logging.getLogger(__name__)


class ClaimedDeadLetters:
    """Dead-letters a record only where this replica's claim on it is the one inserted."""

    def __init__(
        self,
        publisher: DeadLetterPublisher,
        pool: AsyncConnectionPool[AsyncConnection],
        claimant: str,
    ) -> None:
        self._publisher = publisher
        self._pool = pool
        # This process's name in the claims: unique even for replicas on one host.
        self.claimant = claimant

    async def claim(self, record: ConsumedRecord) -> bool:
        """Whether the record is this replica's to send: claimed now, or by it before."""
        row = await fetch_one(
            self._pool,
            "INSERT INTO dead_letter_claims (topic, kafka_partition, kafka_offset, claimed_by)"
            " VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (topic, kafka_partition, kafka_offset) DO UPDATE"
            " SET claimed_by = EXCLUDED.claimed_by"
            " WHERE dead_letter_claims.claimed_by = EXCLUDED.claimed_by"
            " RETURNING claimed_at",
            (record.topic, record.partition, record.offset, self.claimant),
        )
        if row is None:
            return False
        # Housekeeping: a claim is needed only while replicas read past its record
        # (seconds); a day is far more, and the table stays small.
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM dead_letter_claims WHERE claimed_at < now() - interval '1 day'"
            )
        return True

    async def publish(self, record: ConsumedRecord, reason: str) -> bool:
        """Send the record to its dead-letter topic if it is ours to; whether it was sent."""
        if not await self.claim(record):
            logger.info(
                "%s[%d]@%d is dead-lettered by another replica",
                record.topic,
                record.partition,
                record.offset,
            )
            return False
        await self._publisher.publish(record, reason)
        return True
