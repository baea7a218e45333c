"""herald_common.db.create_pool: a statement's transaction, with and without autocommit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from herald_common.db import create_pool
from herald_common.settings import DatabaseSettings

pytestmark = pytest.mark.integration


@asynccontextmanager
async def _pool(
    url: str, *, autocommit: bool
) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    pool = create_pool(DatabaseSettings(url=SecretStr(url)), name="tx", autocommit=autocommit)
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


async def _status_after_a_select(pool: AsyncConnectionPool[AsyncConnection]) -> TransactionStatus:
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")
        return TransactionStatus(conn.pgconn.transaction_status)


async def test_an_autocommit_pools_statement_leaves_no_transaction_open(herald_env):
    async with _pool(herald_env.database_url, autocommit=True) as pool:
        assert await _status_after_a_select(pool) == TransactionStatus.IDLE


async def test_a_default_pools_statement_runs_in_a_transaction(herald_env):
    async with _pool(herald_env.database_url, autocommit=False) as pool:
        assert await _status_after_a_select(pool) == TransactionStatus.INTRANS
