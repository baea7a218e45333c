"""Writing inbox rows in bulk, for every kind of per-employee notification.

Callers hold the notifications writer lock (herald_common.inbox_writes) in the same
transaction: ids are drawn here, in order, and become visible in that order at commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from psycopg import AsyncConnection, sql

from herald_common.inbox_writes import draw_ids
from herald_common.notifications import PAYLOAD_SOURCE, PayloadTemplate, payload_text, row_payload

# Who may see a notification besides its employee (docs/decisions/0051).
Visibility = Literal["private", "department"]


@dataclass(frozen=True, slots=True)
class IssuedNotification:
    """One employee's notification, as written and as it will be published."""

    notification_id: int
    employee_id: str
    department: str
    # The event data as JSON text: stored as is, and spliced into the published event.
    payload_json: str
    # The employee's notification before this one (0: none); see PREVIOUS_ID_HEADER.
    previous_id: int | None = None


def with_newest_ids(recipients: sql.Composable) -> sql.Composed:
    """A query of recipients (`id`, `department` of employees) with a third column: each
    one's newest notification id (0: none), in the recipients' order of id."""
    return sql.SQL(
        "SELECT r.id, r.department, coalesce((SELECT n.id FROM notifications_per_employee n"
        " WHERE n.employee_id = r.id ORDER BY n.id DESC LIMIT 1), 0) FROM ({}) AS r"
        " ORDER BY r.id"
    ).format(recipients)


# Employees chosen by id (one array parameter), with their newest notification ids.
CHOSEN_RECIPIENTS = with_newest_ids(
    sql.SQL("SELECT id, department FROM employees WHERE id = ANY(%s)")
)


async def issue_notifications(
    conn: AsyncConnection, recipients: Sequence[tuple[str, str, int]], payloads: Iterable[str]
) -> list[IssuedNotification]:
    """Ids and previous ids for one write's rows, from its recipients (`with_newest_ids`,
    read in this transaction) and each one's payload as JSON text.

    Under the writer lock every committed id is below the ids drawn here, so an employee's
    previous id is their newest row when the recipients were read, or their row just before
    in this same write. Read with the recipients, that costs one index probe per employee
    on the rows as they were, instead of a join over the new rows after the commit, and
    the events can be sent as soon as the COPY starts.
    """
    ids = await draw_ids(conn, len(recipients))
    newest: dict[str, int] = {}
    issued = []
    for nid, (employee, department, before), payload in zip(ids, recipients, payloads, strict=True):
        issued.append(
            IssuedNotification(nid, employee, department, payload, newest.get(employee, before))
        )
        newest[employee] = nid
    return issued


# One employee's row: what differs per employee (docs/decisions/0066).
NOTIFICATION_COLUMN_TYPES = ["int8", "int8", "text", "text", "bool", "text", "int8", "text"]


def _column_text(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; the payload (json) keeps the original.
    return value.replace("\x00", "\ufffd")


async def copy_notifications(
    conn: AsyncConnection,
    notifications: list[IssuedNotification],
    *,
    kind: str,
    source: str,
    created_at: datetime,
    title: str,
    body: str,
    allocation_id: UUID | None = None,
    push_id: UUID | None = None,
    visibility: Visibility = "private",
    action_url: str | None = None,
    revocation_id: UUID | None = None,
    template: PayloadTemplate | None = None,
    codes: Sequence[str] | None = None,
    refs: Sequence[int] | None = None,
    rows_written: Callable[[], object] | None = None,
) -> None:
    """Write the rows: what they share once (`notification_contents`), then each
    employee's part with COPY (`notifications_per_employee`).

    With a `template` (and the `codes`, `refs` it has holes for, in the order of
    `notifications`), a row keeps only its values, and each payload must be
    `template.text` of them; without one, each row keeps its payload in full.
    `rows_written` is called once every row has gone to the COPY, before the server is
    waited for: work started there runs while the server works through the rows.
    """
    if not notifications:
        return
    ids = [n.notification_id for n in notifications]
    await conn.execute(
        "INSERT INTO notification_contents (id, last_id, kind, source, title, body,"
        " allocation_id, push_id, revocation_id, created_at, action_url, payload_parts)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            min(ids),
            max(ids),
            kind,
            source,
            _column_text(title),
            _column_text(body),
            allocation_id,
            push_id,
            revocation_id,
            created_at,
            action_url,
            None if template is None else list(template.parts),
        ),
    )
    content_id, visible = min(ids), visibility == "department"
    count = len(notifications)
    code_of: Sequence[str | None] = [None] * count if codes is None else codes
    ref_of: Sequence[int | None] = [None] * count if refs is None else refs
    if len(code_of) != count or len(ref_of) != count:
        raise ValueError(f"{count} notifications, {len(code_of)} codes, {len(ref_of)} refs")
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY notifications_per_employee (id, content_id, employee_id, department,"
            " department_visible, code, ref, payload) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        # Binary rows skip the server's text parsing; a payload goes as text, which is
        # also json's binary form, so the JSON is stored exactly as built.
        copy.set_types(NOTIFICATION_COLUMN_TYPES)
        for n, code, ref in zip(notifications, code_of, ref_of, strict=True):
            await copy.write_row(
                (
                    n.notification_id,
                    content_id,
                    n.employee_id,
                    n.department,
                    visible,
                    code if template is not None else None,
                    ref if template is not None else None,
                    n.payload_json if template is None else None,
                )
            )
        if rows_written is not None:
            rows_written()


# The same employee's newest notification below r.id. Every lower id has committed once r
# has (writers are serialised, 0005), so the answer never changes afterwards.
_PREVIOUS_ID = sql.SQL(
    "LEFT JOIN LATERAL (SELECT p.id FROM notifications_per_employee p"
    " WHERE p.employee_id = r.employee_id AND p.id < r.id ORDER BY p.id DESC LIMIT 1)"
    " AS previous ON true"
)


# The column of `notification_contents` naming the request a row was written for.
Owner = Literal["allocation_id", "push_id", "revocation_id"]


async def load_notifications(
    conn: AsyncConnection,
    kind: str,
    owner: Owner,
    request_id: UUID,
    *,
    ids: tuple[int, int] | None = None,
) -> tuple[datetime | None, list[IssuedNotification]]:
    """The rows of one kind written earlier for an allocation, push or revocation, to
    publish again; `ids` (first, last) keeps those with ids in that range (one batch).

    Other kinds can refer to the same allocation (a manager's summary), hence the kind.
    """
    first, last = ids if ids is not None else (None, None)
    # A content's rows lie in its id range: found through the primary key.
    cursor = await conn.execute(
        sql.SQL(
            "SELECT r.id, r.employee_id, r.department, c.created_at, coalesce(previous.id, 0),"
            " {} FROM notification_contents c"
            " JOIN notifications_per_employee r ON r.id BETWEEN c.id AND c.last_id"
            " AND r.content_id = c.id {} WHERE c.{} = %s AND c.kind = %s"
            " AND (%s::int8 IS NULL OR r.id BETWEEN %s AND %s) ORDER BY r.id"
        ).format(sql.SQL(PAYLOAD_SOURCE), _PREVIOUS_ID, sql.Identifier(owner)),
        (request_id, kind, first, first, last),
    )
    rows = await cursor.fetchall()
    created_at = rows[0][3] if rows else None
    return created_at, [
        IssuedNotification(
            nid,
            employee,
            department,
            payload_text(row_payload(employee, department, *source)),
            previous,
        )
        for nid, employee, department, _, previous, *source in rows
    ]
