"""herald_common.db.fetch_one and fetch_all: one or every row of a statement, on a pooled
connection."""

from __future__ import annotations

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.db import fetch_all, fetch_one

pytestmark = pytest.mark.integration


async def test_the_first_row_or_none(herald_env):
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        herald_env.database_url, min_size=1, max_size=1, open=False
    )
    await pool.open(wait=True)
    try:
        assert await fetch_one(pool, "SELECT 1, 'a' UNION ALL SELECT 2, 'b' ORDER BY 1") == (1, "a")
        assert await fetch_one(pool, "SELECT %s::int + 1", (41,)) == (42,)
        assert await fetch_one(pool, "SELECT 1 WHERE false") is None
        # A write's RETURNING row, committed when the connection goes back to the pool.
        async with pool.connection() as conn:  # the pool's one connection, temp table and all
            await conn.execute("CREATE TEMP TABLE t (n int)")
        assert await fetch_one(pool, "INSERT INTO t VALUES (7) RETURNING n") == (7,)
        assert await fetch_one(pool, "SELECT count(*) FROM t") == (1,)
    finally:
        await pool.close()


async def test_every_row_in_order_or_none(herald_env):
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        herald_env.database_url, min_size=1, max_size=1, open=False
    )
    await pool.open(wait=True)
    try:
        rows = await fetch_all(pool, "SELECT n FROM unnest(%s::int[]) AS n ORDER BY n", ([3, 1],))
        assert rows == [(1,), (3,)]
        assert await fetch_all(pool, "SELECT 1 WHERE false") == []
    finally:
        await pool.close()
