"""Claiming a request before writing its notifications: the first step of every writer.

A request's notifications are written once, however often the request arrives (Kafka
redelivers after a crash, the outbox may send a record twice, the mailer sees a completion
again). So every writer starts its transaction the same way: the writer lock
(`inbox_writes`), then the request's row and whether an earlier transaction wrote its
notifications. Writers are serialised by the lock, so "not written" here means this
transaction is the one to write them. The inserter claims allocations and pushes, the
mailer an allocation's manager summaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection, sql

from herald_common.inbox_writes import take_writer_lock


@dataclass(frozen=True, slots=True)
class RequestRows:
    """Where one kind of request keeps its state: a table with a row per request id."""

    table: LiteralString
    # A condition on the row: true once the request's notifications are written.
    written: LiteralString = "inserted_at IS NOT NULL"
    # More of the row's columns, handed back as `Claim.columns` in this order.
    columns: tuple[LiteralString, ...] = ()
    # The row stays locked until the transaction ends, against concurrent status updates.
    lock_row: bool = True

    def query(self) -> sql.Composed:
        return sql.SQL("SELECT {} FROM {} WHERE id = %s{}").format(
            sql.SQL(", ").join(
                [sql.SQL("status"), sql.SQL(self.written), *map(sql.Identifier, self.columns)]
            ),
            sql.Identifier(self.table),
            sql.SQL(" FOR UPDATE" if self.lock_row else ""),
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's row, as the claim found it under the writer lock."""

    status: str
    # Its notifications were written by an earlier transaction.
    written: bool
    columns: tuple[Any, ...]


async def claim_request(conn: AsyncConnection, rows: RequestRows, request_id: UUID) -> Claim | None:
    """Takes the writer lock, then reads the request's row; None when it has none.

    Call it first in the transaction that writes the notifications: the lock is held until
    that transaction ends.
    """
    await take_writer_lock(conn)
    return await read_claim(conn, rows, request_id)


async def read_claim(conn: AsyncConnection, rows: RequestRows, request_id: UUID) -> Claim | None:
    """The request's row as it is now. Without the writer lock only a hint: it may be
    being written; a writer that relies on the answer calls `claim_request`."""
    row = await (await conn.execute(rows.query(), (request_id,))).fetchone()
    return None if row is None else Claim(row[0], bool(row[1]), tuple(row[2:]))
