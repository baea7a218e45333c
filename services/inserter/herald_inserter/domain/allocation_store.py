"""PostgreSQL side of one allocation: resolve, COPY, and status bookkeeping.

The write is one transaction under the notifications writer lock: ids are drawn and
committed in order, and a redelivered request finds `inserted_at` set and writes nothing
(`claims`: the step every write of a request starts with).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from herald_common import audit
from herald_common.approval import ApprovalSettings
from herald_common.criteria_sql import matching_employees_query, unknown_departments_query
from herald_common.events import (
    SOURCE_ALLOCATION,
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationRequested,
    json_text,
    request_fingerprint,
)
from herald_common.notifications import PayloadTemplate
from herald_inserter.domain import failures
from herald_inserter.domain.claims import Requests, WriteOutcome, claim, mark_written
from herald_inserter.domain.codes import generate_codes
from herald_inserter.domain.failures import Failure
from herald_inserter.domain.inbox_writer import (
    IssuedNotification,
    copy_notifications,
    issue_notifications,
    with_newest_ids,
)

# Statuses of an allocation the inserter must not write: it waits, or it was stopped.
NOT_SENT = ("pending_approval", "scheduled", "rejected", "expired", "cancelled")
# Who the audit trail names for the inserter's steps.
INSERTER_ACTOR = "herald-inserter"

logger = logging.getLogger(__name__)

ALLOCATIONS = Requests(
    "allocations",
    kind=VOUCHER_ALLOCATED,
    owner="allocation_id",
    inserting="status = 'inserting', inserting_at = now()",
    # It ended before writing anything (no recipients, given up, rejected, expired,
    # cancelled), or it waits for approval or its time: nothing is written for it now.
    final=("failed", *NOT_SENT),
)

# Sends the notifications' events (inside the caller's Kafka transaction); returns how many.
Publish = Callable[[list[IssuedNotification], datetime], Awaitable[int]]


class VoucherPayloads:
    """Each employee's event data as JSON text, from the parts every voucher shares.

    The text equals `payload_text` of the dict {allocation_id, employee_id, department,
    title, body, voucher{name, code, amount, currency, expires_on}}, built without
    encoding the shared parts 100,000 times; `template` is those parts, stored once.
    """

    def __init__(self, request: AllocationRequested) -> None:
        voucher = request.voucher
        amount = f"{voucher.amount:.2f}"
        self.title = f"New voucher: {voucher.name}"
        self.body = f"You received {amount} {voucher.currency}, valid until {voucher.expires_on}."
        self.template = PayloadTemplate(
            (
                f'{{"allocation_id":"{request.allocation_id}","employee_id":',
                "",
                ',"department":',
                f',"title":{json_text(self.title)},"body":{json_text(self.body)},'
                f'"voucher":{{"name":{json_text(voucher.name)},"code":',
                f',"amount":"{amount}","currency":{json_text(voucher.currency)},'
                f'"expires_on":"{voucher.expires_on.isoformat()}"}}}}',
            )
        )

    def text(self, employee_id: str, department: str, code: str) -> str:
        return self.template.text(employee_id, department, code)


async def _has_history(conn: AsyncConnection, allocation_id: UUID) -> bool:
    row = await (
        await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM audit_records WHERE allocation_id = %s)",
            (allocation_id,),
        )
    ).fetchone()
    return bool(row and row[0])


async def _copy_vouchers(
    conn: AsyncConnection,
    request: AllocationRequested,
    notifications: list[IssuedNotification],
    codes: list[str],
    created_at: datetime,
) -> None:
    allocation_id, voucher = request.allocation_id, request.voucher
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY employee_vouchers (allocation_id, employee_id, code, amount, currency,"
            " expires_on, notification_id, created_at) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        # char(3) takes text's binary form.
        copy.set_types(["uuid", "text", "text", "numeric", "text", "date", "int8", "timestamptz"])
        for n, code in zip(notifications, codes, strict=True):
            await copy.write_row(
                (
                    allocation_id,
                    n.employee_id,
                    code,
                    voucher.amount,
                    voucher.currency,
                    voucher.expires_on,
                    n.notification_id,
                    created_at,
                )
            )


class AllocationStore:
    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection], *, approval: ApprovalSettings
    ) -> None:
        self._pool = pool
        self._approval = approval

    async def write(
        self,
        request: AllocationRequested,
        publish: Publish | None = None,
        *,
        source: str = SOURCE_ALLOCATION,
    ) -> WriteOutcome:
        """The allocation's notifications, written now or earlier, with their previous ids.

        When they are written now, `publish` is called with them while the COPY still runs
        (the database is the slower side), and the write commits once it returned. Its
        events must not become visible before that commit: it sends inside a Kafka
        transaction that the caller commits after this returns.
        """
        async with self._pool.connection() as conn, conn.transaction():
            claimed = await claim(
                conn,
                ALLOCATIONS,
                request.allocation_id,
                row={
                    "request_hash": request_fingerprint(request.voucher, request.criteria),
                    "voucher": Json(request.voucher.model_dump(mode="json")),
                    "criteria": Json(request.criteria.model_dump(mode="json")),
                    "requested_at": request.requested_at,
                },
                admit=lambda conn: self._admit(conn, request),
            )
            if claimed is not None:
                return claimed
            # Written straight to the topic by another system: its trail starts here.
            fresh = not await _has_history(conn, request.allocation_id)
            return await self._insert(conn, request, publish, source, fresh=fresh)

    async def _admit(
        self, conn: AsyncConnection, request: AllocationRequested
    ) -> WriteOutcome | None:
        unknown = await self._unknown_departments(conn, request)
        if not unknown:
            return None
        # The API refuses these; a request written straight to the topic is refused here
        # the same way (no row), and a row the API made says why.
        failure = failures.unknown_departments(unknown)
        await self._set_failed(conn, request.allocation_id, failure)
        return WriteOutcome("rejected", datetime.now(UTC), [], False, failure=failure)

    async def _unknown_departments(
        self, conn: AsyncConnection, request: AllocationRequested
    ) -> list[str]:
        if not request.criteria.departments:
            return []
        query, params = unknown_departments_query(list(request.criteria.departments))
        return [str(r[0]) for r in await (await conn.execute(query, params)).fetchall()]

    async def _needs_approval(
        self, conn: AsyncConnection, request: AllocationRequested, matched: int, source: str
    ) -> str | None:
        """Why the request must wait for approval before anything is written; None if not.

        The rule is the API's, applied again here because the audience is counted anew
        when the request is sent (a schedule), and because other systems write requests
        straight to the topic; sources in `exempt_sources` are trusted to have had theirs.
        """
        reason = self._approval.reason(matched, request.voucher)
        if reason is None or source in self._approval.exempt_sources:
            return None
        row = await (
            await conn.execute(
                "SELECT decided_by FROM allocations WHERE id = %s", (request.allocation_id,)
            )
        ).fetchone()
        if row is not None and row[0] is not None:
            return None  # a second hr-admin approved it
        return reason

    async def _park(
        self,
        conn: AsyncConnection,
        request: AllocationRequested,
        matched: int,
        reason: str,
        *,
        recorded: bool,
    ) -> WriteOutcome:
        """Over the approval rule and not approved: it waits for approval, nothing written."""
        await conn.execute(
            "UPDATE allocations SET status = 'pending_approval', approval_required = true,"
            " approval_expires_at = now() + make_interval(secs => %s), inserting_at = NULL"
            " WHERE id = %s",
            (self._approval.expires_after.total_seconds(), request.allocation_id),
        )
        if not recorded:  # a schedule whose audience grew past the rule by its send time
            await audit.append(
                conn,
                allocation_id=request.allocation_id,
                step="requested",
                actor=INSERTER_ACTOR,
                detail={"matched": matched, "approval": reason},
            )
        logger.info("allocation %s waits for approval: %s", request.allocation_id, reason)
        return WriteOutcome("pending_approval", datetime.now(UTC), [], False)

    async def _set_failed(
        self, conn: AsyncConnection, allocation_id: UUID, failure: Failure
    ) -> None:
        row = await (
            await conn.execute(
                "WITH before AS (SELECT id, status FROM allocations WHERE id = %s FOR UPDATE)"
                " UPDATE allocations SET status = 'failed', failure_reason = %s,"
                " failure_detail = %s, completed_at = now() FROM before"
                " WHERE allocations.id = before.id AND before.status <> 'completed'"
                " RETURNING before.status",
                (
                    allocation_id,
                    failure.reason[:2000],
                    (failure.detail or "")[:4000] or None,
                ),
            )
        ).fetchone()
        if row is not None and row[0] != "failed":
            await audit.append(
                conn,
                allocation_id=allocation_id,
                step="failed",
                actor=INSERTER_ACTOR,
                detail={"reason": failure.reason},
            )

    async def _insert(
        self,
        conn: AsyncConnection,
        request: AllocationRequested,
        publish: Publish | None,
        source: str,
        *,
        fresh: bool,
    ) -> WriteOutcome:
        query, params = matching_employees_query(request.criteria, request.requested_at.date())
        employees = await (await conn.execute(with_newest_ids(query), params)).fetchall()
        created_at = datetime.now(UTC)
        count = len(employees)
        approval = await self._needs_approval(conn, request, count, source)
        if fresh:
            detail: dict[str, object] = {"via": "topic", "source": source, "matched": count}
            if approval:
                detail["approval"] = approval
            await audit.append(
                conn,
                allocation_id=request.allocation_id,
                step="requested",
                actor=source,
                detail=detail,
            )
        if count == 0:
            # Not "completed 0/0/0": an allocation that reaches nobody did not do its job.
            failure = failures.no_recipients()
            await self._set_failed(conn, request.allocation_id, failure)
            return WriteOutcome("failed", created_at, [], False, failure=failure)
        if approval is not None:
            return await self._park(conn, request, count, approval, recorded=fresh)
        await audit.append(
            conn,
            allocation_id=request.allocation_id,
            step="started",
            actor=INSERTER_ACTOR,
            detail={"matched": count},
        )
        codes = generate_codes(request.voucher.code_prefix, count)
        payloads = VoucherPayloads(request)
        notifications = await issue_notifications(
            conn,
            employees,
            (
                payloads.text(emp, dept, code)
                for (emp, dept, _), code in zip(employees, codes, strict=True)
            ),
        )
        allocation_id = request.allocation_id
        # The events are complete (previous ids included): send them while the COPY runs.
        publishing = None
        if publish is not None:
            publishing = asyncio.ensure_future(publish(notifications, created_at))
        try:
            await copy_notifications(
                conn,
                notifications,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                created_at=created_at,
                title=payloads.title,
                body=payloads.body,
                allocation_id=allocation_id,
                # A department's vouchers are its watchers' to see, as its team feed shows.
                visibility="department",
                template=payloads.template,
                codes=codes,
            )
            await _copy_vouchers(conn, request, notifications, codes, created_at)
            await mark_written(conn, ALLOCATIONS, allocation_id, count)
            published = None if publishing is None else await publishing
        finally:
            if publishing is not None:
                publishing.cancel()
        return WriteOutcome("inserting", created_at, notifications, True, published)

    async def mark_published(self, allocation_id: UUID, published: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE allocations SET status = 'published', published_count = %s,"
                " published_at = now() WHERE id = %s AND status IN ('inserting', 'published')",
                (published, allocation_id),
            )

    async def mark_completed(self, allocation_id: UUID) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            done = await (
                await conn.execute(
                    "UPDATE allocations SET status = 'completed', completed_at = now()"
                    " WHERE id = %s AND status = 'published' RETURNING published_count",
                    (allocation_id,),
                )
            ).fetchone()
            if done is not None:
                await audit.append(
                    conn,
                    allocation_id=allocation_id,
                    step="completed",
                    actor=INSERTER_ACTOR,
                    detail={"published": done[0]},
                )

    async def mark_failed(self, allocation_id: UUID, failure: Failure) -> None:
        async with self._pool.connection() as conn:
            await self._set_failed(conn, allocation_id, failure)

    async def counts(self, allocation_id: UUID) -> tuple[int, int, int]:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT matched_count, inserted_count, published_count FROM allocations"
                    " WHERE id = %s",
                    (allocation_id,),
                )
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (0, 0, 0)
