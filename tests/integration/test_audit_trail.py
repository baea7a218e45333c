"""herald_common.audit against PostgreSQL: the chain, the append-only table, verification."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import psycopg
import pytest

from herald_common import audit

pytestmark = pytest.mark.integration


async def connect(herald_env, **kwargs) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(herald_env.database_url, **kwargs)


async def add_allocation(herald_env, status: str) -> UUID:
    allocation_id = uuid4()
    async with await connect(herald_env) as conn:
        await conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status)"
            " VALUES (%s, 'h', '{}', '{}', %s)",
            (allocation_id, status),
        )
    return allocation_id


async def chain_of(herald_env, allocation_id: UUID, steps: list[str]) -> None:
    async with await connect(herald_env) as conn:
        for step in steps:
            await audit.append(
                conn, allocation_id=allocation_id, step=step, actor="E1", detail={"n": step}
            )
            await conn.commit()


async def problems_of(herald_env, allocation_id: UUID) -> list[str]:
    async with await connect(herald_env) as conn:
        result = await audit.verify(conn)
    assert result.problems is not None
    return [p.message for p in result.problems if p.allocation_id == allocation_id]


async def as_superuser(herald_env, statement: str, params: tuple[object, ...]) -> None:
    """Bypasses the append-only triggers the way only a superuser can."""
    async with await connect(herald_env, autocommit=True) as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(statement, params)


async def test_records_chain_each_to_the_one_before(herald_env):
    allocation_id = await add_allocation(herald_env, "completed")
    await chain_of(herald_env, allocation_id, ["requested", "approved", "started", "completed"])
    async with await connect(herald_env) as conn:
        chain = await audit.records(conn, allocation_id)
    assert [r.step for r in chain] == ["requested", "approved", "started", "completed"]
    assert [r.seq for r in chain] == [1, 2, 3, 4]
    assert chain[0].prev_hash == audit.GENESIS
    assert [r.prev_hash for r in chain[1:]] == [r.hash for r in chain[:-1]]
    assert all(r.hash == r.expected_hash() for r in chain)
    assert [r.actor for r in chain] == ["E1"] * 4
    assert await problems_of(herald_env, allocation_id) == []


async def test_an_append_commits_with_the_callers_transaction(herald_env):
    allocation_id = await add_allocation(herald_env, "requested")
    async with await connect(herald_env) as conn:
        async with conn.transaction():
            await audit.append(conn, allocation_id=allocation_id, step="requested", actor="E1")
            await conn.execute("SELECT 1")
        await conn.execute("BEGIN")
        await audit.append(conn, allocation_id=allocation_id, step="cancelled", actor="E1")
        await conn.rollback()
        assert [r.step for r in await audit.records(conn, allocation_id)] == ["requested"]


async def test_concurrent_appends_of_one_allocation_keep_one_chain(herald_env):
    allocation_id = await add_allocation(herald_env, "requested")

    async def one(n: int) -> None:
        async with await connect(herald_env) as conn, conn.transaction():
            await audit.append(conn, allocation_id=allocation_id, step="requested", actor=f"E{n}")

    await asyncio.gather(*(one(n) for n in range(8)))
    async with await connect(herald_env) as conn:
        chain = await audit.records(conn, allocation_id)
    assert [r.seq for r in chain] == list(range(1, 9))
    assert not audit.check_chain(chain, None)


async def test_an_unknown_step_is_refused(herald_env):
    async with await connect(herald_env) as conn:
        with pytest.raises(ValueError, match="unknown audit step 'deleted'"):
            await audit.append(conn, allocation_id=uuid4(), step="deleted", actor="E1")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET actor = 'someone else' WHERE allocation_id = %s",
        "DELETE FROM audit_records WHERE allocation_id = %s",
    ],
)
async def test_postgresql_refuses_to_change_a_record(herald_env, statement):
    allocation_id = await add_allocation(herald_env, "pending_approval")
    await chain_of(herald_env, allocation_id, ["requested"])
    async with await connect(herald_env) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            await conn.execute(statement, (allocation_id,))


async def test_postgresql_refuses_to_truncate_the_trail(herald_env):
    async with await connect(herald_env) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            await conn.execute("TRUNCATE audit_records")


async def test_verify_finds_an_edited_record(herald_env):
    allocation_id = await add_allocation(herald_env, "completed")
    await chain_of(herald_env, allocation_id, ["requested", "started", "completed"])
    await as_superuser(
        herald_env,
        "UPDATE audit_records SET actor = 'E2' WHERE allocation_id = %s AND seq = 1",
        (allocation_id,),
    )
    assert await problems_of(herald_env, allocation_id) == [
        "content does not match its hash (edited?)"
    ]


async def test_verify_finds_a_deleted_record(herald_env):
    allocation_id = await add_allocation(herald_env, "completed")
    await chain_of(herald_env, allocation_id, ["requested", "started", "completed"])
    await as_superuser(
        herald_env,
        "DELETE FROM audit_records WHERE allocation_id = %s AND seq = 2",
        (allocation_id,),
    )
    assert await problems_of(herald_env, allocation_id) == [
        "record 2 is missing (deleted?)",
        "does not link to the record before it",
    ]


async def test_verify_finds_a_deleted_newest_record(herald_env):
    allocation_id = await add_allocation(herald_env, "completed")
    await chain_of(herald_env, allocation_id, ["requested", "started", "completed"])
    await as_superuser(
        herald_env,
        "DELETE FROM audit_records WHERE allocation_id = %s AND seq = 3",
        (allocation_id,),
    )
    assert await problems_of(herald_env, allocation_id) == [
        "status completed but the newest record is started (a newer record deleted?)"
    ]


async def test_verify_finds_a_deleted_chain(herald_env):
    await chain_of(herald_env, await add_allocation(herald_env, "cancelled"), ["cancelled"])
    allocation_id = await add_allocation(herald_env, "cancelled")
    await chain_of(herald_env, allocation_id, ["requested", "cancelled"])
    await as_superuser(
        herald_env, "DELETE FROM audit_records WHERE allocation_id = %s", (allocation_id,)
    )
    assert await problems_of(herald_env, allocation_id) == ["has no audit records (deleted?)"]
