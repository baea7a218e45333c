"""Recording a step of an allocation: its audit record and its `herald.allocation.status`
event, both in the transaction that changes the allocation's status.

The event goes through the outbox (docs/decisions/0035) to the allocation's partition of
the completion topic, so the watchers of its progress channel, and other systems, hear of
approvals, schedules and cancellations in order, before any progress of the inserter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_allocation.domain.outbox import Outbox, OutboxRecord, enqueue
from herald_common import audit
from herald_common.events import (
    ALLOCATION_STATUS,
    CONTENT_TYPE,
    SOURCE_ALLOCATION,
    AllocationStatus,
    StatusAfterStep,
    StatusStep,
    encode,
    envelope,
)


@dataclass(frozen=True, slots=True)
class AllocationWrites:
    """Where an allocation's steps are written: its rows, the outbox that sends their
    events, the request topic (the inserter's) and the status topic (the watchers')."""

    pool: AsyncConnectionPool[AsyncConnection]
    outbox: Outbox
    requested_topic: str
    status_topic: str


def status_record(topic: str, status: AllocationStatus) -> OutboxRecord:
    allocation_id = str(status.allocation_id)
    event = envelope(
        # One event per step: an allocation takes each of these steps once.
        event_id=f"{allocation_id}:{status.step}",
        source=SOURCE_ALLOCATION,
        event_type=ALLOCATION_STATUS,
        subject=allocation_id,
        data=status,
    )
    return OutboxRecord(
        topic=topic,
        key=allocation_id.encode(),
        value=encode(event),
        headers=[("content-type", CONTENT_TYPE.encode())],
    )


async def record_step(
    conn: AsyncConnection,
    topic: str,
    allocation_id: UUID,
    *,
    step: StatusStep,
    status: StatusAfterStep,
    actor: str,
    detail: Mapping[str, object] | None = None,
    send_at: datetime | None = None,
    reason: str | None = None,
) -> int:
    """Appends the audit record and enqueues the status event; returns its outbox id."""
    await audit.append(conn, allocation_id=allocation_id, step=step, actor=actor, detail=detail)
    event = AllocationStatus(
        allocation_id=allocation_id,
        status=status,
        step=step,
        actor=actor,
        send_at=send_at,
        reason=reason,
    )
    return await enqueue(conn, status_record(topic, event))
