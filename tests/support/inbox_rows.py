"""Employees and committed inbox rows for integration tests, written as the inserter writes
them: under the writer lock, previous ids read with the recipients, rows by COPY."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from herald_common.events import NOTIFICATION_PUSHED, SOURCE_PUSH
from herald_common.inbox_writes import take_writer_lock
from herald_common.notifications import payload_text
from herald_inserter.domain.inbox_writer import (
    CHOSEN_RECIPIENTS,
    IssuedNotification,
    copy_notifications,
    issue_notifications,
)


async def add_employees(url: str, people: list[str], department: str) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for employee in people:
            await conn.execute(
                "INSERT INTO employees (id, name, email, department, grade, hired_on)"
                " VALUES (%s, %s, %s, %s, 'G1', '2020-01-01')",
                (employee, employee, f"{employee.lower()}@example.com", department),
            )
        await conn.commit()


async def write_notifications(
    url: str,
    employees: list[str],
    rows_written: Callable[[psycopg.AsyncConnection], object] | None = None,
) -> list[IssuedNotification]:
    """One committed write of a pushed notification per entry of `employees` (repeats
    included), in that order; `rows_written` as `copy_notifications` takes it, given the
    writing connection."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await take_writer_lock(conn)
        cursor = await conn.execute(CHOSEN_RECIPIENTS, (sorted(set(employees)),))
        found = {row[0]: row for row in await cursor.fetchall()}
        issued = await issue_notifications(
            conn,
            [found[employee] for employee in employees],
            (payload_text({"employee_id": emp, "n": i}) for i, emp in enumerate(employees)),
        )
        await copy_notifications(
            conn,
            issued,
            kind=NOTIFICATION_PUSHED,
            source=SOURCE_PUSH,
            created_at=datetime.now(UTC),
            title="t",
            body="b",
            rows_written=None if rows_written is None else lambda: rows_written(conn),
        )
        await conn.commit()
    return issued
