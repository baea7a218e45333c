"""What a stream's opening reads, for every stream opening at the same time in one query.

Two reads per open, each batched (`Batched`): the directory (the employee's department,
needed to register the stream), then, once registered, where the stream starts: the newest
notification id of the employee, how many they missed after their Last-Event-ID (up to the
replay limit, which decides between a replay and a `reset`) and their unread count. Before,
these were four queries of their own per open (docs/decisions/0076).

Only streams of the employee's own channel are read here; a stream that also watches
departments reads its wider scope through `Inbox`, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from herald_common.db import fetch_all
from herald_common.notifications import UNREAD
from herald_notifier.domain.batched import Batched
from herald_notifier.domain.inbox import UnreadCount

_DIRECTORY = "SELECT id, department FROM employees WHERE id = ANY(%s)"

# One row per requested stream, in order. `after` NULL (no Last-Event-ID) counts nothing.
_START = sql.SQL(
    "SELECT"
    " coalesce((SELECT max(n.id) FROM notifications_per_employee n"
    "   WHERE n.employee_id = s.employee), 0),"
    " (SELECT count(*) FROM (SELECT 1 FROM notifications_per_employee n"
    "   WHERE n.employee_id = s.employee AND n.id > s.after LIMIT %(limit)s) AS missed),"
    " (SELECT count(*) FROM notifications_per_employee"
    "   WHERE employee_id = s.employee AND {unread})"
    " FROM unnest(%(employees)s::text[], %(after)s::bigint[]) WITH ORDINALITY"
    "   AS s(employee, after, at)"
    " ORDER BY s.at"
).format(unread=UNREAD)


@dataclass(frozen=True, slots=True)
class Start:
    """Where an employee's own stream starts."""

    latest_id: int  # the newest notification id of the employee (0: none yet)
    missed: int  # after the Last-Event-ID, counted up to the replay limit + 1
    unread: int

    @property
    def counted(self) -> UnreadCount:
        """The unread count as of the newest id: both were read in one statement."""
        return UnreadCount(self.unread, self.latest_id)


class Openings:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], replay_limit: int) -> None:
        self._pool = pool
        self._replay_limit = replay_limit
        self._directory: Batched[str, str | None] = Batched(self._departments)
        self._starts: Batched[tuple[str, int | None], Start] = Batched(self._read_starts)

    async def department_of(self, employee_id: str) -> str | None:
        """The employee's department; None when they are not in the directory."""
        return await self._directory.get(employee_id)

    async def start(self, employee_id: str, last_event_id: int | None) -> Start:
        """Read once the stream is registered: anything newer then reaches it live."""
        return await self._starts.get((employee_id, last_event_id))

    async def _departments(self, employee_ids: Sequence[str]) -> list[str | None]:
        rows = await fetch_all(self._pool, _DIRECTORY, (list(set(employee_ids)),))
        found = {employee: str(department) for employee, department in rows}
        return [found.get(employee) for employee in employee_ids]

    async def _read_starts(self, streams: Sequence[tuple[str, int | None]]) -> list[Start]:
        params = {
            "employees": [employee for employee, _ in streams],
            "after": [after for _, after in streams],
            "limit": self._replay_limit + 1,
        }
        rows = await fetch_all(self._pool, _START, params)
        return [Start(int(latest), int(missed), int(unread)) for latest, missed, unread in rows]
