"""Writing inbox rows in bulk, for every kind of per-employee notification.

Callers hold the notifications writer lock (see herald_common.notifications) in the same
transaction: ids are drawn here, in order, and become visible in that order at commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from herald_common.notifications import NOTIFICATIONS_WRITER_LOCK, payload_text


@dataclass(slots=True)
class IssuedNotification:
    """One employee's notification, as written and as it will be published."""

    notification_id: int
    employee_id: str
    department: str
    # The event data as JSON text: stored as is, and spliced into the published event.
    payload_json: str
    # The employee's notification before this one (0: none; None: unknown), filled in
    # while the rows are written (filling_previous_ids); see PREVIOUS_ID_HEADER.
    previous_id: int | None = None


async def take_writer_lock(conn: AsyncConnection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (NOTIFICATIONS_WRITER_LOCK,))


async def draw_ids(conn: AsyncConnection, count: int) -> list[int]:
    """`count` fresh ids, in order. Only under the writer lock: every writer holds it, so
    one jump of the sequence reserves the whole run (100,000 `nextval` calls cost ~0.1 s)."""
    if count <= 0:
        return []
    cursor = await conn.execute(
        "SELECT setval('notifications_id_seq', nextval('notifications_id_seq') + %s - 1)",
        (count,),
    )
    row = await cursor.fetchone()
    assert row is not None
    last = int(row[0])
    return list(range(last - count + 1, last + 1))


async def issue_notifications(
    conn: AsyncConnection, recipients: Sequence[tuple[str, str]], payloads: Iterable[str]
) -> list[IssuedNotification]:
    """One write's rows: an id each, for (employee, department) and JSON text in order.

    Previous ids are left unknown; `filling_previous_ids` fills them in.
    """
    ids = await draw_ids(conn, len(recipients))
    return [
        IssuedNotification(nid, employee, department, payload)
        for nid, (employee, department), payload in zip(ids, recipients, payloads, strict=True)
    ]


async def newest_ids(conn: AsyncConnection, employee_ids: Iterable[str]) -> dict[str, int]:
    """Each employee's newest committed notification id, for those who have one."""
    cursor = await conn.execute(
        "SELECT e.id, (SELECT n.id FROM notifications n WHERE n.employee_id = e.id"
        " ORDER BY n.id DESC LIMIT 1) FROM unnest(%s::text[]) AS e(id)",
        (list(set(employee_ids)),),
    )
    return {employee: newest for employee, newest in await cursor.fetchall() if newest}


# Rows from which previous ids are read on a second connection, alongside the COPY.
_LOOKUP_ALONGSIDE_FROM = 1_000


@asynccontextmanager
async def filling_previous_ids(
    pool: AsyncConnectionPool[AsyncConnection],
    conn: AsyncConnection,
    notifications: list[IssuedNotification],
) -> AsyncIterator[asyncio.Future[None]]:
    """Fills in each notification's previous id while the body writes them on `conn`.

    Yields what to await for the ids to be filled in; they are, at the latest, when the
    body ends. The caller holds the writer lock, so every committed id is below this
    write's, and an employee's previous id is their newest committed row, or their row
    just before in this write. Committed rows are what another connection sees: the
    lookup (an index probe per employee, ~0.4 s for 100,000) runs there, alongside the
    COPY, instead of before it or after the commit. A small write (or a pool of one
    connection) looks them up on `conn` first: a second connection costs more than that.
    """
    if pool.max_size < 2 or len(notifications) < _LOOKUP_ALONGSIDE_FROM:
        filled: asyncio.Future[None] = asyncio.ensure_future(_fill(conn, notifications))
        await filled
        yield filled
        return
    async with pool.connection() as other:
        filled = asyncio.ensure_future(_fill(other, notifications))
        try:
            yield filled
            await filled
        finally:
            filled.cancel()


async def _fill(conn: AsyncConnection, notifications: list[IssuedNotification]) -> None:
    newest = await newest_ids(conn, [n.employee_id for n in notifications])
    for n in notifications:
        n.previous_id = newest.get(n.employee_id, 0)
        newest[n.employee_id] = n.notification_id


NOTIFICATION_COLUMN_TYPES = [
    "int8",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "uuid",
    "uuid",
    "timestamptz",
]


def _column_text(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; the payload (json) keeps the original.
    return value.replace("\x00", "\ufffd")


async def copy_notifications(
    conn: AsyncConnection,
    notifications: list[IssuedNotification],
    *,
    kind: str,
    source: str,
    created_at: datetime,
    title: str,
    body: str,
    allocation_id: UUID | None = None,
    push_id: UUID | None = None,
) -> None:
    """COPY the rows; `title` and `body` are the same for every row of one request."""
    title, body = _column_text(title), _column_text(body)
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY notifications (id, employee_id, department, kind, source, title, body,"
            " payload, allocation_id, push_id, created_at) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        # Binary rows skip the server's text parsing; the payload goes as text, which is
        # also json's binary form, so the JSON is stored exactly as built.
        copy.set_types(NOTIFICATION_COLUMN_TYPES)
        for n in notifications:
            await copy.write_row(
                (
                    n.notification_id,
                    n.employee_id,
                    n.department,
                    kind,
                    source,
                    title,
                    body,
                    n.payload_json,
                    allocation_id,
                    push_id,
                    created_at,
                )
            )


# The same employee's newest notification below n.id. Every lower id has committed once n
# has (writers are serialised, 0005), so the answer never changes afterwards.
_PREVIOUS_ID = sql.SQL(
    "LEFT JOIN LATERAL (SELECT p.id FROM notifications p WHERE p.employee_id = n.employee_id"
    " AND p.id < n.id ORDER BY p.id DESC LIMIT 1) AS previous ON true"
)


async def load_notifications(
    conn: AsyncConnection,
    kind: str,
    *,
    allocation_id: UUID | None = None,
    push_id: UUID | None = None,
) -> tuple[datetime | None, list[IssuedNotification]]:
    """The rows of one kind written earlier for an allocation or push, to publish again.

    Other kinds can refer to the same allocation (a manager's summary), hence the kind.
    """
    column, value = ("allocation_id", allocation_id) if allocation_id else ("push_id", push_id)
    cursor = await conn.execute(
        sql.SQL(
            "SELECT n.id, n.employee_id, n.department, n.payload, n.created_at,"
            " coalesce(previous.id, 0) FROM notifications n {}"
            " WHERE n.{} = %s AND n.kind = %s ORDER BY n.id"
        ).format(_PREVIOUS_ID, sql.Identifier(column)),
        (value, kind),
    )
    rows = await cursor.fetchall()
    created_at = rows[0][4] if rows else None
    return created_at, [
        IssuedNotification(r[0], r[1], r[2], payload_text(r[3]), r[5]) for r in rows
    ]
