"""`herald audit verify` on a database of its own: clean, then after a superuser edited or
deleted a record behind the append-only triggers."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest

from herald_common import audit
from tests.conftest import create_database, drop_database

pytestmark = pytest.mark.integration


@pytest.fixture
def database(infra) -> Iterator[str]:
    name = f"herald_test_audit_{secrets.token_hex(4)}"
    url = create_database(infra, name)
    yield url
    drop_database(infra, name)


def verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from herald_allocation.cli import main; main()", "audit", "verify"],
        env={**os.environ, "HERALD_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def completed_allocation(database_url: str) -> UUID:
    """An allocation with its four records, as the API and the inserter write them."""
    allocation_id = uuid4()

    async def write() -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await conn.execute(
                "INSERT INTO allocations (id, request_hash, voucher, criteria, status)"
                " VALUES (%s, 'h', '{}', '{}', 'completed')",
                (allocation_id,),
            )
            for step, actor in [
                ("requested", "hr-admin-a"),
                ("approved", "hr-admin-b"),
                ("started", "herald-inserter"),
                ("completed", "herald-inserter"),
            ]:
                await audit.append(conn, allocation_id=allocation_id, step=step, actor=actor)
            await conn.commit()

    asyncio.run(write())
    return allocation_id


def superuser(database_url: str, statement: str, allocation_id: UUID) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off: superuser only
        conn.execute(statement, (allocation_id,))


def test_an_intact_trail_verifies(database):
    completed_allocation(database)
    completed_allocation(database)
    result = verify(database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "verified 8 audit record(s) of 2 allocation(s)"


def test_an_edited_record_is_found(database):
    completed_allocation(database)
    edited = completed_allocation(database)
    superuser(
        database,
        "UPDATE audit_records SET actor = 'hr-admin-a' WHERE allocation_id = %s AND seq = 2",
        edited,
    )
    result = verify(database)
    assert result.returncode == 1
    assert f"allocation {edited} record 2: content does not match its hash" in result.stderr
    assert "1 problem(s) in 8 audit record(s)" in result.stderr


def test_a_deleted_record_is_found(database):
    deleted = completed_allocation(database)
    superuser(database, "DELETE FROM audit_records WHERE allocation_id = %s AND seq = 2", deleted)
    result = verify(database)
    assert result.returncode == 1
    assert f"allocation {deleted} record 3: record 2 is missing" in result.stderr
    assert f"allocation {deleted} record 3: does not link to the record before it" in (
        result.stderr
    )


def test_a_deleted_newest_record_is_found(database):
    deleted = completed_allocation(database)
    superuser(database, "DELETE FROM audit_records WHERE allocation_id = %s AND seq = 4", deleted)
    result = verify(database)
    assert result.returncode == 1
    assert (
        f"allocation {deleted} chain: status completed but the newest record is started"
        in result.stderr
    )
