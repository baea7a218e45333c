"""herald_common.db.ping: whether PostgreSQL answers through a pool."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from pydantic import SecretStr

from herald_common.db import create_pool, ping
from herald_common.settings import DatabaseSettings
from tests.support.processes import free_port

pytestmark = pytest.mark.integration


async def test_ping_returns_while_postgres_answers(herald_env):
    pool = create_pool(DatabaseSettings(url=SecretStr(herald_env.database_url)), name="ping")
    await pool.open(wait=True)
    try:
        await ping(pool)
    finally:
        await pool.close()


async def test_ping_raises_while_nothing_answers():
    url = f"postgresql://herald@127.0.0.1:{free_port()}/herald?connect_timeout=1"
    pool = create_pool(DatabaseSettings(url=SecretStr(url)), name="ping")
    await pool.open(wait=False)
    try:
        with pytest.raises((psycopg.OperationalError, TimeoutError)):
            async with asyncio.timeout(5):
                await ping(pool)
    finally:
        await pool.close()
