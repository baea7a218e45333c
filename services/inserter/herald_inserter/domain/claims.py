"""Claiming an allocation or a push for writing: the step both stores start their write with.

On the shared claim (writer lock, then the request's row; herald_common.request_claim), a
request whose notifications were written before is answered with those rows, to publish
again; one that ended before anything was written stays ended; one its store refuses is
answered with the refusal. Any other is claimed: recorded if it came straight from the
topic (other systems write it; the API commits its row before the request reaches
Kafka), marked `inserting`, and written by the caller in the same transaction, which
ends with `mark_written`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection, sql

from herald_common.request_claim import RequestRows, claim_request
from herald_inserter.domain.failures import Failure
from herald_inserter.domain.inbox_writer import IssuedNotification, Owner, load_notifications

if TYPE_CHECKING:
    from herald_inserter.domain.allocation_store import Chunk

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What a store's write answers: the request's status and its notifications."""

    # "rejected": the request cannot be carried out (it goes to the dead-letter topic);
    # "failed": it ended without recipients. Neither wrote a voucher.
    status: str
    created_at: datetime
    notifications: list[IssuedNotification]
    inserted_now: bool
    # How many events `publish` sent while the rows were written (None: it was not called).
    published: int | None = None
    failure: Failure | None = None
    # An allocation's chunk this step wrote or found (None: pushes, revocations, and
    # allocations written whole before chunks, docs/decisions/0068).
    chunk: Chunk | None = None


# Decides on a request about to be claimed: an outcome refuses it, None lets it through.
Admit = Callable[[AsyncConnection], Awaitable[WriteOutcome | None]]


@dataclass(frozen=True, slots=True)
class Requests:
    """One kind of request the inserter writes: its table and its notifications."""

    table: LiteralString
    # The kind of the notifications written for it, and their column naming the request.
    kind: str
    owner: Owner
    # What a claimed row is marked with.
    inserting: LiteralString = "status = 'inserting'"
    # Statuses that end a request before anything is written: it is never written after.
    final: tuple[str, ...] = ()

    @property
    def rows(self) -> RequestRows:
        # Every request table says why a request failed; an ended one answers with it.
        return RequestRows(self.table, columns=("failure_reason", "failure_detail"))

    def mark(self) -> sql.Composed:
        return sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
            sql.Identifier(self.table), sql.SQL(self.inserting)
        )

    def record(self, columns: Iterable[LiteralString]) -> sql.Composed:
        names = ["id", *columns]
        return sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING").format(
            sql.Identifier(self.table),
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        )


async def claim(
    conn: AsyncConnection,
    requests: Requests,
    request_id: UUID,
    *,
    row: Mapping[LiteralString, Any],
    admit: Admit | None = None,
) -> WriteOutcome | None:
    """None when this transaction claimed the request (write it now); else the answer.

    `row` is the request's row but its id, recorded when the request has none. `admit`
    runs only for a request that is neither written nor ended, before it is recorded, so
    a refused request that came straight from the topic leaves no row.
    """
    found = await claim_request(conn, requests.rows, request_id)
    if found is not None and found.written:
        created_at, written = await load_notifications(
            conn, requests.kind, requests.owner, request_id
        )
        what = requests.owner.removesuffix("_id")
        logger.info("%s %s already written (%s)", what, request_id, found.status)
        return WriteOutcome(found.status, created_at or datetime.now(UTC), written, False)
    if found is not None and found.status in requests.final:
        reason, detail = found.columns
        failure = Failure(reason or found.status, detail)
        return WriteOutcome(found.status, datetime.now(UTC), [], False, failure=failure)
    if admit is not None and (refusal := await admit(conn)) is not None:
        return refusal
    if found is None:
        await conn.execute(requests.record(row), [request_id, *row.values()])
    await conn.execute(requests.mark(), (request_id,))
    return None


async def mark_written(
    conn: AsyncConnection, requests: Requests, request_id: UUID, count: int
) -> None:
    """The claimed request's `count` notifications are written, in this transaction: once
    it commits, every later claim finds the request written."""
    await conn.execute(
        sql.SQL(
            "UPDATE {} SET matched_count = %s, inserted_count = %s,"
            " inserted_at = clock_timestamp() WHERE id = %s"
        ).format(sql.Identifier(requests.table)),
        (count, count, request_id),
    )
