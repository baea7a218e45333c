"""The notifier's delivered marks against PostgreSQL: the ids given, and only those, get
their `delivered_at`, once."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest
from pydantic import SecretStr

from herald_common.db import create_pool
from herald_common.settings import DatabaseSettings
from herald_notifier.domain.delivered_marks import DeliveredMarks
from herald_notifier.domain.registry import Registry
from tests.support.inbox_rows import add_employees, write_notifications

pytestmark = pytest.mark.integration

DEPARTMENT = "Marks-Dept"
PEOPLE = ["DM001", "DM002", "DM003"]


@pytest.fixture(scope="module")
async def database(herald_env):
    await add_employees(herald_env.database_url, PEOPLE, DEPARTMENT)
    return herald_env.database_url


async def _delivered_at(url: str, ids: list[int]) -> list[datetime | None]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT id, delivered_at FROM notifications_per_employee WHERE id = ANY(%s)", (ids,)
        )
        found = dict(await cursor.fetchall())
    return [found[i] for i in ids]


async def _marked(url: str, *rounds: list[int]) -> None:
    # Autocommit, as the notifier's own pool is (docs/decisions/0092).
    pool = create_pool(DatabaseSettings(url=SecretStr(url)), name="marks", autocommit=True)
    await pool.open(wait=True)
    try:
        marks = DeliveredMarks(pool, Registry(), interval_seconds=1.0)
        for ids in rounds:
            await marks.write(ids)
    finally:
        await pool.close()


async def test_the_ids_written_are_marked_and_no_others(database):
    ids = [n.notification_id for n in await write_notifications(database, PEOPLE)]
    await _marked(database, [ids[0], ids[2]])
    marked = [at is not None for at in await _delivered_at(database, ids)]
    assert marked == [True, False, True]


async def test_a_notification_marked_again_keeps_its_first_mark(database):
    (only,) = [n.notification_id for n in await write_notifications(database, ["DM001"])]
    await _marked(database, [only])
    [marked] = await _delivered_at(database, [only])
    await _marked(database, [only])
    assert await _delivered_at(database, [only]) == [marked]
