"""One-off queries the benchmark makes on a run's database, each on a connection of its own."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection


async def fetch(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        return await (await conn.execute(query, params)).fetchall()
