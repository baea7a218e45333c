"""Reads from the persistent inbox: who an employee is, and what they missed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.notifications import notification_event
from herald_notifier.domain.delivery import Delivery


class Inbox:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], page_size: int) -> None:
        self._pool = pool
        self._page_size = page_size

    async def department_of(self, employee_id: str) -> str | None:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute("SELECT department FROM employees WHERE id = %s", (employee_id,))
            ).fetchone()
        return None if row is None else str(row[0])

    async def after(self, employee_id: str, after_id: int) -> AsyncIterator[Delivery]:
        """Every notification of the employee with an id above `after_id`, in id order."""
        cursor = after_id
        while True:
            async with self._pool.connection() as conn:
                rows = await (
                    await conn.execute(
                        "SELECT id, kind, source, department, created_at, payload"
                        " FROM notifications WHERE employee_id = %s AND id > %s"
                        " ORDER BY id LIMIT %s",
                        (employee_id, cursor, self._page_size),
                    )
                ).fetchall()
            for notification_id, kind, source, department, created_at, payload in rows:
                data = notification_event(
                    notification_id=notification_id,
                    kind=kind,
                    source=source,
                    employee_id=employee_id,
                    created_at=created_at,
                    payload=payload,
                )
                yield Delivery(notification_id, kind, employee_id, department, data.decode())
            if len(rows) < self._page_size:
                return
            cursor = rows[-1][0]
