"""`notifications`, the view with the old columns over the lean rows (0066): what other
systems and tools write through it is kept as they wrote it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, LiteralString

import psycopg
import pytest

from herald_common.inbox_writes import NOTIFICATIONS_WRITER_LOCK

pytestmark = pytest.mark.integration

INSERT = (
    "INSERT INTO notifications (employee_id, department, kind, source, title, body, payload,"
    " visibility, action_url) VALUES (%s, 'Views', 'test.view', '/test', 'A title', 'A body',"
    " %s, 'department', 'https://example.com/a') RETURNING id, created_at, payload::text"
)
READ_BACK = (
    "SELECT employee_id, department, kind, source, title, body, payload::text, visibility,"
    " action_url, read_at, archived_at, delivered_at FROM notifications WHERE id = %s"
)
PAYLOAD = '{"title": "A title",  "spaced": [1, 2.50, "\\u0000"]}'


@pytest.fixture
def conn(herald_env) -> Iterator[psycopg.Connection]:
    with psycopg.connect(herald_env.database_url, autocommit=True) as connection:
        yield connection


def _insert(conn: psycopg.Connection) -> tuple[str, int]:
    employee = f"view-{secrets.token_hex(3)}"
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (NOTIFICATIONS_WRITER_LOCK,))
        row = conn.execute(INSERT, (employee, PAYLOAD)).fetchone()
    assert row is not None
    return employee, int(row[0])


def _one(conn: psycopg.Connection, statement: LiteralString, notification_id: int) -> Any:
    return conn.execute(statement, (notification_id,)).fetchone()


def test_a_row_inserted_through_the_view_reads_back_as_written(conn) -> None:
    employee, notification_id = _insert(conn)
    row = _one(conn, READ_BACK, notification_id)
    assert row == (employee, "Views", "test.view", "/test", "A title", "A body", PAYLOAD,
                   "department", "https://example.com/a", None, None, None)  # fmt: skip


def test_a_rows_state_changes_through_the_view(conn) -> None:
    _, notification_id = _insert(conn)
    changed = conn.execute(
        "UPDATE notifications SET read_at = now(), visibility = 'private' WHERE id = %s"
        " RETURNING id",
        (notification_id,),
    ).fetchall()
    row = _one(
        conn,
        "SELECT read_at IS NOT NULL, department_visible FROM notifications_per_employee"
        " WHERE id = %s",
        notification_id,
    )
    assert (changed, row) == ([(notification_id,)], (True, False))


def test_what_a_request_shares_cannot_change_through_the_view(conn) -> None:
    _, notification_id = _insert(conn)
    with pytest.raises(psycopg.errors.RestrictViolation, match="only read_at"):
        conn.execute("UPDATE notifications SET title = 'Other' WHERE id = %s", (notification_id,))


def test_a_row_deleted_through_the_view_is_gone(conn) -> None:
    employee, _ = _insert(conn)
    conn.execute("DELETE FROM notifications WHERE employee_id = %s", (employee,))
    left = conn.execute(
        "SELECT count(*) FROM notifications_per_employee WHERE employee_id = %s", (employee,)
    ).fetchone()
    assert left == (0,)
