"""An allocation between its request and the inserter: approve, reject, cancel, release, expire.

A `pending_approval` or `scheduled` allocation has a row and no request event. Approving
one that is due, and releasing a schedule whose time came, write its request event to the
outbox in the same transaction as the new status, so it reaches the inserter exactly when
the row says `requested` (docs/decisions/0035, 0044). Each step is recorded in the audit
trail, and announced as a `herald.allocation.status` event, in that transaction too. Rows
are locked (`FOR UPDATE`) for each step, so two admins, or an admin and the supervised task
of another replica, never both act on one allocation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from herald_allocation.domain.allocations import request_event
from herald_allocation.domain.outbox import enqueue
from herald_allocation.domain.steps import AllocationWrites, record_step
from herald_common import audit
from herald_common.events import Criteria, VoucherSpec
from herald_common.periodic import every

logger = logging.getLogger(__name__)

# Who the audit trail names for what Herald does by itself (a schedule due, an expiry).
SYSTEM_ACTOR = "herald"
# What cannot be cancelled any more: it has been sent to the inserter.
SENT = ("requested", "inserting", "published", "completed", "failed", "revoked", "partly_revoked")


class NotFound(Exception):
    pass


class NotAllowed(Exception):
    """The step is not possible for this allocation now (409); `code` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class OwnAllocation(Exception):
    """The requester tried to approve (or reject) their own allocation (403)."""


@dataclass(frozen=True, slots=True)
class _Locked:
    status: str
    requested_by: str | None
    send_at: datetime | None
    approval_expires_at: datetime | None
    voucher: dict[str, Any]
    criteria: dict[str, Any]


def cannot_cancel(allocation_id: UUID, status: str) -> NotAllowed:
    if status in SENT:
        return NotAllowed(
            "already_sent",
            f"allocation {allocation_id} is {status}: the inserter has it, so it can no longer"
            " be cancelled. Once it has completed, revoke it instead"
            f" (POST /v1/allocations/{allocation_id}:revoke).",
        )
    return NotAllowed("not_cancellable", f"allocation {allocation_id} is already {status}")


