"""The inserter applies the approval rule before it writes: a request over the rule that no
second hr-admin approved (written straight to the topic, or a schedule whose audience grew)
waits as pending_approval with nothing written; a trusted source is exempt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common import audit
from herald_common.approval import ApprovalSettings
from herald_common.events import SOURCE_ALLOCATION, AllocationRequested, Criteria
from herald_inserter.domain.allocation_store import AllocationStore
from tests.support.requests import allocation_request

pytestmark = pytest.mark.integration

DEPARTMENT = "Inserter-Approval"
TEAM = 3
RULE = ApprovalSettings(above_recipients=2, exempt_sources=["/payroll/trusted"])


@pytest.fixture(scope="module")
async def store(herald_env) -> AsyncIterator[AllocationStore]:
    with psycopg.connect(herald_env.database_url) as conn:
        for n in range(TEAM):
            conn.execute(
                "INSERT INTO employees (id, name, email, department, grade, hired_on)"
                " VALUES (%s, %s, %s, %s, 'G2', '2019-01-01')",
                (f"IA{n:03d}", f"Person {n}", f"ia{n}@example.com", DEPARTMENT),
            )
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        herald_env.database_url, min_size=1, max_size=2, open=False
    )
    await pool.open(wait=True)
    yield AllocationStore(pool, approval=RULE)
    await pool.close()


def request() -> AllocationRequested:
    return allocation_request(DEPARTMENT, name="Topic bonus")


def row(herald_env, allocation_id: UUID) -> tuple[str, bool, int]:
    with psycopg.connect(herald_env.database_url) as conn:
        found = conn.execute(
            "SELECT status, approval_expires_at IS NOT NULL,"
            " (SELECT count(*) FROM employee_vouchers WHERE allocation_id = a.id)"
            " FROM allocations a WHERE id = %s",
            (allocation_id,),
        ).fetchone()
    assert found is not None
    return found[0], found[1], int(found[2])


async def trail(herald_env, allocation_id: UUID) -> list[tuple[str, str]]:
    async with await AsyncConnection.connect(herald_env.database_url) as conn:
        return [(r.step, r.actor) for r in await audit.records(conn, allocation_id)]


async def test_a_request_from_the_topic_over_the_rule_waits_for_approval(store, herald_env):
    sent = request()
    outcome = await store.write(sent, source="/payroll")
    assert outcome.status == "pending_approval"
    assert outcome.notifications == []
    assert row(herald_env, sent.allocation_id) == ("pending_approval", True, 0)
    assert await trail(herald_env, sent.allocation_id) == [("requested", "/payroll")]


async def test_a_redelivered_parked_request_writes_nothing(store, herald_env):
    sent = request()
    await store.write(sent, source="/payroll")
    again = await store.write(sent, source="/payroll")
    assert again.status == "pending_approval"
    assert row(herald_env, sent.allocation_id) == ("pending_approval", True, 0)
    assert await trail(herald_env, sent.allocation_id) == [("requested", "/payroll")]


async def test_a_trusted_source_is_exempt(store, herald_env):
    sent = request()
    outcome = await store.write(sent, source="/payroll/trusted")
    assert outcome.inserted_now
    assert row(herald_env, sent.allocation_id) == ("inserting", False, TEAM)
    assert await trail(herald_env, sent.allocation_id) == [
        ("requested", "/payroll/trusted"),
        ("started", "herald-inserter"),
    ]


async def test_an_approved_request_is_written(store, herald_env):
    sent = request()
    await store.write(sent, source="/payroll")
    # What the API's approve step leaves behind before it sends the request again.
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "UPDATE allocations SET status = 'requested', decided_by = 'hr-admin-b' WHERE id = %s",
            (sent.allocation_id,),
        )
    outcome = await store.write(sent, source="/payroll")
    assert outcome.inserted_now
    assert row(herald_env, sent.allocation_id)[2] == TEAM


async def test_a_schedule_whose_audience_grew_past_the_rule_waits(store, herald_env):
    sent = request()
    # The API's row of a schedule that was under the rule when it was requested.
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status, requested_by)"
            " VALUES (%s, 'h', '{}', '{}', 'requested', 'hr-admin-a')",
            (sent.allocation_id,),
        )
    async with await AsyncConnection.connect(herald_env.database_url) as conn:
        await audit.append(
            conn, allocation_id=sent.allocation_id, step="requested", actor="hr-admin-a"
        )
        await conn.commit()
    outcome = await store.write(sent, source=SOURCE_ALLOCATION)
    assert outcome.status == "pending_approval"
    assert row(herald_env, sent.allocation_id) == ("pending_approval", True, 0)
    assert await trail(herald_env, sent.allocation_id) == [
        ("requested", "hr-admin-a"),
        ("requested", "herald-inserter"),
    ]


@pytest.mark.parametrize("status", ["cancelled", "rejected", "expired", "scheduled"])
async def test_a_request_for_a_stopped_or_waiting_allocation_writes_nothing(
    store, herald_env, status
):
    sent = request()
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status)"
            " VALUES (%s, 'h', '{}', '{}', %s)",
            (sent.allocation_id, status),
        )
    outcome = await store.write(sent, source="/payroll/trusted")
    assert outcome.status == status
    assert not outcome.inserted_now
    assert row(herald_env, sent.allocation_id)[::2] == (status, 0)


async def test_a_request_that_matches_nobody_records_its_failure(store, herald_env):
    sent = request()
    nobody = sent.model_copy(
        update={"criteria": Criteria(departments=[DEPARTMENT], min_years_experience=60)}
    )
    outcome = await store.write(nobody, source="/payroll")
    assert outcome.status == "failed"
    assert await trail(herald_env, sent.allocation_id) == [
        ("requested", "/payroll"),
        ("failed", "herald-inserter"),
    ]
