"""What the API and the inserter both ask before revoking: who has no voucher to revoke."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection


async def unknown_recipients(
    conn: AsyncConnection, allocation_id: UUID, employee_ids: list[str]
) -> list[str]:
    """The employees among `employee_ids` with no voucher of the allocation, sorted."""
    rows = await (
        await conn.execute(
            "SELECT id FROM unnest(%s::text[]) AS wanted(id) WHERE NOT EXISTS"
            " (SELECT 1 FROM employee_vouchers ev WHERE ev.allocation_id = %s"
            " AND ev.employee_id = wanted.id) ORDER BY id",
            (sorted(set(employee_ids)), allocation_id),
        )
    ).fetchall()
    return [str(r[0]) for r in rows]
