"""The notifier's unread recounts against PostgreSQL: each count read with the newest id it
covers, and every stream's count read again once the read-mark listener listens
(docs/decisions/0086)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import psycopg
import pytest
from pydantic import SecretStr

from herald_common.db import create_pool
from herald_common.settings import DatabaseSettings
from herald_notifier.domain.inbox import Inbox, UnreadCount
from herald_notifier.domain.inbox_listener import listen_for_read_marks
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from tests.support.inbox_rows import add_employees, write_notifications

pytestmark = pytest.mark.integration

DEPARTMENT = "Recount-Dept"
PEOPLE = ["UR001", "UR002", "UR003"]


@pytest.fixture(scope="module")
async def database(herald_env):
    await add_employees(herald_env.database_url, PEOPLE, DEPARTMENT)
    return herald_env.database_url


async def _write(url: str, employees: list[str]) -> list[int]:
    """One committed write of a notification per employee; their ids."""
    return [n.notification_id for n in await write_notifications(url, employees)]


async def test_a_count_comes_with_the_newest_id_it_covers(database):
    first, _ = await _write(database, ["UR001", "UR002"])
    (second,) = await _write(database, ["UR001"])
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        await conn.execute(
            "UPDATE notifications_per_employee SET read_at = now() WHERE id = %s", (first,)
        )
    pool = create_pool(DatabaseSettings(url=SecretStr(database)), name="recounts")
    await pool.open(wait=True)
    try:
        counts = await Inbox(pool, 500).unread_counts(["UR001", "UR003", "UR001"])
    finally:
        await pool.close()
    assert counts == {"UR001": UnreadCount(1, second), "UR003": UnreadCount(0, 0)}


class _Marks:
    """The unread counter's side the listener uses: what it was asked to count again."""

    def __init__(self) -> None:
        self.rounds: list[set[str]] = []
        self.changed = asyncio.Event()

    def mark(self, employee_id: str) -> None:
        self.mark_all((employee_id,))

    def mark_all(self, employee_ids: Iterable[str]) -> None:
        self.rounds.append(set(employee_ids))
        self.changed.set()


async def _next_round(marks: _Marks, count: int) -> None:
    while len(marks.rounds) < count:
        marks.changed.clear()
        await asyncio.wait_for(marks.changed.wait(), 15)


async def test_every_stream_has_its_count_read_again_each_time_the_listener_connects(database):
    registry = Registry()
    for employee in ("UR001", "UR002"):
        registry.add(Subscriber(employee, DEPARTMENT, 10))
    marks = _Marks()
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        began = (await (await conn.execute("SELECT now()")).fetchone() or [None])[0]
    listening = asyncio.create_task(
        listen_for_read_marks(database, marks, registry)  # type: ignore[arg-type]
    )
    try:
        await _next_round(marks, 1)
        assert marks.rounds == [{"UR001", "UR002"}]
        # Cut this listener off (not the services' own): read marks made meanwhile would
        # go unheard.
        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            cut = await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
                " AND backend_start >= %s",
                (began,),
            )
            assert [row[0] for row in await cut.fetchall()] == [True]
        await _next_round(marks, 2)
        assert marks.rounds == [{"UR001", "UR002"}, {"UR001", "UR002"}]
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
