"""PostgreSQL side of one revocation: void the vouchers, COPY the notices, bookkeeping.

One transaction under the notifications writer lock (`claims`, as for allocations and
pushes): the vouchers still valid are voided and each of their employees gets one
`herald.voucher.revoked` inbox row, with an id drawn now, so above the voucher's own. A
redelivered request finds `inserted_at` set and writes nothing; a voucher voided before
(by this or another revocation) is not voided or announced again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from herald_common import audit
from herald_common.events import (
    SOURCE_INSERTER,
    VOUCHER_REVOKED,
    RevocationRequested,
    json_text,
    revocation_fingerprint,
)
from herald_common.notifications import PayloadTemplate
from herald_common.revocations import unknown_recipients
from herald_inserter.domain.claims import Requests, WriteOutcome, claim, mark_written
from herald_inserter.domain.failures import Failure, gave_up
from herald_inserter.domain.inbox_writer import copy_notifications, issue_notifications

# An allocation's vouchers can be revoked once it completed, until all of them are.
REVOCABLE = ("completed", "partly_revoked")

REVOCATIONS = Requests(
    "revocations",
    kind=VOUCHER_REVOKED,
    owner="revocation_id",
    # Refused before writing (the allocation is not completed, unknown employees): final.
    final=("failed",),
)

_VOID = (
    "UPDATE employee_vouchers SET revoked_at = %(at)s, revoked_by = %(by)s,"
    " revoke_reason = %(reason)s, revocation_id = %(revocation)s"
    " WHERE allocation_id = %(allocation)s AND revoked_at IS NULL"
    " AND (%(employees)s::text[] IS NULL OR employee_id = ANY(%(employees)s))"
)

# The vouchers this revocation voided, with each employee's department (now, or as the
# voucher's notice had it) and newest notification id, in the order of employee ids.
_VOIDED = (
    "SELECT ev.employee_id, coalesce(e.department, n.department),"
    " coalesce((SELECT p.id FROM notifications_per_employee p WHERE p.employee_id = ev.employee_id"
    " ORDER BY p.id DESC LIMIT 1), 0), ev.code, ev.notification_id"
    " FROM employee_vouchers ev JOIN notifications_per_employee n ON n.id = ev.notification_id"
    " LEFT JOIN employees e ON e.id = ev.employee_id"
    " WHERE ev.revocation_id = %s ORDER BY ev.employee_id"
)


# Revoked once every voucher is void, partly revoked while some are still valid.
_ALLOCATION_STATUS = (
    "UPDATE allocations SET status = CASE WHEN EXISTS (SELECT 1 FROM employee_vouchers ev"
    " WHERE ev.allocation_id = %(allocation)s AND ev.revoked_at IS NULL)"
    " THEN 'partly_revoked' ELSE 'revoked' END"
    " WHERE id = %(allocation)s AND status IN ('completed', 'partly_revoked')"
)


class RevokedNotice:
    """Title, body and each employee's event data (`VoucherRevoked`) of one revocation."""

    def __init__(self, request: RevocationRequested, voucher: dict[str, Any]) -> None:
        amount = f"{Decimal(str(voucher['amount'])):.2f}"
        self._request = request
        self._voucher = voucher
        self._amount = amount
        self.title = f"Voucher revoked: {voucher['name']}"
        self.body = (
            f"Your voucher of {amount} {voucher['currency']} is no longer valid."
            f" Reason: {request.reason}"
        )

    @cached_property
    def template(self) -> PayloadTemplate:
        """The parts of `text` every notice of the revocation shares."""
        request, voucher = self._request, self._voucher
        return PayloadTemplate(
            (
                f'{{"revocation_id":{json_text(str(request.revocation_id))},'
                f'"allocation_id":{json_text(str(request.allocation_id))},'
                '"revoked_notification_id":',
                ',"employee_id":',
                ',"department":',
                f',"title":{json_text(self.title)},"body":{json_text(self.body)},'
                f'"reason":{json_text(request.reason)},'
                f'"voucher":{{"name":{json_text(voucher["name"])},"code":',
                f',"amount":{json_text(self._amount)},"currency":{json_text(voucher["currency"])},'
                f'"expires_on":{json_text(voucher["expires_on"])}}}}}',
            )
        )

    def text(self, employee_id: str, department: str, code: str, revoked_id: int) -> str:
        """`payload_text` of {revocation_id, allocation_id, revoked_notification_id,
        employee_id, department, title, body, reason, voucher{name, code, amount, currency,
        expires_on}}."""
        return self.template.text(employee_id, department, code, revoked_id)


