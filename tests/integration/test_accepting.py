"""Accepting a request once per caller and key, against PostgreSQL (the allocation API's
RequestTable, for allocations and pushes alike)."""

from __future__ import annotations

from uuid import UUID, uuid4

import psycopg
import pytest

from herald_allocation.domain.accepting import IdempotencyConflict, IdempotencyKey
from herald_allocation.domain.outbox import OutboxRecord
from herald_allocation.domain.pushes import PUSHES

pytestmark = pytest.mark.integration


def values() -> dict[str, object]:
    return {"request": "{}"}


def event(push_id: UUID) -> OutboxRecord:
    return OutboxRecord("accepting-test", str(push_id).encode(), b"{}", [])


async def outbox_keys(conn: psycopg.AsyncConnection) -> list[bytes]:
    rows = await (
        await conn.execute("SELECT key FROM outbox WHERE topic = 'accepting-test' ORDER BY id")
    ).fetchall()
    return [bytes(row[0]) for row in rows]


@pytest.fixture
async def conn(herald_env):
    async with await psycopg.AsyncConnection.connect(herald_env.database_url) as conn:
        yield conn
        await conn.rollback()


async def test_a_new_request_is_inserted_with_its_event_in_the_outbox(conn):
    key = IdempotencyKey("svc-new", "k1", "body-1")
    assert await PUSHES.replay(conn, key) is None
    push_id = uuid4()
    accepted, outbox_id = await PUSHES.accept(conn, key, push_id, values(), event(push_id))
    assert outbox_id is not None
    assert not accepted.replayed
    assert (accepted.row["id"], accepted.row["requested_by"]) == (push_id, "svc-new")
    assert await outbox_keys(conn) == [str(push_id).encode()]


async def test_the_same_key_and_body_answer_the_first_request_again(conn):
    key = IdempotencyKey("svc-same", "k1", "body-1")
    first_id = uuid4()
    first, _ = await PUSHES.accept(conn, key, first_id, values(), event(first_id))
    again = await PUSHES.replay(conn, key)
    assert again is not None
    assert again.replayed
    assert again.row == first.row


async def test_the_same_key_with_another_body_is_a_conflict(conn):
    key = IdempotencyKey("svc-conflict", "k1", "body-1")
    push_id = uuid4()
    await PUSHES.accept(conn, key, push_id, values(), event(push_id))
    with pytest.raises(IdempotencyConflict):
        await PUSHES.replay(conn, IdempotencyKey("svc-conflict", "k1", "body-2"))


async def test_another_caller_s_key_is_unrelated(conn):
    push_id = uuid4()
    await PUSHES.accept(
        conn, IdempotencyKey("svc-a", "shared", "body-1"), push_id, values(), event(push_id)
    )
    assert await PUSHES.replay(conn, IdempotencyKey("svc-b", "shared", "body-2")) is None


async def test_a_request_that_lost_the_race_answers_the_winner_and_sends_nothing(conn):
    key = IdempotencyKey("svc-race", "k1", "body-1")
    winner_id, loser_id = uuid4(), uuid4()
    winner, _ = await PUSHES.accept(conn, key, winner_id, values(), event(winner_id))
    # As if it had checked the key before the winner committed: its insert does nothing.
    loser, outbox_id = await PUSHES.accept(conn, key, loser_id, values(), event(loser_id))
    assert outbox_id is None
    assert loser.replayed
    assert loser.row == winner.row
    assert await PUSHES.get(conn, loser_id) is None
    assert await outbox_keys(conn) == [str(winner_id).encode()]


async def test_without_a_key_every_request_is_new(conn):
    key = IdempotencyKey("svc-keyless", None, "body-1")
    assert await PUSHES.replay(conn, key) is None
    ids = [uuid4(), uuid4()]
    for push_id in ids:
        accepted, outbox_id = await PUSHES.accept(conn, key, push_id, values(), event(push_id))
        assert outbox_id is not None
        assert not accepted.replayed
    assert [(await PUSHES.get(conn, i) or {}).get("id") for i in ids] == ids
