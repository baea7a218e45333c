"""The inserter's inbox writer against PostgreSQL: previous ids read with the recipients."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import pq

from tests.support.inbox_rows import add_employees, write_notifications

pytestmark = pytest.mark.integration

DEPARTMENT = "Writer-Dept"
PEOPLE = ["WR001", "WR002", "WR003"]


@pytest.fixture(scope="module")
async def database(herald_env):
    await add_employees(herald_env.database_url, PEOPLE, DEPARTMENT)
    return herald_env.database_url


async def _write(
    url: str,
    employees: list[str],
    rows_written: Callable[[psycopg.AsyncConnection], object] | None = None,
) -> list[tuple[int, str, int | None]]:
    """One write as the stores do it: (id, employee, previous id) of each row, committed."""
    issued = await write_notifications(url, employees, rows_written)
    return [(n.notification_id, n.employee_id, n.previous_id) for n in issued]


async def test_previous_ids_are_each_employees_newest_row_before_the_write(database):
    async with await psycopg.AsyncConnection.connect(database) as conn:
        await conn.execute("DELETE FROM notifications WHERE employee_id = ANY(%s)", (PEOPLE,))
        await conn.commit()
    first = await _write(database, ["WR001", "WR002"])
    assert [(emp, previous) for _, emp, previous in first] == [("WR001", 0), ("WR002", 0)]
    newest = {emp: nid for nid, emp, _ in first}

    second = await _write(database, ["WR001", "WR002", "WR003", "WR002"])
    by_row = [(emp, previous) for _, emp, previous in second]
    assert by_row[:3] == [("WR001", newest["WR001"]), ("WR002", newest["WR002"]), ("WR003", 0)]
    # WR002's second row in this write names WR002's first row in it.
    assert by_row[3] == ("WR002", second[1][0])

    async with await psycopg.AsyncConnection.connect(database) as conn:
        cursor = await conn.execute(
            "SELECT id, employee_id FROM notifications WHERE employee_id = ANY(%s) ORDER BY id",
            (PEOPLE,),
        )
        stored = await cursor.fetchall()
    assert stored == [(nid, emp) for nid, emp, _ in first + second]


async def test_rows_written_is_called_once_while_the_copy_is_still_open(database):
    # The allocation store starts sending the events there, to run while the server works
    # through the rows: the COPY must still be in progress, not finished.
    statuses: list[pq.TransactionStatus] = []
    written = await _write(
        database,
        ["WR001", "WR002", "WR003"],
        rows_written=lambda conn: statuses.append(conn.pgconn.transaction_status),
    )
    assert statuses == [pq.TransactionStatus.ACTIVE]
    async with await psycopg.AsyncConnection.connect(database) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM notifications WHERE id = ANY(%s)", ([n for n, _, _ in written],)
        )
        row = await cursor.fetchone()
    assert row == (3,)