class RevocationStore:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def write(self, request: RevocationRequested) -> WriteOutcome:
        """The revocation's notices, written now or earlier, with their previous ids."""
        employees = request.employee_ids
        async with self._pool.connection() as conn, conn.transaction():
            claimed = await claim(
                conn,
                REVOCATIONS,
                request.revocation_id,
                row={
                    "allocation_id": request.allocation_id,
                    "requested_by": request.requested_by,
                    "request_hash": revocation_fingerprint(
                        request.allocation_id, request.reason, employees
                    ),
                    "reason": request.reason,
                    "employee_ids": None if employees is None else Json(sorted(set(employees))),
                    "requested_at": request.requested_at,
                },
                admit=lambda conn: self._admit(conn, request),
            )
            if claimed is not None:
                return claimed
            return await self._void(conn, request)

    async def _admit(
        self, conn: AsyncConnection, request: RevocationRequested
    ) -> WriteOutcome | None:
        """Refuses what the API refuses too: a request written straight to the topic for
        an allocation that is not completed, or for employees who have no voucher of it."""
        row = await (
            await conn.execute(
                "SELECT status FROM allocations WHERE id = %s", (request.allocation_id,)
            )
        ).fetchone()
        failure = None
        if row is None or row[0] not in REVOCABLE:
            state = "does not exist" if row is None else f"is {row[0]}"
            failure = Failure(
                f"Only a completed allocation can be revoked; allocation"
                f" {request.allocation_id} {state}. Nothing was revoked."
            )
        elif request.employee_ids is not None:
            unknown = await unknown_recipients(conn, request.allocation_id, request.employee_ids)
            if unknown:
                failure = Failure(
                    f"These employees have no voucher of allocation {request.allocation_id}:"
                    f" {', '.join(unknown[:20])}. Nothing was revoked."
                )
        if failure is None:
            return None
        await self._set_failed(conn, request.revocation_id, failure)
        return WriteOutcome("rejected", datetime.now(UTC), [], False, failure=failure)

    async def _void(self, conn: AsyncConnection, request: RevocationRequested) -> WriteOutcome:
        revoked_at = datetime.now(UTC)
        voucher = await (
            await conn.execute(
                "SELECT voucher FROM allocations WHERE id = %s", (request.allocation_id,)
            )
        ).fetchone()
        assert voucher is not None  # admitted: the allocation exists
        employees = None if request.employee_ids is None else sorted(set(request.employee_ids))
        await conn.execute(
            _VOID,
            {
                "at": revoked_at,
                "by": request.requested_by,
                "reason": request.reason,
                "revocation": request.revocation_id,
                "allocation": request.allocation_id,
                "employees": employees,
            },
        )
        voided = await (await conn.execute(_VOIDED, (request.revocation_id,))).fetchall()
        notice = RevokedNotice(request, voucher[0])
        notifications = await issue_notifications(
            conn,
            [(emp, dept, newest) for emp, dept, newest, _, _ in voided],
            (notice.text(emp, dept, code, revoked) for emp, dept, _, code, revoked in voided),
        )
        await copy_notifications(
            conn,
            notifications,
            kind=VOUCHER_REVOKED,
            source=SOURCE_INSERTER,
            created_at=revoked_at,
            title=notice.title,
            body=notice.body,
            allocation_id=request.allocation_id,
            revocation_id=request.revocation_id,
            # Like the voucher it voids, seen by the department's watchers (0051).
            visibility="department",
            template=notice.template,
            codes=[code for _, _, _, code, _ in voided],
            refs=[revoked for _, _, _, _, revoked in voided],
        )
        await mark_written(conn, REVOCATIONS, request.revocation_id, len(notifications))
        # What is left valid decides the allocation's status; the step is recorded with the
        # voiding, so the trail has it exactly when the vouchers are void.
        await conn.execute(_ALLOCATION_STATUS, {"allocation": request.allocation_id})
        await audit.append(
            conn,
            allocation_id=request.allocation_id,
            step="revoked",
            actor=request.requested_by,
            detail={
                "revocation_id": str(request.revocation_id),
                "reason": request.reason,
                "employee_ids": employees if employees is not None else "all",
                "revoked": len(notifications),
            },
        )
        return WriteOutcome("inserting", revoked_at, notifications, inserted_now=True)

    async def mark_completed(self, revocation_id: UUID, published: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE revocations SET status = 'completed', published_count = %s,"
                " completed_at = now() WHERE id = %s AND status = 'inserting'",
                (published, revocation_id),
            )

    async def mark_failed(self, revocation_id: UUID, exc: Exception) -> Failure:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT inserted_count FROM revocations WHERE id = %s", (revocation_id,)
                )
            ).fetchone()
            failure = gave_up(exc, what="revocation", written=row[0] if row else 0)
            await self._set_failed(conn, revocation_id, failure)
        return failure

    async def _set_failed(
        self, conn: AsyncConnection, revocation_id: UUID, failure: Failure
    ) -> None:
        await conn.execute(
            "UPDATE revocations SET status = 'failed', failure_reason = %s, failure_detail = %s,"
            " completed_at = now() WHERE id = %s AND status <> 'completed'",
            (failure.reason[:2000], (failure.detail or "")[:4000] or None, revocation_id),
        )
