"""Accepting a request (an allocation or a push) once per caller and Idempotency-Key.

A key belongs to the caller that sent it (docs/decisions/0036): the same key with the same
body answers the first request again, with another body it is a conflict, from another
caller it is unrelated. The table's UNIQUE (requested_by, idempotency_key) settles two
requests that race with one key: the second insert does nothing and answers the first.
A new request's row commits with its request event in the outbox (docs/decisions/0035).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_allocation.domain.outbox import Outbox, OutboxRecord, enqueue


class IdempotencyConflict(Exception):
    """The key was used before for a different request."""


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """Who asked, with which key (None: no key, every request is new), for which body."""

    requested_by: str
    key: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Accepted:
    row: dict[str, Any]
    # True: the caller's earlier request with this key, answered again.
    replayed: bool


@dataclass(frozen=True, slots=True)
class RequestTable:
    """A table of requests with `id`, `requested_by`, `idempotency_key` and `request_hash`."""

    table: LiteralString
    # What `get` reads of a request (comma-separated).
    columns: LiteralString

    async def get(self, conn: AsyncConnection, request_id: UUID) -> dict[str, Any] | None:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                sql.SQL("SELECT {} FROM {} WHERE id = %s").format(
                    sql.SQL(self.columns), sql.Identifier(self.table)
                ),
                (request_id,),
            )
            return await cur.fetchone()

    async def replay(self, conn: AsyncConnection, key: IdempotencyKey) -> Accepted | None:
        """The caller's earlier request with this key; None when there is none."""
        if key.key is None:
            return None
        row = await (
            await conn.execute(
                sql.SQL(
                    "SELECT id, request_hash FROM {} WHERE requested_by = %s"
                    " AND idempotency_key = %s"
                ).format(sql.Identifier(self.table)),
                (key.requested_by, key.key),
            )
        ).fetchone()
        if row is None:
            return None
        if row[1] != key.fingerprint:
            raise IdempotencyConflict(key.key)
        earlier = await self.get(conn, row[0])
        assert earlier is not None
        return Accepted(earlier, replayed=True)

    async def accept(
        self,
        conn: AsyncConnection,
        key: IdempotencyKey,
        request_id: UUID,
        values: dict[LiteralString, Any],
        event: OutboxRecord | None,
    ) -> tuple[Accepted, int | None]:
        """Inserts the request's row (its key columns and `values`) and puts its `event`
        in the outbox; the outbox id is for `Outbox.deliver` once this transaction has
        committed. When a concurrent request with the same key committed first, answers
        that one instead (no outbox id). A request that waits (for approval, for its
        time) has no event yet: None."""
        row = {
            "id": request_id,
            "requested_by": key.requested_by,
            "idempotency_key": key.key,
            "request_hash": key.fingerprint,
            **values,
        }
        inserted = await (
            await conn.execute(
                sql.SQL(
                    "INSERT INTO {} ({}) VALUES ({})"
                    " ON CONFLICT (requested_by, idempotency_key) DO NOTHING RETURNING id"
                ).format(
                    sql.Identifier(self.table),
                    sql.SQL(", ").join(map(sql.Identifier, row)),
                    sql.SQL(", ").join(sql.Placeholder() * len(row)),
                ),
                list(row.values()),
            )
        ).fetchone()
        if inserted is None:
            # Only a row with the same key conflicts, and a keyless request never does.
            replayed = await self.replay(conn, key)
            assert replayed is not None
            return replayed, None
        outbox_id = None if event is None else await enqueue(conn, event)
        created = await self.get(conn, request_id)
        assert created is not None
        return Accepted(created, replayed=False), outbox_id


class RequestService:
    """A service that accepts one kind of request: its rows in the database, its request
    events through the outbox to `topic`."""

    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection], outbox: Outbox, topic: str
    ) -> None:
        self._pool = pool
        self._outbox = outbox
        self._topic = topic
