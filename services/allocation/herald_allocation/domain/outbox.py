"""The transactional outbox: a request event commits with its row, then goes to Kafka.

Sending to Kafka inside the row's transaction is a dual write: a commit that fails after
Kafka accepted the request leaves a request with no row, and the client's retry with the
same Idempotency-Key allocates again. Here the event is a row of `outbox` in the same
transaction, so either both exist or neither does (docs/decisions/0035).

After the commit the caller sends the record at once (`deliver`), so a request reaches
Kafka as fast as before; a record that could not be sent then (Kafka away, the process
killed) is sent by `relay_pending`, which the service runs every second. Each record is
locked while it is sent and deleted in the same transaction, so replicas never send one
concurrently; a crash between Kafka's ack and the delete sends it again, which the
inserter absorbs: the request's id is the allocation's, and a second copy writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from aiokafka import AIOKafkaProducer
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from herald_common.dead_letter import describe
from herald_common.events import CONTENT_TYPE, encode, envelope
from herald_common.periodic import every

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def request_record(
    topic: str,
    request_id: UUID,
    *,
    source: str,
    event_type: str,
    time: datetime,
    data: BaseModel,
    key: UUID | None = None,
) -> OutboxRecord:
    """A request event as a record: identified by the request's id, so the inserter
    writes it once however often it arrives, and keyed by it unless `key` is given."""
    event = envelope(
        event_id=str(request_id),
        source=source,
        event_type=event_type,
        subject=str(request_id),
        time=time,
        data=data,
    )
    return OutboxRecord(
        topic=topic,
        key=str(key or request_id).encode(),
        value=encode(event),
        headers=[("content-type", CONTENT_TYPE.encode())],
    )


async def enqueue(conn: AsyncConnection, record: OutboxRecord) -> int:
    """Adds the record inside the caller's transaction; returns its outbox id."""
    row = await (
        await conn.execute(
            "INSERT INTO outbox (topic, key, value, headers) VALUES (%s, %s, %s, %s) RETURNING id",
            (
                record.topic,
                record.key,
                record.value,
                Jsonb([[name, value.decode()] for name, value in record.headers]),
            ),
        )
    ).fetchone()
    assert row is not None
    return int(row[0])


class Outbox:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        producer: AIOKafkaProducer,
        *,
        deliver_timeout: float = 5.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._deliver_timeout = deliver_timeout

    async def deliver(self, outbox_id: int) -> bool:
        """Sends one committed record now. False if it is left to the relay.

        Bounded by `deliver_timeout`: the request is already accepted, so a client is not
        kept waiting for a broker that does not answer (the relay sends it later; should
        the abandoned send still land, the inserter absorbs the second copy).
        """
        try:
            return await asyncio.wait_for(self._send(outbox_id), self._deliver_timeout) > 0
        except Exception as exc:
            # Committed is accepted: the relay sends it once Kafka answers again.
            logger.warning("outbox record %d left to the relay: %s", outbox_id, describe(exc))
            return False

    async def relay_pending(self, batch: int = 100) -> int:
        """Sends records nobody is sending (oldest first); returns how many were sent."""
        return await self._send(None, batch)

    async def run_relay(self, interval: float) -> None:
        """The relay loop, until cancelled: a failed round is logged and tried again."""

        async def relay() -> None:
            sent = await self.relay_pending()
            if sent:
                logger.info("outbox relay sent %d record(s)", sent)

        await every(interval, "outbox relay", relay)

    async def _send(self, outbox_id: int | None, batch: int = 1) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            if outbox_id is None:
                cursor = await conn.execute(
                    "SELECT id, topic, key, value, headers FROM outbox ORDER BY id"
                    " LIMIT %s FOR UPDATE SKIP LOCKED",
                    (batch,),
                )
            else:
                cursor = await conn.execute(
                    "SELECT id, topic, key, value, headers FROM outbox WHERE id = %s"
                    " FOR UPDATE SKIP LOCKED",
                    (outbox_id,),
                )
            rows = await cursor.fetchall()
            for _, topic, key, value, headers in rows:
                await self._producer.send_and_wait(
                    topic,
                    key=key,
                    value=value,
                    headers=[(name, text.encode()) for name, text in headers],
                )
            if rows:
                await conn.execute(
                    "DELETE FROM outbox WHERE id = ANY(%s)", ([row[0] for row in rows],)
                )
        return len(rows)
