"""One allocation as delivered: per recipient (live or waiting in the inbox, read or not),
in figures for HR, and a department's part for its manager.

"Delivered live" is `notifications.delivered_at`, which the notifiers write when the voucher
event reached one of the employee's own open streams (docs/decisions/0052); anything else
waits in the inbox. "Read" is the inbox item's `read_at`, however it was read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_allocation.domain.csv_export import copy_csv
from herald_common.criteria_sql import text_cell
from herald_common.db import fetch_one
from herald_common.teams import TEAM_SIZE

_RECIPIENTS = (
    " FROM employee_vouchers ev JOIN employees e ON e.id = ev.employee_id"
    " JOIN notifications_per_employee n ON n.id = ev.notification_id"
    " WHERE ev.allocation_id = %(allocation)s"
)


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    total: int
    delivered_live: int
    read: int

    @property
    def waiting_in_inbox(self) -> int:
        return self.total - self.delivered_live


class AllocationDeliveries:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def allocation(self, allocation_id: UUID) -> dict[str, Any] | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT id, voucher, status, requested_at, completed_at FROM allocations"
                " WHERE id = %s",
                (allocation_id,),
            )
            return await cur.fetchone()

    async def team_size(self, department: str) -> int:
        row = await fetch_one(self._pool, TEAM_SIZE, (department,))
        return int(row[0]) if row else 0

    async def team(self, allocation_id: UUID, department: str) -> list[dict[str, Any]]:
        """The department's recipients of the allocation, by name."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT e.id AS employee_id, e.name, ev.code, ev.amount, ev.currency,"
                " n.delivered_at IS NOT NULL AS live, n.read_at"
                + _RECIPIENTS
                + " AND e.department = %(department)s ORDER BY e.name, e.id",
                {"allocation": allocation_id, "department": department},
            )
            return await cur.fetchall()

    async def figures(self, allocation_id: UUID) -> DeliveryFigures:
        row = await fetch_one(
            self._pool,
            "SELECT count(*), count(n.delivered_at), count(n.read_at)" + _RECIPIENTS,
            {"allocation": allocation_id},
        )
        assert row is not None  # an aggregate always has its row
        return DeliveryFigures(total=row[0], delivered_live=row[1], read=row[2])

    def csv(self, allocation_id: UUID) -> AsyncIterator[bytes]:
        """One row per recipient, formula-safe, in employee id order."""
        columns = sql.SQL(", ").join(
            [
                sql.SQL("e.id AS employee_id"),
                text_cell("name", "e"),
                text_cell("department", "e"),
                sql.SQL("ev.code, ev.amount, ev.currency"),
                sql.SQL(
                    "CASE WHEN n.delivered_at IS NULL THEN 'inbox' ELSE 'live' END AS delivery"
                ),
                sql.SQL("n.read_at"),
            ]
        )
        query = sql.SQL(
            "COPY (SELECT {}" + _RECIPIENTS + " ORDER BY e.id) TO STDOUT WITH (FORMAT csv, HEADER)"
        ).format(columns)
        return copy_csv(self._pool, query, {"allocation": allocation_id})
