"""What one manager is told about one revocation, and where it is kept.

A revocation's summaries follow an allocation's: one per manager of an employee whose
voucher it voided, written once under the writer lock with their inbox rows, then
published and emailed with the same states, so each email leaves at most once
(`store`, docs/decisions/0011 and 0047).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from herald_common.events import REVOCATION_SUMMARY
from herald_common.request_claim import RequestRows
from herald_common.teams import DIRECTORY_MANAGERS
from herald_mailer.domain.compose import revocation_payload
from herald_mailer.domain.store import EmailStates, Summarised, SummaryTable, allocation_row
from herald_mailer.domain.summary import (
    Manager,
    Revocation,
    RevocationSummary,
    RevokedMember,
    Team,
)

# Employees whose vouchers the revocation voided, by manager: each manager's team is
# their department (herald_common.teams), as for an allocation's summaries.
_TEAMS = sql.SQL(
    "SELECT m.id, m.department, count(*),"
    " (SELECT count(*) FROM employees d WHERE d.department = m.department)"
    " FROM employee_vouchers ev JOIN employees e ON e.id = ev.employee_id"
    " JOIN ({}) AS m ON m.department = e.department"
    " WHERE ev.revocation_id = %s GROUP BY m.id, m.department ORDER BY m.id"
).format(DIRECTORY_MANAGERS)

# A revocation's summaries are written once, under the writer lock alone.
_ROWS = RequestRows(
    "revocations",
    written=(
        "EXISTS (SELECT 1 FROM revocation_summaries s WHERE s.revocation_id = revocations.id)"
    ),
    lock_row=False,
)


class RevocationSummaryStore(EmailStates):
    """Managers' summaries of revocations."""

    _rows = _ROWS
    _teams = _TEAMS

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], public_base_url: str) -> None:
        super().__init__(
            pool,
            SummaryTable("revocation_summaries", "revocation_id", REVOCATION_SUMMARY),
            public_base_url,
        )

    async def _subject(
        self, conn: AsyncConnection, subject_id: UUID, completed_at: datetime | None
    ) -> Revocation | None:
        return await _revocation(conn, subject_id, completed_at)

    def _payload(
        self, subject: Summarised, manager_id: str, team: Team, recipients: int
    ) -> dict[str, Any]:
        assert isinstance(subject, Revocation)
        return revocation_payload(
            subject, manager_id, team.department, recipients, self._public_base_url
        )

    async def load(
        self, revocation_id: UUID, manager_id: str, completed_at: datetime | None, limit: int
    ) -> RevocationSummary | None:
        """The summary as it stands now: the team members whose vouchers were voided."""
        async with self._pool.connection() as conn:
            revocation = await _revocation(conn, revocation_id, completed_at)
            manager = await (
                await conn.execute(
                    "SELECT id, name, email, department FROM employees WHERE id = %s",
                    (manager_id,),
                )
            ).fetchone()
            if revocation is None or manager is None:
                return None
            team = (
                " FROM employee_vouchers ev JOIN employees e ON e.id = ev.employee_id"
                " WHERE ev.revocation_id = %s AND e.department = %s"
            )
            members = await (
                await conn.execute(
                    "SELECT e.id, e.name, e.department, e.grade" + team + " ORDER BY e.id LIMIT %s",
                    (revocation_id, manager[3], limit),
                )
            ).fetchall()
            counted = await (
                await conn.execute("SELECT count(*)" + team, (revocation_id, manager[3]))
            ).fetchone()
        assert counted is not None
        return RevocationSummary(
            revocation=revocation,
            manager=Manager(*manager),
            members=[RevokedMember(*m) for m in members],
            team_revoked=counted[0],
        )


async def _revocation(
    conn: AsyncConnection, revocation_id: UUID, completed_at: datetime | None
) -> Revocation | None:
    row = await (
        await conn.execute(
            "SELECT allocation_id, reason, requested_by, coalesce(completed_at, %s),"
            " inserted_count FROM revocations WHERE id = %s",
            (completed_at, revocation_id),
        )
    ).fetchone()
    if row is None:
        return None
    allocation = await allocation_row(conn, row[0], None)
    if allocation is None:
        return None
    return Revocation(revocation_id, allocation, row[1], row[2], row[3], row[4])
