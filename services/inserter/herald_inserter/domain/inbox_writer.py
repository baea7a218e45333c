"""Writing inbox rows in bulk, for every kind of per-employee notification.

Callers hold the notifications writer lock (see herald_common.notifications) in the same
transaction: ids are drawn here, in order, and become visible in that order at commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import AsyncConnection, sql

from herald_common.notifications import NOTIFICATIONS_WRITER_LOCK, payload_text


@dataclass(frozen=True, slots=True)
class IssuedNotification:
    """One employee's notification, as written and as it will be published."""

    notification_id: int
    employee_id: str
    department: str
    # The event data as JSON text: stored as is, and spliced into the published event.
    payload_json: str


async def take_writer_lock(conn: AsyncConnection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (NOTIFICATIONS_WRITER_LOCK,))


async def draw_ids(conn: AsyncConnection, count: int) -> list[int]:
    cursor = await conn.execute(
        "SELECT nextval('notifications_id_seq') FROM generate_series(1, %s)", (count,)
    )
    return [row[0] for row in await cursor.fetchall()]


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
            "SELECT id, employee_id, department, payload, created_at FROM notifications"
            " WHERE {} = %s AND kind = %s ORDER BY id"
        ).format(sql.Identifier(column)),
        (value, kind),
    )
    rows = await cursor.fetchall()
    created_at = rows[0][4] if rows else None
    return created_at, [IssuedNotification(r[0], r[1], r[2], payload_text(r[3])) for r in rows]
