"""Reads from the persistent inbox: who an employee is, what they missed, what is unread.

A stream's scope is its own employee plus any department channels it watches; replay reads
exactly that scope, so the channels authorised for a stream bound what it can replay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

from psycopg import AsyncConnection, sql
from psycopg.abc import Params
from psycopg_pool import AsyncConnectionPool

from herald_common.db import fetch_one
from herald_common.notifications import REPLAY_COLUMNS, UNREAD, replayed_event
from herald_notifier.domain.delivery import Delivery


@dataclass(frozen=True, slots=True)
class Scope:
    employee_id: str  # every stream reads its employee's own channel
    departments: frozenset[str]

    def condition(self) -> tuple[sql.Composable, dict[str, Any]]:
        parts: list[sql.Composable] = [sql.SQL("employee_id = %(employee)s")]
        params: dict[str, Any] = {"employee": self.employee_id}
        if self.departments:
            # Watchers see only what is visible to the department (docs/decisions/0051).
            parts.append(
                # `department_visible`, the index's own predicate (migration 0012).
                sql.SQL("(department = ANY(%(departments)s) AND department_visible)")
            )
            params["departments"] = sorted(self.departments)
        return sql.SQL("({})").format(sql.SQL(" OR ").join(parts)), params


@dataclass(frozen=True, slots=True)
class Watchers(Scope):
    """Several streams of the same departments at once, for a gap read they share
    (`GapReads`): the scope of one of them, plus every one's own notifications. Each stream
    keeps only its own part of what is read."""

    employee_ids: frozenset[str] = frozenset()

    def condition(self) -> tuple[sql.Composable, dict[str, Any]]:
        # One stream's scope says what the departments show (docs/decisions/0051); the
        # others add their own rows only.
        scope, params = Scope.condition(self)
        own = sql.SQL("employee_id = ANY(%(employees)s)")
        params["employees"] = sorted(self.employee_ids)
        return sql.SQL("({} OR {})").format(scope, own), params


# Notification ids are PostgreSQL bigints.
MAX_NOTIFICATION_ID = 2**63 - 1


class Inbox:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], page_size: int) -> None:
        self._pool = pool
        self._page_size = page_size

    async def _value(self, query: str | sql.Composed, params: Params) -> Any:
        """The first column of the query's row, or None without a row."""
        row = await fetch_one(self._pool, query, params)
        return None if row is None else row[0]

    async def department_of(self, employee_id: str) -> str | None:
        department = await self._value(
            "SELECT department FROM employees WHERE id = %s", (employee_id,)
        )
        return None if department is None else str(department)

    async def missed_more_than(self, scope: Scope, after_id: int, limit: int) -> bool:
        condition, params = scope.condition()
        query = sql.SQL(
            # In id order: the primary key from `after` on, not a scan of every row (the
            # lean rows are cheap enough to tempt the planner into one).
            "SELECT count(*) FROM (SELECT 1 FROM notifications_per_employee WHERE {}"
            " AND id > %(after)s ORDER BY id LIMIT %(limit)s) AS missed"
        ).format(condition)
        missed = await self._value(query, {**params, "after": after_id, "limit": limit + 1})
        return bool(missed and missed > limit)

    async def latest_id(self, scope: Scope) -> int:
        condition, params = scope.condition()
        # The rows alone (no view): max() then reads the primary key backwards.
        query = sql.SQL(
            "SELECT coalesce(max(id), 0) FROM notifications_per_employee WHERE {}"
        ).format(condition)
        return int(await self._value(query, params) or 0)

    async def after(
        self, scope: Scope, after_id: int, until: int | None = None
    ) -> AsyncIterator[Delivery]:
        """Every notification in scope with an id above `after_id` (up to `until`), in id order."""
        condition, params = scope.condition()
        # The lean rows and their contents (docs/decisions/0066), the payload built here.
        query = sql.SQL(
            "SELECT {}, r.department_visible FROM notifications_per_employee r"
            " JOIN notification_contents c ON c.id = r.content_id"
            " WHERE {} AND r.id > %(after)s AND r.id <= %(until)s ORDER BY r.id LIMIT %(page)s"
        ).format(sql.SQL(REPLAY_COLUMNS), condition)
        cursor = after_id
        bounds = {"until": MAX_NOTIFICATION_ID if until is None else until, "page": self._page_size}
        while True:
            async with self._pool.connection() as conn:
                rows = await (
                    await conn.execute(query, {**params, **bounds, "after": cursor})
                ).fetchall()
            for row in rows:
                notification_id, kind, _, employee_id, department = row[:5]
                yield Delivery(
                    notification_id,
                    kind,
                    employee_id,
                    department,
                    replayed_event(row),
                    department_visible=row[-1],
                )
            if len(rows) < self._page_size:
                return
            cursor = rows[-1][0]

    async def unread_counts(self, employee_ids: Collection[str]) -> dict[str, UnreadCount]:
        """Each employee's unread count, as of their newest notification id then: both are
        read in one statement, so they come from one snapshot."""
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(_UNREAD_COUNTS, (list(employee_ids),))).fetchall()
        return {employee: UnreadCount(int(count), int(as_of)) for employee, count, as_of in rows}


class UnreadCount(NamedTuple):
    """An employee's unread count, counted over their notifications up to `as_of`.

    Ids commit in order (docs/decisions/0005), so every notification above `as_of` is one the
    count has not seen: a stream that sends one adds it (docs/decisions/0086).
    """

    unread: int
    as_of: int  # the employee's newest notification id when counted (0: none)


_UNREAD_COUNTS = sql.SQL(
    "SELECT e.id,"
    " (SELECT count(*) FROM notifications_per_employee n WHERE n.employee_id = e.id AND {}),"
    " coalesce((SELECT max(n.id) FROM notifications_per_employee n"
    "   WHERE n.employee_id = e.id), 0)"
    " FROM (SELECT DISTINCT unnest(%s::text[]) AS id) AS e"
).format(UNREAD)
