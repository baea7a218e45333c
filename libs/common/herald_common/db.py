"""Pooled PostgreSQL connections (psycopg 3)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.abc import Params
from psycopg_pool import AsyncConnectionPool

from herald_common.settings import DatabaseSettings


def create_pool(
    settings: DatabaseSettings, *, name: str, autocommit: bool = False
) -> AsyncConnectionPool[AsyncConnection]:
    """A closed pool; open it in the lifespan with `await pool.open(wait=True)`.

    `autocommit`: each statement commits on its own, for a service whose every use of a
    connection is one statement, or statements that need no common transaction. Otherwise
    psycopg opens a transaction for the first statement and the pool commits it on return:
    two round trips more per checkout, 228-269 µs of a checkout's client CPU against 165
    (docs/decisions/0092).
    """
    return AsyncConnectionPool(
        settings.url.get_secret_value(),
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        name=name,
        open=False,
        # A pooled connection that died with a database restart is replaced, not handed out.
        check=AsyncConnectionPool.check_connection,
        kwargs={"application_name": name, "autocommit": autocommit},
    )


async def ping(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    """Returns once PostgreSQL answered a query through `pool`; raises if it cannot."""
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")


async def fetch_one(
    pool: AsyncConnectionPool[AsyncConnection],
    query: str | sql.SQL | sql.Composed,
    params: Params | None = None,
) -> tuple[Any, ...] | None:
    """The statement's first row, or None: for a lookup, or a write `RETURNING` one row."""
    async with pool.connection() as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchone()


async def fetch_all(
    pool: AsyncConnectionPool[AsyncConnection],
    query: str | sql.SQL | sql.Composed,
    params: Params | None = None,
) -> list[tuple[Any, ...]]:
    """Every row of the statement: for a batch read, or a write `RETURNING` many rows."""
    async with pool.connection() as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()
