"""Accepting allocations: idempotency, the audience's review, and the request event.

The allocation row and its request event commit in one transaction (the event as an
outbox row, sent right after the commit), so a request is on its way exactly when its row
exists, whatever fails in between (docs/decisions/0035). The inserter also accepts
requests with no row, since other systems write the topic.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID, uuid4

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Json

from herald_allocation.domain.accepting import Accepted, IdempotencyKey, RequestTable
from herald_allocation.domain.csv_export import copy_csv
from herald_allocation.domain.outbox import OutboxRecord, request_record
from herald_allocation.domain.steps import AllocationWrites, record_step
from herald_common.approval import ApprovalSettings
from herald_common.criteria_sql import (
    matching_by_department_query,
    matching_count_query,
    matching_csv_query,
    matching_sample_query,
    unknown_departments_query,
)
from herald_common.events import (
    ALLOCATION_REQUESTED,
    SOURCE_ALLOCATION,
    AllocationRequested,
    Criteria,
    StatusAfterStep,
    VoucherSpec,
    request_fingerprint,
)

logger = logging.getLogger(__name__)

_COLUMNS = (
    "id, status, voucher, criteria, requested_by, failure_reason, failure_detail,"
    " matched_count, inserted_count, published_count, requested_at, inserting_at,"
    " inserted_at, published_at, completed_at, send_at, approval_required,"
    " approval_expires_at, decided_by, decided_at, decision_reason, cancelled_by, cancelled_at,"
    " chunks_published, chunks_total,"
    # Revoked vouchers, counted from the revocations' rows (0047).
    " (SELECT coalesce(sum(r.inserted_count), 0)::int FROM revocations r"
    "  WHERE r.allocation_id = allocations.id AND r.inserted_at IS NOT NULL) AS revoked"
)
ALLOCATIONS = RequestTable("allocations", _COLUMNS)
SAMPLE_SIZE = 10


def request_event(
    topic: str,
    allocation_id: UUID,
    voucher: VoucherSpec,
    criteria: Criteria,
    *,
    requested_at: datetime,
) -> OutboxRecord:
    """The allocation's request event. `requested_at` is when it is sent: the inserter
    evaluates the rule as of that day (for a scheduled one, its send time)."""
    return request_record(
        topic,
        allocation_id,
        source=SOURCE_ALLOCATION,
        event_type=ALLOCATION_REQUESTED,
        time=requested_at,
        data=AllocationRequested(
            allocation_id=allocation_id,
            voucher=voucher,
            criteria=criteria,
            requested_at=requested_at,
        ),
    )


class UnknownDepartments(Exception):
    def __init__(self, departments: list[str]) -> None:
        super().__init__(f"unknown department(s): {', '.join(departments)}")
        self.departments = departments


async def check_departments(conn: AsyncConnection, departments: Sequence[str] | None) -> None:
    """Raises UnknownDepartments naming those no employee belongs to."""
    if departments:
        query, params = unknown_departments_query(list(departments))
        unknown = [r[0] for r in await (await conn.execute(query, params)).fetchall()]
        if unknown:
            raise UnknownDepartments(unknown)


class NoRecipients(Exception):
    """The rule matches nobody today: there is nothing to allocate."""


class ConfirmationRequired(Exception):
    """A large (or everyone) allocation must repeat its recipient count to be sent."""

    def __init__(self, matched: int, threshold: int, everyone: bool) -> None:
        reach = "every employee" if everyone else f"more than {threshold:,} employees"
        super().__init__(
            f"this allocation reaches {reach} ({matched:,}): send confirmed_recipients"
            f" = {matched} to confirm the reviewed count"
        )
        self.matched = matched


class RecipientsChanged(Exception):
    """The rule matches another number of people than the one the admin reviewed."""

    def __init__(self, matched: int, confirmed: int) -> None:
        super().__init__(
            f"the rule now matches {matched:,} employees, not the {confirmed:,} you"
            " confirmed: review it again"
        )
        self.matched = matched


@dataclass(frozen=True, slots=True)
class Preview:
    matched: int
    by_department: list[tuple[str, int]]
    total_cost: list[tuple[str, Decimal]]
    sample: list[tuple[str, str, str]]
    typed_confirmation: bool
    # Why sending would wait for a second hr-admin; None when it would not.
    approval: str | None


class AllocationService:
    def __init__(
        self,
        writes: AllocationWrites,
        *,
        typed_confirmation_above: int,
        approval: ApprovalSettings,
    ) -> None:
        self._approval = approval
        self._pool = writes.pool
        self._outbox = writes.outbox
        self._topic = writes.requested_topic
        self._status_topic = writes.status_topic
        self.typed_confirmation_above = typed_confirmation_above

    def needs_typed_confirmation(self, criteria: Criteria, matched: int) -> bool:
        return bool(criteria.all_employees) or matched > self.typed_confirmation_above

    async def request(
        self,
        voucher: VoucherSpec,
        criteria: Criteria,
        *,
        requested_by: str,
        idempotency_key: str | None,
        confirmed_recipients: int | None,
        send_at: datetime | None = None,
    ) -> Accepted:
        """Accepts an allocation: sent to the inserter now, or waiting for a second
        hr-admin's approval (over the approval rule) or for `send_at`."""
        fingerprint = request_fingerprint(voucher, criteria)
        if send_at is not None:
            fingerprint = f"{fingerprint}@{send_at.astimezone(UTC).isoformat()}"
        key = IdempotencyKey(requested_by, idempotency_key, fingerprint)
        async with self._pool.connection() as conn, conn.transaction():
            replayed = await ALLOCATIONS.replay(conn, key)
            if replayed is not None:
                return replayed
            matched = await self._count(conn, criteria, date.today())
            if matched == 0:
                raise NoRecipients("the criteria match no employee today")
            if confirmed_recipients is None and self.needs_typed_confirmation(criteria, matched):
                raise ConfirmationRequired(
                    matched, self.typed_confirmation_above, bool(criteria.all_employees)
                )
            if confirmed_recipients is not None and confirmed_recipients != matched:
                raise RecipientsChanged(matched, confirmed_recipients)
            allocation_id = uuid4()
            requested_at = datetime.now(UTC)
            approval = self._approval.reason(matched, voucher)
            waits_for_time = send_at is not None and send_at > requested_at
            status: StatusAfterStep = (
                "pending_approval" if approval else "scheduled" if waits_for_time else "requested"
            )
            accepted, outbox_id = await ALLOCATIONS.accept(
                conn,
                key,
                allocation_id,
                {
                    "voucher": Json(voucher.model_dump(mode="json")),
                    "criteria": Json(criteria.model_dump(mode="json")),
                    "requested_at": requested_at,
                    "status": status,
                    "send_at": send_at,
                    "approval_required": approval is not None,
                    "approval_expires_at": (
                        requested_at + self._approval.expires_after if approval else None
                    ),
                },
                None
                if status != "requested"
                else request_event(
                    self._topic, allocation_id, voucher, criteria, requested_at=requested_at
                ),
            )
            announced: list[int] = []
            if not accepted.replayed:
                detail: dict[str, object] = {
                    "matched": matched,
                    "voucher": voucher.model_dump(mode="json"),
                    "criteria": criteria.model_dump(mode="json", exclude_none=True),
                }
                if send_at is not None:
                    detail["send_at"] = send_at.isoformat()
                if approval:
                    detail["approval"] = approval
                announced.append(
                    await record_step(
                        conn,
                        self._status_topic,
                        allocation_id,
                        step="requested",
                        status=status,
                        actor=requested_by,
                        detail=detail,
                        send_at=send_at,
                        reason=approval,
                    )
                )
                if status == "scheduled":
                    announced.append(
                        await record_step(
                            conn,
                            self._status_topic,
                            allocation_id,
                            step="scheduled",
                            status=status,
                            actor=requested_by,
                            detail={"send_at": detail["send_at"]},
                            send_at=send_at,
                        )
                    )
        for announcement in announced:
            await self._outbox.deliver(announcement)
        if outbox_id is None:
            # Replayed, a concurrent request with the same key was first, or it waits.
            return accepted
        await self._outbox.deliver(outbox_id)
        logger.info(
            "allocation %s requested",
            allocation_id,
            extra={"allocation_id": str(allocation_id), "event_id": str(allocation_id)},
        )
        return accepted

    async def preview(
        self, criteria: Criteria, voucher: VoucherSpec | None, as_of: date
    ) -> Preview:
        """Whom the rule reaches today, per department, what it costs, and a few names."""
        async with self._pool.connection() as conn:
            await check_departments(conn, criteria.departments)
            query, params = matching_by_department_query(criteria, as_of)
            by_department = [
                (str(r[0]), int(r[1])) for r in await (await conn.execute(query, params)).fetchall()
            ]
            query, params = matching_sample_query(criteria, as_of, SAMPLE_SIZE)
            sample = [
                (str(r[0]), str(r[1]), str(r[2]))
                for r in await (await conn.execute(query, params)).fetchall()
            ]
        matched = sum(count for _, count in by_department)
        cost = [] if voucher is None else [(voucher.currency, voucher.amount * matched)]
        return Preview(
            matched=matched,
            by_department=by_department,
            total_cost=cost,
            sample=sample,
            typed_confirmation=self.needs_typed_confirmation(criteria, matched),
            approval=self._approval.reason(matched, voucher),
        )

    async def check_departments(self, criteria: Criteria) -> None:
        async with self._pool.connection() as conn:
            await check_departments(conn, criteria.departments)

    async def recipients_csv(self, criteria: Criteria, as_of: date) -> AsyncIterator[bytes]:
        """Every recipient as CSV, streamed from PostgreSQL's COPY."""
        query, params = matching_csv_query(criteria, as_of)
        async for piece in copy_csv(self._pool, query, params):
            yield piece

    async def _count(self, conn: AsyncConnection, criteria: Criteria, as_of: date) -> int:
        await check_departments(conn, criteria.departments)
        query, params = matching_count_query(criteria, as_of)
        row = await (await conn.execute(query, params)).fetchone()
        return int(row[0]) if row else 0

    async def get(self, allocation_id: UUID) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            return await ALLOCATIONS.get(conn, allocation_id)

    async def page(
        self, limit: int, cursor: str | None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, keyset-paged (only `status`, when given); the cursor is opaque."""
        after = decode_cursor(cursor) if cursor else None
        where: list[LiteralString] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = %s")
            params.append(status)
        if after is not None:
            where.append("(requested_at, id) < (%s, %s)")
            params.extend(after)
        condition: LiteralString = (" WHERE " + " AND ".join(where)) if where else ""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM allocations{condition}"  # noqa: S608
                " ORDER BY requested_at DESC, id DESC LIMIT %s",
                (*params, limit + 1),
            )
            rows = await cur.fetchall()
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last["requested_at"], last["id"])


class InvalidCursor(ValueError):
    pass


def encode_cursor(requested_at: datetime, allocation_id: UUID) -> str:
    raw = f"{requested_at.isoformat()}|{allocation_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        return datetime.fromisoformat(when), UUID(ident)
    except ValueError as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc
