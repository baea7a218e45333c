"""An employee's inbox: listing, unread counts and read marks.

Every change to read marks notifies `herald_inbox` in the same transaction, so each notifier
replica (LISTENing) can push the new unread count to that employee's open streams.
"""

from __future__ import annotations

from typing import Any, Literal

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_common.events import VOUCHER_ALLOCATED
from herald_common.notifications import INBOX_CHANNEL

ReadFilter = Literal["read", "unread"]


class Inbox:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def page(
        self,
        employee_id: str,
        *,
        before: int | None,
        limit: int,
        read: ReadFilter | None,
        kind: str | None,
    ) -> list[dict[str, Any]]:
        """Newest first; `before` is the id of the last item of the previous page."""
        clauses = [sql.SQL("n.employee_id = %(employee)s")]
        params: dict[str, Any] = {"employee": employee_id, "limit": limit}
        if before is not None:
            clauses.append(sql.SQL("n.id < %(before)s"))
            params["before"] = before
        if read == "read":
            clauses.append(sql.SQL("n.read_at IS NOT NULL"))
        elif read == "unread":
            clauses.append(sql.SQL("n.read_at IS NULL"))
        if kind is not None:
            clauses.append(sql.SQL("n.kind = %(kind)s"))
            params["kind"] = kind
        # A voucher's notification shows whether the voucher was revoked since (0047).
        query = sql.SQL(
            "SELECT n.id, n.kind, n.payload, n.created_at, n.read_at, ev.revoked_at,"
            " ev.revoke_reason FROM notifications n LEFT JOIN employee_vouchers ev"
            " ON n.kind = %(voucher_kind)s AND ev.allocation_id = n.allocation_id"
            " AND ev.employee_id = n.employee_id AND ev.notification_id = n.id"
            " WHERE {} ORDER BY n.id DESC LIMIT %(limit)s"
        ).format(sql.SQL(" AND ").join(clauses))
        params["voucher_kind"] = VOUCHER_ALLOCATED
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    async def unread_count(self, employee_id: str) -> int:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM notifications WHERE employee_id = %s AND read_at IS NULL",
                    (employee_id,),
                )
            ).fetchone()
        return int(row[0]) if row else 0

    async def mark_read(self, employee_id: str, notification_id: int) -> bool:
        """False when the notification is not this employee's (or does not exist)."""
        async with self._pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "SELECT read_at FROM notifications WHERE id = %s AND employee_id = %s"
                    " FOR UPDATE",
                    (notification_id, employee_id),
                )
            ).fetchone()
            if row is None:
                return False
            if row[0] is None:
                await conn.execute(
                    "UPDATE notifications SET read_at = now() WHERE id = %s", (notification_id,)
                )
                await conn.execute("SELECT pg_notify(%s, %s)", (INBOX_CHANNEL, employee_id))
            return True

    async def mark_all_read(self, employee_id: str) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "UPDATE notifications SET read_at = now()"
                " WHERE employee_id = %s AND read_at IS NULL",
                (employee_id,),
            )
            changed = cursor.rowcount
            if changed:
                await conn.execute("SELECT pg_notify(%s, %s)", (INBOX_CHANNEL, employee_id))
            return changed
