"""The writer lock and id draws every writer of notifications uses, against PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from herald_common.inbox_writes import NOTIFICATIONS_WRITER_LOCK, draw_ids, take_writer_lock

pytestmark = pytest.mark.integration


async def test_ids_are_one_run_after_everything_drawn_before(herald_env):
    async with await psycopg.AsyncConnection.connect(herald_env.database_url) as conn:
        await take_writer_lock(conn)
        first = await draw_ids(conn, 5)
        second = await draw_ids(conn, 3)
        assert await draw_ids(conn, 0) == []
        await conn.rollback()
    assert first == list(range(first[0], first[0] + 5))
    assert second == list(range(first[-1] + 1, first[-1] + 4))


async def test_a_second_writer_draws_ids_only_after_the_first_committed(herald_env):
    url = herald_env.database_url
    async with (
        await psycopg.AsyncConnection.connect(url) as first,
        await psycopg.AsyncConnection.connect(url) as second,
    ):
        await take_writer_lock(first)
        drawn_first = await draw_ids(first, 2)

        async def second_writer() -> list[int]:
            await take_writer_lock(second)
            ids = await draw_ids(second, 2)
            await second.rollback()
            return ids

        waiting = asyncio.create_task(second_writer())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the lock is held until the first transaction ends
        await first.commit()
        drawn_second = await asyncio.wait_for(waiting, 10)
    assert drawn_second[0] > drawn_first[-1]


async def test_the_lock_ends_with_the_transaction(herald_env):
    async with await psycopg.AsyncConnection.connect(herald_env.database_url) as conn:
        await take_writer_lock(conn)
        await conn.rollback()
        async with await psycopg.AsyncConnection.connect(
            herald_env.database_url, autocommit=True
        ) as other:
            cursor = await other.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", (NOTIFICATIONS_WRITER_LOCK,)
            )
            row = await cursor.fetchone()
    assert row == (True,)


def test_the_lock_id_never_changes():
    # Workers of two releases run side by side during a rollout: they must share the lock.
    assert NOTIFICATIONS_WRITER_LOCK == 0x4E4F5449
