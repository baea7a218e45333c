"""Accepting revocations: only of a completed allocation, only of vouchers still valid.

The revocation row and its request event commit together through the outbox, like an
allocation's (docs/decisions/0035); the inserter voids the vouchers and tells each
employee (docs/decisions/0047). The allocation's row is locked while a request is
checked, so two revocations of one allocation are accepted one after the other and the
second sees the first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Json

from herald_allocation.domain.accepting import (
    Accepted,
    IdempotencyKey,
    RequestService,
    RequestTable,
)
from herald_allocation.domain.outbox import request_record
from herald_common.events import (
    REVOCATION_REQUESTED,
    SOURCE_ALLOCATION,
    RevocationRequested,
    revocation_fingerprint,
)
from herald_common.revocations import unknown_recipients

logger = logging.getLogger(__name__)

_COLUMNS = (
    "id, allocation_id, requested_by, reason, employee_ids, status, failure_reason,"
    " inserted_count, published_count, requested_at, inserted_at, completed_at"
)
REVOCATIONS = RequestTable("revocations", _COLUMNS)

# The target vouchers that are still valid and that no accepted revocation is about to void.
_STILL_VALID = (
    "SELECT count(*) FROM employee_vouchers ev"
    " WHERE ev.allocation_id = %(allocation)s AND ev.revoked_at IS NULL"
    " AND (%(employees)s::text[] IS NULL OR ev.employee_id = ANY(%(employees)s))"
    " AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.allocation_id = ev.allocation_id"
    "  AND r.status IN ('requested', 'inserting')"
    "  AND (r.employee_ids IS NULL OR r.employee_ids ? ev.employee_id))"
)


class AllocationNotFound(Exception):
    pass


class NotRevocable(Exception):
    """The allocation is not completed (or partly revoked): nothing of it can be revoked."""

    def __init__(self, status: str) -> None:
        if status == "revoked":
            message = "every voucher of this allocation is revoked already"
        else:
            message = f"only a completed allocation can be revoked; this one is {status}"
        super().__init__(message)
        self.status = status


class UnknownRecipients(Exception):
    def __init__(self, employee_ids: list[str]) -> None:
        shown = ", ".join(employee_ids[:20]) + (" ..." if len(employee_ids) > 20 else "")
        super().__init__(f"{len(employee_ids)} employee(s) have no voucher of it: {shown}")
        self.employee_ids = employee_ids


class AlreadyRevoked(Exception):
    """Every voucher named is revoked already, or about to be by an earlier request."""


class RevocationService(RequestService):
    async def request(
        self,
        allocation_id: UUID,
        *,
        reason: str,
        employee_ids: list[str] | None,
        requested_by: str,
        idempotency_key: str | None,
    ) -> Accepted:
        employees = None if employee_ids is None else sorted(set(employee_ids))
        key = IdempotencyKey(
            requested_by, idempotency_key, revocation_fingerprint(allocation_id, reason, employees)
        )
        async with self._pool.connection() as conn, conn.transaction():
            replayed = await REVOCATIONS.replay(conn, key)
            if replayed is not None:
                return replayed
            await self._check(conn, allocation_id, employees)
            request = RevocationRequested(
                revocation_id=uuid4(),
                allocation_id=allocation_id,
                requested_by=requested_by,
                reason=reason,
                employee_ids=employees,
                requested_at=datetime.now(UTC),
            )
            accepted, outbox_id = await REVOCATIONS.accept(
                conn,
                key,
                request.revocation_id,
                {
                    "allocation_id": allocation_id,
                    "reason": reason,
                    "employee_ids": None if employees is None else Json(employees),
                    "requested_at": request.requested_at,
                },
                request_record(
                    self._topic,
                    request.revocation_id,
                    source=SOURCE_ALLOCATION,
                    event_type=REVOCATION_REQUESTED,
                    time=request.requested_at,
                    data=request,
                    key=allocation_id,
                ),
            )
        if outbox_id is None:
            return accepted  # a concurrent request with the same key was first
        await self._outbox.deliver(outbox_id)
        logger.info(
            "revocation %s of allocation %s requested",
            request.revocation_id,
            allocation_id,
            extra={"allocation_id": str(allocation_id), "event_id": str(request.revocation_id)},
        )
        return accepted

    async def _check(
        self, conn: AsyncConnection, allocation_id: UUID, employees: list[str] | None
    ) -> None:
        row = await (
            await conn.execute(
                "SELECT status FROM allocations WHERE id = %s FOR UPDATE", (allocation_id,)
            )
        ).fetchone()
        if row is None:
            raise AllocationNotFound(str(allocation_id))
        if row[0] not in ("completed", "partly_revoked"):
            raise NotRevocable(row[0])
        if employees is not None:
            unknown = await unknown_recipients(conn, allocation_id, employees)
            if unknown:
                raise UnknownRecipients(unknown)
        left = await (
            await conn.execute(_STILL_VALID, {"allocation": allocation_id, "employees": employees})
        ).fetchone()
        if left is None or left[0] == 0:
            raise AlreadyRevoked(
                "every voucher named is revoked already (or being revoked): nothing to do"
            )

    async def get(self, allocation_id: UUID, revocation_id: UUID) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            row = await REVOCATIONS.get(conn, revocation_id)
        return row if row is not None and row["allocation_id"] == allocation_id else None

    async def of_allocation(self, allocation_id: UUID) -> list[dict[str, Any]]:
        """The allocation's revocations, oldest first."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM revocations WHERE allocation_id = %s"  # noqa: S608
                " ORDER BY requested_at, id",
                (allocation_id,),
            )
            return await cur.fetchall()