class Lifecycle:
    def __init__(self, writes: AllocationWrites) -> None:
        self._pool = writes.pool
        self._outbox = writes.outbox
        self._topic = writes.requested_topic
        self._status_topic = writes.status_topic

    async def approve(self, allocation_id: UUID, actor: str) -> None:
        """A second hr-admin's approval: sent now, or scheduled for its `send_at`."""
        sent: list[int] = []
        expired = False
        async with self._pool.connection() as conn, conn.transaction():
            row = await self._decidable(conn, allocation_id, actor, "approve")
            now = datetime.now(UTC)
            if row.approval_expires_at is not None and row.approval_expires_at <= now:
                sent.append(await self._expire(conn, allocation_id))
                expired = True
            else:
                due = row.send_at is None or row.send_at <= now
                await conn.execute(
                    "UPDATE allocations SET status = %s, decided_by = %s, decided_at = %s"
                    " WHERE id = %s",
                    ("requested" if due else "scheduled", actor, now, allocation_id),
                )
                sent.append(
                    await record_step(
                        conn,
                        self._status_topic,
                        allocation_id,
                        step="approved",
                        status="requested" if due else "scheduled",
                        actor=actor,
                        send_at=row.send_at,
                    )
                )
                if due:
                    sent.append(await self._send(conn, allocation_id, row, now))
                else:
                    assert row.send_at is not None
                    sent.append(
                        await record_step(
                            conn,
                            self._status_topic,
                            allocation_id,
                            step="scheduled",
                            status="scheduled",
                            actor=actor,
                            detail={"send_at": row.send_at.isoformat()},
                            send_at=row.send_at,
                        )
                    )
        await self._deliver(sent)
        if expired:
            raise NotAllowed("expired", f"allocation {allocation_id} expired before approval")
        logger.info("allocation %s approved by %s", allocation_id, actor)

    async def reject(self, allocation_id: UUID, actor: str, reason: str) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await self._decidable(conn, allocation_id, actor, "reject")
            await conn.execute(
                "UPDATE allocations SET status = 'rejected', decided_by = %s,"
                " decided_at = now(), decision_reason = %s, completed_at = now() WHERE id = %s",
                (actor, reason, allocation_id),
            )
            sent = await record_step(
                conn,
                self._status_topic,
                allocation_id,
                step="rejected",
                status="rejected",
                actor=actor,
                detail={"reason": reason},
                reason=reason,
            )
        await self._deliver([sent])
        logger.info("allocation %s rejected by %s", allocation_id, actor)

    async def cancel(self, allocation_id: UUID, actor: str, reason: str | None) -> None:
        """Cancels an allocation nobody has been told about: pending approval or scheduled."""
        async with self._pool.connection() as conn, conn.transaction():
            row = await self._lock(conn, allocation_id)
            if row.status not in ("pending_approval", "scheduled"):
                raise cannot_cancel(allocation_id, row.status)
            await conn.execute(
                "UPDATE allocations SET status = 'cancelled', cancelled_by = %s,"
                " cancelled_at = now(), decision_reason = %s, completed_at = now()"
                " WHERE id = %s",
                (actor, reason, allocation_id),
            )
            sent = await record_step(
                conn,
                self._status_topic,
                allocation_id,
                step="cancelled",
                status="cancelled",
                actor=actor,
                detail={"was": row.status, **({"reason": reason} if reason else {})},
                reason=reason,
            )
        await self._deliver([sent])
        logger.info("allocation %s cancelled by %s", allocation_id, actor)

    async def release_due(self, batch: int = 100) -> int:
        """Sends the schedules whose time has come (oldest first); returns how many."""
        sent: list[int] = []
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "SELECT id FROM allocations WHERE status = 'scheduled' AND send_at <= now()"
                " ORDER BY send_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (batch,),
            )
            for (allocation_id,) in await cursor.fetchall():
                row = await self._lock(conn, allocation_id)
                now = datetime.now(UTC)
                await conn.execute(
                    "UPDATE allocations SET status = 'requested' WHERE id = %s", (allocation_id,)
                )
                sent.append(await self._send(conn, allocation_id, row, now))
        await self._deliver(sent)
        if sent:
            logger.info("released %d scheduled allocation(s)", len(sent))
        return len(sent)

    async def expire_stale(self, batch: int = 100) -> int:
        """Expires the requests nobody approved in time; returns how many."""
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "SELECT id FROM allocations WHERE status = 'pending_approval'"
                " AND approval_expires_at <= now()"
                " ORDER BY approval_expires_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (batch,),
            )
            stale = [row[0] for row in await cursor.fetchall()]
            sent = [await self._expire(conn, allocation_id) for allocation_id in stale]
        await self._deliver(sent)
        if stale:
            logger.info("expired %d allocation(s) waiting for approval", len(stale))
        return len(stale)

    async def run(self, interval: float) -> None:
        """Releases due schedules and expires stale approvals until cancelled."""

        async def sweep() -> None:
            await self.release_due()
            await self.expire_stale()

        await every(interval, "allocation schedule", sweep)

    async def _expire(self, conn: AsyncConnection, allocation_id: UUID) -> int:
        await conn.execute(
            "UPDATE allocations SET status = 'expired', completed_at = now() WHERE id = %s",
            (allocation_id,),
        )
        return await record_step(
            conn,
            self._status_topic,
            allocation_id,
            step="expired",
            status="expired",
            actor=SYSTEM_ACTOR,
        )

    async def _deliver(self, outbox_ids: list[int]) -> None:
        """Sends what the committed step put in the outbox (the relay sends what fails)."""
        for outbox_id in outbox_ids:
            await self._outbox.deliver(outbox_id)

    async def _send(
        self, conn: AsyncConnection, allocation_id: UUID, row: _Locked, now: datetime
    ) -> int:
        event = request_event(
            self._topic,
            allocation_id,
            VoucherSpec.model_validate(row.voucher),
            Criteria.model_validate(row.criteria),
            requested_at=now,
        )
        return await enqueue(conn, event)

    async def _lock(self, conn: AsyncConnection, allocation_id: UUID) -> _Locked:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT status, requested_by, send_at, approval_expires_at, voucher, criteria"
                " FROM allocations WHERE id = %s FOR UPDATE",
                (allocation_id,),
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"allocation {allocation_id} not found")
        return _Locked(**row)

    async def _decidable(
        self, conn: AsyncConnection, allocation_id: UUID, actor: str, verb: str
    ) -> _Locked:
        row = await self._lock(conn, allocation_id)
        if row.status != "pending_approval":
            raise NotAllowed(
                "not_pending",
                f"allocation {allocation_id} is {row.status}, not pending approval:"
                f" there is nothing to {verb}",
            )
        if row.requested_by == actor:
            raise OwnAllocation(
                f"you requested allocation {allocation_id}: another hr-admin must {verb} it"
                + (" (cancel it if you no longer want it)" if verb == "reject" else "")
            )
        return row

    async def history(self, allocation_id: UUID) -> list[audit.AuditRecord]:
        async with self._pool.connection() as conn:
            return await audit.records(conn, allocation_id)
