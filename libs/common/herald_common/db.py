"""Pooled PostgreSQL connections (psycopg 3)."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.settings import DatabaseSettings


def create_pool(settings: DatabaseSettings, *, name: str) -> AsyncConnectionPool[AsyncConnection]:
    """A closed pool; open it in the lifespan with `await pool.open(wait=True)`."""
    return AsyncConnectionPool(
        settings.url.get_secret_value(),
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        name=name,
        open=False,
        # A pooled connection that died with a database restart is replaced, not handed out.
        check=AsyncConnectionPool.check_connection,
        kwargs={"application_name": name},
    )


async def ping(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    """Returns once PostgreSQL answered a query through `pool`; raises if it cannot."""
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")
