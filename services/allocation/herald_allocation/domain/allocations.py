"""Accepting allocations: idempotency, validation against the directory, and the request event.

The allocation row and the Kafka request are tied together: the row is committed only
after Kafka acknowledged the request, so an accepted allocation is always on its way.
(The inserter also accepts requests with no row, since other systems write the topic.)
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from herald_common.criteria_sql import matching_count_query, unknown_departments_query
from herald_common.events import (
    ALLOCATION_REQUESTED,
    CONTENT_TYPE,
    SOURCE_ALLOCATION,
    AllocationRequested,
    Criteria,
    VoucherSpec,
    encode,
    envelope,
    request_fingerprint,
)

logger = logging.getLogger(__name__)

_COLUMNS = (
    "id, status, voucher, criteria, failure_reason, matched_count, inserted_count,"
    " published_count, requested_at, inserting_at, inserted_at, published_at, completed_at"
)


class IdempotencyConflict(Exception):
    """The key was used before for a different request."""


class UnknownDepartments(Exception):
    def __init__(self, departments: list[str]) -> None:
        super().__init__(f"unknown department(s): {', '.join(departments)}")
        self.departments = departments


@dataclass(frozen=True, slots=True)
class Accepted:
    allocation: dict[str, Any]
    replayed: bool


class AllocationService:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        producer: AIOKafkaProducer,
        requested_topic: str,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._topic = requested_topic

    async def request(
        self, voucher: VoucherSpec, criteria: Criteria, idempotency_key: str | None
    ) -> Accepted:
        fingerprint = request_fingerprint(voucher, criteria)
        async with self._pool.connection() as conn, conn.transaction():
            if idempotency_key is not None:
                existing = await self._by_key(conn, idempotency_key, fingerprint)
                if existing is not None:
                    return Accepted(existing, replayed=True)
            await self._check_departments(conn, criteria)
            allocation_id = uuid4()
            requested_at = datetime.now(UTC)
            inserted = await (
                await conn.execute(
                    "INSERT INTO allocations (id, idempotency_key, request_hash, voucher,"
                    " criteria, requested_at) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                    (
                        allocation_id,
                        idempotency_key,
                        fingerprint,
                        Json(voucher.model_dump(mode="json")),
                        Json(criteria.model_dump(mode="json")),
                        requested_at,
                    ),
                )
            ).fetchone()
            if inserted is None:
                # A concurrent request with the same key committed first.
                assert idempotency_key is not None
                existing = await self._by_key(conn, idempotency_key, fingerprint)
                assert existing is not None
                return Accepted(existing, replayed=True)
            await self._send_request(
                AllocationRequested(
                    allocation_id=allocation_id,
                    voucher=voucher,
                    criteria=criteria,
                    requested_at=requested_at,
                )
            )
            created = await self._get(conn, allocation_id)
            assert created is not None
        logger.info(
            "allocation %s requested",
            allocation_id,
            extra={"allocation_id": str(allocation_id), "event_id": str(allocation_id)},
        )
        return Accepted(created, replayed=False)

    async def count_matching(self, criteria: Criteria, as_of: date) -> int:
        async with self._pool.connection() as conn:
            await self._check_departments(conn, criteria)
            query, params = matching_count_query(criteria, as_of)
            row = await (await conn.execute(query, params)).fetchone()
        return int(row[0]) if row else 0

    async def _check_departments(self, conn: AsyncConnection, criteria: Criteria) -> None:
        if criteria.departments:
            query, params = unknown_departments_query(list(criteria.departments))
            unknown = [r[0] for r in await (await conn.execute(query, params)).fetchall()]
            if unknown:
                raise UnknownDepartments(unknown)

    async def _send_request(self, request: AllocationRequested) -> None:
        event = envelope(
            event_id=str(request.allocation_id),
            source=SOURCE_ALLOCATION,
            event_type=ALLOCATION_REQUESTED,
            subject=str(request.allocation_id),
            time=request.requested_at,
            data=request,
        )
        await self._producer.send_and_wait(
            self._topic,
            key=str(request.allocation_id).encode(),
            value=encode(event),
            headers=[("content-type", CONTENT_TYPE.encode())],
        )

    async def _by_key(
        self, conn: AsyncConnection, key: str, fingerprint: str
    ) -> dict[str, Any] | None:
        row = await (
            await conn.execute(
                "SELECT id, request_hash FROM allocations WHERE idempotency_key = %s", (key,)
            )
        ).fetchone()
        if row is None:
            return None
        if row[1] != fingerprint:
            raise IdempotencyConflict(key)
        return await self._get(conn, row[0])

    async def _get(self, conn: AsyncConnection, allocation_id: UUID) -> dict[str, Any] | None:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(f"SELECT {_COLUMNS} FROM allocations WHERE id = %s", (allocation_id,))  # noqa: S608
            return await cur.fetchone()

    async def get(self, allocation_id: UUID) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            return await self._get(conn, allocation_id)

    async def page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, keyset-paged; the cursor is opaque to clients."""
        after = decode_cursor(cursor) if cursor else None
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            if after is None:
                await cur.execute(
                    f"SELECT {_COLUMNS} FROM allocations"  # noqa: S608
                    " ORDER BY requested_at DESC, id DESC LIMIT %s",
                    (limit + 1,),
                )
            else:
                await cur.execute(
                    f"SELECT {_COLUMNS} FROM allocations"  # noqa: S608
                    " WHERE (requested_at, id) < (%s, %s)"
                    " ORDER BY requested_at DESC, id DESC LIMIT %s",
                    (*after, limit + 1),
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
