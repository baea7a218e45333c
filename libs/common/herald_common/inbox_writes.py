"""Writing notifications: the one writer lock, and ids drawn in order under it.

Replay is "every notification of this employee with id > Last-Event-ID". A sequence hands
out ids when they are drawn, but rows become visible at commit, so a lower id could appear
after a reader already passed a higher one. Every writer of `notifications` (the
inserter's allocations and pushes, the mailer's summaries) therefore takes one
transaction-level advisory lock before it draws ids, and draws and commits them in that
transaction: ids become visible in increasing order (docs/decisions/0005).
"""

from __future__ import annotations

from psycopg import AsyncConnection

NOTIFICATIONS_WRITER_LOCK = 0x4E4F5449  # "NOTI"


async def take_writer_lock(conn: AsyncConnection) -> None:
    """Held until the transaction ends. Take it before drawing ids, and before reading
    anything the write relies on being final (an employee's newest id, the request's row)."""
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
