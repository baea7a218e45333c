"""An employee's inbox: listing, unread counts, read and archive marks.

Every change of an item's state notifies in the same transaction: `herald_inbox` with the
employee id (each notifier replica, LISTENing, pushes the new unread count to that
employee's open streams) and `herald_inbox_state` with the item's new state (the streams
pass it on as `notification-state`, so the employee's other tabs and devices follow).
"""

from __future__ import annotations

from typing import Any, Literal

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_common.events import VOUCHER_ALLOCATED
from herald_common.notifications import INBOX_CHANNEL, UNREAD, inbox_state_notice

ReadFilter = Literal["read", "unread"]
# One change of an item: its column and the value it takes.
Change = Literal["read", "unread", "archive", "unarchive"]
_SET: dict[Change, sql.SQL] = {
    "read": sql.SQL("read_at = coalesce(read_at, now())"),
    "unread": sql.SQL("read_at = NULL"),
    "archive": sql.SQL("archived_at = coalesce(archived_at, now())"),
    "unarchive": sql.SQL("archived_at = NULL"),
}


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
        archived: bool = False,
    ) -> list[dict[str, Any]]:
        """Newest first; `before` is the id of the last item of the previous page."""
        clauses = [
            sql.SQL("n.employee_id = %(employee)s"),
            sql.SQL("n.archived_at IS NOT NULL" if archived else "n.archived_at IS NULL"),
        ]
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
            "SELECT n.id, n.kind, n.payload, n.created_at, n.read_at, n.archived_at,"
            " n.action_url, ev.revoked_at, ev.revoke_reason"
            " FROM notifications n LEFT JOIN employee_vouchers ev"
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
                    sql.SQL(
                        "SELECT count(*) FROM notifications_per_employee"
                        " WHERE employee_id = %s AND {}"
                    ).format(UNREAD),
                    (employee_id,),
                )
            ).fetchone()
        return int(row[0]) if row else 0

    async def mark_read(self, employee_id: str, notification_id: int) -> bool:
        """False when the notification is not this employee's (or does not exist)."""
        return await self.change(employee_id, notification_id, "read")

    async def change(self, employee_id: str, notification_id: int, change: Change) -> bool:
        """Apply one change to one of the employee's items (again is fine: no notice then).

        False when the notification is not this employee's (or does not exist).
        """
        async with self._pool.connection() as conn, conn.transaction():
            before = await (
                await conn.execute(
                    "SELECT read_at IS NOT NULL, archived_at IS NOT NULL"
                    " FROM notifications_per_employee"
                    " WHERE id = %s AND employee_id = %s FOR UPDATE",
                    (notification_id, employee_id),
                )
            ).fetchone()
            if before is None:
                return False
            after = await (
                await conn.execute(
                    sql.SQL(
                        "UPDATE notifications_per_employee SET {} WHERE id = %s"
                        " RETURNING read_at IS NOT NULL, archived_at IS NOT NULL"
                    ).format(_SET[change]),
                    (notification_id,),
                )
            ).fetchone()
            if after is not None and tuple(after) != tuple(before):
                read, archived = after
                await conn.execute("SELECT pg_notify(%s, %s)", (INBOX_CHANNEL, employee_id))
                channel, notice = inbox_state_notice(employee_id, notification_id, read, archived)
                await conn.execute("SELECT pg_notify(%s, %s)", (channel, notice))
            return True

    async def mark_all_read(self, employee_id: str) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "UPDATE notifications_per_employee SET read_at = now()"
                " WHERE employee_id = %s AND read_at IS NULL RETURNING id",
                (employee_id,),
            )
            changed = [row[0] for row in await cursor.fetchall()]
            if changed:
                await conn.execute("SELECT pg_notify(%s, %s)", (INBOX_CHANNEL, employee_id))
                channel, notice = inbox_state_notice(employee_id, max(changed), True, None)
                await conn.execute("SELECT pg_notify(%s, %s)", (channel, notice))
            return len(changed)
