"""Accepting generic pushes: idempotency per caller, then the request event on Kafka.

As with allocations, the row and its request event commit together (the event through
the outbox, sent right after the commit), so a retried push is never sent twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from herald_allocation.domain.accepting import (
    Accepted,
    IdempotencyKey,
    RequestService,
    RequestTable,
)
from herald_allocation.domain.allocations import check_departments
from herald_allocation.domain.outbox import request_record
from herald_common.events import (
    NOTIFICATION_REQUESTED,
    SOURCE_PUSH,
    NotificationRequested,
    PushTarget,
    push_fingerprint,
)

PUSHES = RequestTable(
    "pushes",
    "id, requested_by, status, failure_reason, matched_count, inserted_count, published_count,"
    " requested_at, inserted_at, completed_at",
)


class PushService(RequestService):
    async def request(
        self,
        *,
        requested_by: str,
        title: str,
        body: str,
        data: dict[str, Any],
        target: PushTarget,
        idempotency_key: str | None,
        action_url: str | None = None,
    ) -> Accepted:
        key = IdempotencyKey(
            requested_by, idempotency_key, push_fingerprint(title, body, data, target, action_url)
        )
        async with self._pool.connection() as conn, conn.transaction():
            replayed = await PUSHES.replay(conn, key)
            if replayed is not None:
                return replayed
            departments = [target.department] if target.department else []
            if target.criteria and target.criteria.departments:
                departments = list(target.criteria.departments)
            await check_departments(conn, departments)
            request = NotificationRequested(
                push_id=uuid4(),
                requested_by=requested_by,
                title=title,
                body=body,
                data=data,
                target=target,
                requested_at=datetime.now(UTC),
                action_url=action_url,
            )
            accepted, outbox_id = await PUSHES.accept(
                conn,
                key,
                request.push_id,
                {
                    "request": json.dumps(request.model_dump(mode="json")),
                    "requested_at": request.requested_at,
                },
                request_record(
                    self._topic,
                    request.push_id,
                    source=SOURCE_PUSH,
                    event_type=NOTIFICATION_REQUESTED,
                    time=request.requested_at,
                    data=request,
                ),
            )
        if outbox_id is not None:
            await self._outbox.deliver(outbox_id)
        return accepted

    async def get(self, push_id: UUID, requested_by: str | None) -> dict[str, Any] | None:
        """A push, visible to the caller that requested it (or anyone when None)."""
        async with self._pool.connection() as conn:
            push = await PUSHES.get(conn, push_id)
        if push is None or (requested_by is not None and push["requested_by"] != requested_by):
            return None
        return push
