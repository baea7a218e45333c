"""Accepting generic pushes: idempotency per caller, then the request event on Kafka.

As with allocations, the row and its request event commit together (the event through
the outbox, sent right after the commit), so a retried push is never sent twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_allocation.domain.allocations import IdempotencyConflict, UnknownDepartments
from herald_allocation.domain.outbox import Outbox, OutboxRecord, enqueue
from herald_common.criteria_sql import unknown_departments_query
from herald_common.events import (
    CONTENT_TYPE,
    NOTIFICATION_REQUESTED,
    SOURCE_PUSH,
    NotificationRequested,
    PushTarget,
    encode,
    envelope,
    push_fingerprint,
)

_COLUMNS = (
    "id, requested_by, status, failure_reason, matched_count, inserted_count, published_count,"
    " requested_at, inserted_at, completed_at"
)


@dataclass(frozen=True, slots=True)
class AcceptedPush:
    push: dict[str, Any]
    replayed: bool


class PushService:
    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection], outbox: Outbox, topic: str
    ) -> None:
        self._pool = pool
        self._outbox = outbox
        self._topic = topic

    async def request(
        self,
        *,
        requested_by: str,
        title: str,
        body: str,
        data: dict[str, Any],
        target: PushTarget,
        idempotency_key: str | None,
    ) -> AcceptedPush:
        fingerprint = push_fingerprint(title, body, data, target)
        async with self._pool.connection() as conn, conn.transaction():
            accepted, outbox_id = await self._accept(
                conn, requested_by, title, body, data, target, idempotency_key, fingerprint
            )
        if outbox_id is not None:
            await self._outbox.deliver(outbox_id)
        return accepted

    async def _accept(
        self,
        conn: AsyncConnection,
        requested_by: str,
        title: str,
        body: str,
        data: dict[str, Any],
        target: PushTarget,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> tuple[AcceptedPush, int | None]:
        if idempotency_key is not None:
            existing = await self._by_key(conn, requested_by, idempotency_key, fingerprint)
            if existing is not None:
                return AcceptedPush(existing, replayed=True), None
        departments = [target.department] if target.department else []
        if target.criteria and target.criteria.departments:
            departments = list(target.criteria.departments)
        if departments:
            query, params = unknown_departments_query(departments)
            unknown = [r[0] for r in await (await conn.execute(query, params)).fetchall()]
            if unknown:
                raise UnknownDepartments(unknown)
        push_id = uuid4()
        request = NotificationRequested(
            push_id=push_id,
            requested_by=requested_by,
            title=title,
            body=body,
            data=data,
            target=target,
            requested_at=datetime.now(UTC),
        )
        inserted = await (
            await conn.execute(
                "INSERT INTO pushes (id, requested_by, idempotency_key, request_hash, request,"
                " requested_at) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (requested_by, idempotency_key) DO NOTHING RETURNING id",
                (
                    push_id,
                    requested_by,
                    idempotency_key,
                    fingerprint,
                    json.dumps(request.model_dump(mode="json")),
                    request.requested_at,
                ),
            )
        ).fetchone()
        if inserted is None:
            assert idempotency_key is not None
            existing = await self._by_key(conn, requested_by, idempotency_key, fingerprint)
            assert existing is not None
            return AcceptedPush(existing, replayed=True), None
        outbox_id = await enqueue(
            conn,
            OutboxRecord(
                topic=self._topic,
                key=str(push_id).encode(),
                value=encode(
                    envelope(
                        event_id=str(push_id),
                        source=SOURCE_PUSH,
                        event_type=NOTIFICATION_REQUESTED,
                        subject=str(push_id),
                        time=request.requested_at,
                        data=request,
                    )
                ),
                headers=[("content-type", CONTENT_TYPE.encode())],
            ),
        )
        created = await self._get(conn, push_id)
        assert created is not None
        return AcceptedPush(created, replayed=False), outbox_id

    async def _by_key(
        self, conn: AsyncConnection, requested_by: str, key: str, fingerprint: str
    ) -> dict[str, Any] | None:
        row = await (
            await conn.execute(
                "SELECT id, request_hash FROM pushes WHERE requested_by = %s"
                " AND idempotency_key = %s",
                (requested_by, key),
            )
        ).fetchone()
        if row is None:
            return None
        if row[1] != fingerprint:
            raise IdempotencyConflict(key)
        return await self._get(conn, row[0])

    async def _get(self, conn: AsyncConnection, push_id: UUID) -> dict[str, Any] | None:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(f"SELECT {_COLUMNS} FROM pushes WHERE id = %s", (push_id,))  # noqa: S608
            return await cur.fetchone()

    async def get(self, push_id: UUID, requested_by: str | None) -> dict[str, Any] | None:
        """A push, visible to the caller that requested it (or anyone when None)."""
        async with self._pool.connection() as conn:
            push = await self._get(conn, push_id)
        if push is None or (requested_by is not None and push["requested_by"] != requested_by):
            return None
        return push
