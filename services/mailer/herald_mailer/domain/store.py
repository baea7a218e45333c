"""PostgreSQL side of manager summaries: create them once, then claim and settle each email.

Allocations' summaries are here; revocations' (revocation_summaries) share the email states.

An email's row moves pending -> sending (the claim, committed before SMTP is touched) ->
sent | pending (refused, try again) | failed | unknown (interrupted mid-send), or
pending -> skipped when the manager opted out. Only pending and failed rows are ever
claimed, so an email that may have left is never sent again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString, Protocol
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from herald_common.events import ALLOCATION_SUMMARY, SOURCE_MAILER
from herald_common.inbox_writes import draw_ids
from herald_common.request_claim import RequestRows, claim_request, read_claim
from herald_common.teams import DIRECTORY_MANAGERS, TEAM_SIZE
from herald_mailer.domain.compose import in_app_payload
from herald_mailer.domain.summary import Allocation, Manager, ManagerSummary, Team, TeamMember

# Recipients of one allocation by manager: each manager's team is their department
# (herald_common.teams), counted with the department's size.
_TEAMS = sql.SQL(
    "SELECT m.id, m.department, count(*),"
    " (SELECT count(*) FROM employees d WHERE d.department = m.department)"
    " FROM employee_vouchers ev JOIN employees e ON e.id = ev.employee_id"
    " JOIN ({}) AS m ON m.department = e.department"
    " WHERE ev.allocation_id = %s GROUP BY m.id, m.department ORDER BY m.id"
).format(DIRECTORY_MANAGERS)


# An allocation's summaries are its request: written once, under the writer lock alone
# (its row stays free for the inserter to mark it completed meanwhile).
SUMMARIES = RequestRows(
    "allocations",
    written="EXISTS (SELECT 1 FROM manager_summaries s WHERE s.allocation_id = allocations.id)",
    lock_row=False,
)


@dataclass(frozen=True, slots=True)
class InAppSummary:
    notification_id: int
    manager_id: str
    department: str
    created_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Claim:
    status: str  # "sending" or "skipped"
    attempt: int


class Summarised(Protocol):
    """What a summary is about: an allocation, or a revocation of one."""

    @property
    def allocation_id(self) -> UUID: ...


@dataclass(frozen=True, slots=True)
class SummaryTable:
    """Where one kind of summary keeps its rows, one per (subject, manager), and their
    email states; `kind` is its notifications' kind and its email preference."""

    table: LiteralString
    # The column naming what is summarised: an allocation, a revocation.
    owner: LiteralString
    kind: str


