"""PostgreSQL side of one generic push: resolve targets, COPY inbox rows, bookkeeping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.criteria_sql import matching_employees_query
from herald_common.events import (
    NOTIFICATION_PUSHED,
    SOURCE_PUSH,
    Criteria,
    NotificationRequested,
    json_text,
    push_fingerprint,
)
from herald_common.notifications import PayloadTemplate
from herald_inserter.domain.claims import Requests, WriteOutcome, claim, mark_written
from herald_inserter.domain.failures import gave_up
from herald_inserter.domain.inbox_writer import (
    CHOSEN_RECIPIENTS,
    Visibility,
    copy_notifications,
    issue_notifications,
    with_newest_ids,
)

# A push that failed is written again if its request comes back (unlike an allocation).
PUSHES = Requests("pushes", kind=NOTIFICATION_PUSHED, owner="push_id")


class PushPayloads:
    """Each employee's event data as JSON text: `payload_text` of {push_id, employee_id,
    department, title, body, data}, with the shared parts (`template`) encoded once."""

    def __init__(self, request: NotificationRequested) -> None:
        tail = (
            f',"title":{json_text(request.title)},"body":{json_text(request.body)},'
            f'"data":{json_text(request.data)}'
            # Only when there is one: pushes without a link keep their payload as it was.
            + (
                ""
                if request.action_url is None
                else f',"action_url":{json_text(request.action_url)}'
            )
            + "}"
        )
        self.template = PayloadTemplate(
            (f'{{"push_id":"{request.push_id}","employee_id":', "", ',"department":', "", tail)
        )

    def text(self, employee_id: str, department: str) -> str:
        return self.template.text(employee_id, department)


def push_visibility(request: NotificationRequested) -> Visibility:
    """A push to a department is the department's; to named employees or criteria, private."""
    return "department" if request.target.department is not None else "private"


class PushStore:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def write(self, request: NotificationRequested) -> WriteOutcome:
        """The push's notifications, written now or earlier, with their previous ids."""
        async with self._pool.connection() as conn, conn.transaction():
            claimed = await claim(
                conn,
                PUSHES,
                request.push_id,
                row={
                    "requested_by": request.requested_by,
                    "request_hash": push_fingerprint(
                        request.title,
                        request.body,
                        request.data,
                        request.target,
                        request.action_url,
                    ),
                    "request": json.dumps(request.model_dump(mode="json")),
                    "requested_at": request.requested_at,
                },
            )
            if claimed is not None:
                return claimed
            return await self._insert(conn, request)

    async def _targets(self, conn: AsyncConnection, request: NotificationRequested) -> list[Any]:
        target = request.target
        if target.employee_ids is not None:
            cursor = await conn.execute(CHOSEN_RECIPIENTS, (sorted(set(target.employee_ids)),))
            return await cursor.fetchall()
        criteria = target.criteria or Criteria(departments=[target.department or ""])
        query, params = matching_employees_query(criteria, request.requested_at.date())
        return await (await conn.execute(with_newest_ids(query), params)).fetchall()

    async def _insert(self, conn: AsyncConnection, request: NotificationRequested) -> WriteOutcome:
        employees = await self._targets(conn, request)
        created_at = datetime.now(UTC)
        payloads = PushPayloads(request)
        notifications = await issue_notifications(
            conn, employees, (payloads.text(emp, dept) for emp, dept, _ in employees)
        )
        await copy_notifications(
            conn,
            notifications,
            kind=NOTIFICATION_PUSHED,
            source=SOURCE_PUSH,
            created_at=created_at,
            title=request.title,
            body=request.body,
            push_id=request.push_id,
            visibility=push_visibility(request),
            action_url=request.action_url,
            template=payloads.template,
        )
        await mark_written(conn, PUSHES, request.push_id, len(employees))
        return WriteOutcome("inserting", created_at, notifications, inserted_now=True)

    async def mark_completed(self, push_id: UUID, published: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE pushes SET status = 'completed', published_count = %s,"
                " completed_at = now() WHERE id = %s",
                (published, push_id),
            )

    async def mark_failed(self, push_id: UUID, exc: Exception) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "SELECT inserted_count FROM pushes WHERE id = %s FOR UPDATE", (push_id,)
                )
            ).fetchone()
            failure = gave_up(exc, what="notification", written=row[0] if row else 0)
            await conn.execute(
                "UPDATE pushes SET status = 'failed', failure_reason = %s, failure_detail = %s,"
                " completed_at = now() WHERE id = %s AND status <> 'completed'",
                (failure.reason[:2000], (failure.detail or "")[:4000] or None, push_id),
            )