class EmailStates(ABC):
    """The in-app and email states of one kind of summary (see the module's docstring)."""

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        table: SummaryTable,
        public_base_url: str,
    ) -> None:
        self._pool = pool
        self._table = table
        self.kind = table.kind
        # Links in summaries are built from it, never from a service's port (0053).
        self._public_base_url = public_base_url

    def _sql(self, query: LiteralString) -> sql.Composed:
        return sql.SQL(query).format(
            table=sql.Identifier(self._table.table), owner=sql.Identifier(self._table.owner)
        )

    # What a subclass gives: the claim on its subjects' rows, the query of a subject's
    # teams (manager, department, count, team size), the subject itself, and the in-app
    # payload.
    _rows: RequestRows
    _teams: sql.Composed

    @abstractmethod
    async def _subject(
        self, conn: AsyncConnection, subject_id: UUID, completed_at: datetime | None
    ) -> Summarised | None: ...

    @abstractmethod
    def _payload(
        self, subject: Summarised, manager_id: str, team: Team, recipients: int
    ) -> dict[str, Any]: ...

    async def create(self, subject_id: UUID, completed_at: datetime | None) -> int:
        """Create every summary of the subject (rows and inbox notifications) once."""
        async with self._pool.connection() as conn:
            # A repeated completion is answered without waiting for the writer lock.
            earlier = await read_claim(conn, self._rows, subject_id)
        if earlier is not None and earlier.written:
            return 0
        async with self._pool.connection() as conn, conn.transaction():
            found = await claim_request(conn, self._rows, subject_id)
            if found is None or found.written:
                return 0
            subject = await self._subject(conn, subject_id, completed_at)
            if subject is None:
                return 0
            teams = await (await conn.execute(self._teams, (subject_id,))).fetchall()
            ids = await draw_ids(conn, len(teams))
            revocation = subject_id if self._table.owner == "revocation_id" else None
            for notification_id, (manager_id, department, recipients, size) in zip(
                ids, teams, strict=True
            ):
                payload = self._payload(subject, manager_id, Team(department, size), recipients)
                # Private to the manager (docs/decisions/0051): the column's default.
                await conn.execute(
                    "INSERT INTO notifications (id, employee_id, department, kind, source, title,"
                    " body, payload, allocation_id, revocation_id, action_url)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        notification_id,
                        manager_id,
                        department,
                        self.kind,
                        SOURCE_MAILER,
                        payload["title"],
                        payload["body"],
                        Json(payload),
                        subject.allocation_id,
                        revocation,
                        payload["link"],
                    ),
                )
                await conn.execute(
                    self._sql(
                        "INSERT INTO {table} ({owner}, manager_id, department, recipients,"
                        " notification_id) VALUES (%s, %s, %s, %s, %s)"
                    ),
                    (subject_id, manager_id, department, recipients, notification_id),
                )
            return len(teams)

    async def unpublished(self, subject_id: UUID) -> list[InAppSummary]:
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    self._sql(
                        "SELECT n.id, n.employee_id, n.department, n.created_at, n.payload"
                        " FROM {table} s JOIN notifications n ON n.id = s.notification_id"
                        " WHERE s.{owner} = %s AND s.pushed_at IS NULL ORDER BY n.id"
                    ),
                    (subject_id,),
                )
            ).fetchall()
        return [InAppSummary(*row) for row in rows]

    async def mark_pushed(self, subject_id: UUID, manager_ids: list[str]) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                self._sql(
                    "UPDATE {table} SET pushed_at = now()"
                    " WHERE {owner} = %s AND manager_id = ANY(%s) AND pushed_at IS NULL"
                ),
                (subject_id, manager_ids),
            )

    async def abandon_in_doubt(self, subject_id: UUID) -> list[str]:
        """Emails claimed but never settled (the sender died or lost its database): unknown."""
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    self._sql(
                        "UPDATE {table} SET email_status = 'unknown',"
                        " last_error = 'interrupted while sending; not sent again'"
                        " WHERE {owner} = %s AND email_status = 'sending'"
                        " RETURNING manager_id"
                    ),
                    (subject_id,),
                )
            ).fetchall()
        return sorted(row[0] for row in rows)

    async def due(self, subject_id: UUID) -> list[str]:
        """Managers whose email certainly has not left yet."""
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    self._sql(
                        "SELECT manager_id FROM {table} WHERE {owner} = %s"
                        " AND email_status IN ('pending', 'failed') ORDER BY manager_id"
                    ),
                    (subject_id,),
                )
            ).fetchall()
        return [row[0] for row in rows]

    async def claim(self, subject_id: UUID, manager_id: str) -> Claim | None:
        """Take the email for sending (or settle it as skipped if opted out); None if taken."""
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    self._sql(
                        "WITH wanted AS (SELECT coalesce((SELECT enabled FROM email_preferences"
                        "   WHERE employee_id = %(manager)s AND kind = %(kind)s), true) AS yes)"
                        " UPDATE {table} s SET"
                        "  email_status = CASE WHEN wanted.yes THEN 'sending' ELSE 'skipped' END,"
                        "  attempts = s.attempts + wanted.yes::int,"
                        "  claimed_at = now()"
                        " FROM wanted"
                        " WHERE s.{owner} = %(subject)s AND s.manager_id = %(manager)s"
                        " AND s.email_status IN ('pending', 'failed')"
                        " RETURNING s.email_status, s.attempts"
                    ),
                    {"subject": subject_id, "manager": manager_id, "kind": self.kind},
                )
            ).fetchone()
        return None if row is None else Claim(row[0], row[1])

    async def settle(
        self,
        subject_id: UUID,
        manager_id: str,
        attempt: int,
        status: str,
        *,
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """Record how the claimed attempt ended; a stale attempt changes nothing."""
        async with self._pool.connection() as conn:
            await conn.execute(
                self._sql(
                    "UPDATE {table} SET email_status = %(status)s,"
                    " last_error = %(error)s,"
                    " message_id = coalesce(%(message_id)s, message_id),"
                    " sent_at = CASE WHEN %(status)s = 'sent' THEN now() ELSE sent_at END"
                    " WHERE {owner} = %(subject)s AND manager_id = %(manager)s"
                    " AND attempts = %(attempt)s AND email_status IN ('sending', 'unknown')"
                ),
                {
                    "status": status,
                    "error": None if error is None else error[:2000],
                    "message_id": message_id,
                    "subject": subject_id,
                    "manager": manager_id,
                    "attempt": attempt,
                },
            )


class SummaryStore(EmailStates):
    """Managers' summaries of allocations."""

    _rows = SUMMARIES
    _teams = _TEAMS

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], public_base_url: str) -> None:
        super().__init__(
            pool,
            SummaryTable("manager_summaries", "allocation_id", ALLOCATION_SUMMARY),
            public_base_url,
        )

    async def _subject(
        self, conn: AsyncConnection, subject_id: UUID, completed_at: datetime | None
    ) -> Allocation | None:
        return await allocation_row(conn, subject_id, completed_at)

    def _payload(
        self, subject: Summarised, manager_id: str, team: Team, recipients: int
    ) -> dict[str, Any]:
        assert isinstance(subject, Allocation)
        return in_app_payload(subject, manager_id, team, recipients, self._public_base_url)

    async def load(
        self, allocation_id: UUID, manager_id: str, completed_at: datetime | None, limit: int
    ) -> ManagerSummary | None:
        """The summary as it stands now: who in the manager's team (department) received it."""
        async with self._pool.connection() as conn:
            allocation = await allocation_row(conn, allocation_id, completed_at)
            manager = await (
                await conn.execute(
                    "SELECT id, name, email, department FROM employees WHERE id = %s",
                    (manager_id,),
                )
            ).fetchone()
            if allocation is None or manager is None:
                return None
            department = manager[3]
            team = sql.SQL(
                " FROM employee_vouchers ev JOIN employees e ON e.id = ev.employee_id"
                " WHERE ev.allocation_id = %s AND e.department = %s"
            )
            members = await (
                await conn.execute(
                    sql.SQL(
                        "SELECT e.id, e.name, e.department, e.grade{} ORDER BY e.id LIMIT %s"
                    ).format(team),
                    (allocation_id, department, limit),
                )
            ).fetchall()
            counts = await (
                await conn.execute(
                    sql.SQL("SELECT count(*), ({}){}").format(TEAM_SIZE, team),
                    (department, allocation_id, department),
                )
            ).fetchone()
        assert counts is not None
        return ManagerSummary(
            allocation=allocation,
            manager=Manager(*manager),
            members=[TeamMember(*m) for m in members],
            team=Team(department, counts[1]),
            team_recipients=counts[0],
        )


async def allocation_row(
    conn: AsyncConnection, allocation_id: UUID, completed_at: datetime | None
) -> Allocation | None:
    """The allocation as summaries describe it; `completed_at` stands in for a row
    not marked completed yet."""
    row = await (
        await conn.execute(
            "SELECT voucher, criteria, requested_at, coalesce(completed_at, %s),"
            " inserted_count FROM allocations WHERE id = %s",
            (completed_at, allocation_id),
        )
    ).fetchone()
    if row is None:
        return None
    return Allocation(allocation_id, row[0], row[1], row[2], row[3], row[4])
