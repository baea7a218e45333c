"""Claiming a request before writing its notifications, against PostgreSQL: the shared claim
(writer lock, then the request's row) and the inserter's claim of allocations and pushes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
import pytest

from herald_common.events import NOTIFICATION_PUSHED
from herald_common.request_claim import Claim, RequestRows, claim_request, read_claim
from herald_inserter.domain.allocation_store import ALLOCATIONS
from herald_inserter.domain.claims import WriteOutcome, claim
from herald_inserter.domain.failures import Failure
from herald_inserter.domain.push_store import PUSHES

pytestmark = pytest.mark.integration

REASONS = RequestRows("pushes", columns=("failure_reason",))
UNLOCKED = RequestRows("pushes", lock_row=False)


async def connect(herald_env, **kwargs) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(herald_env.database_url, **kwargs)


async def add_push(herald_env, status: str = "requested", *, written: bool = False) -> UUID:
    push_id = uuid4()
    async with await connect(herald_env) as conn:
        await conn.execute(
            "INSERT INTO pushes (id, requested_by, request_hash, request, status, failure_reason,"
            " inserted_at) VALUES (%s, 'claims-test', 'h', '{}', %s, %s,"
            " CASE WHEN %s THEN now() END)",
            (push_id, status, f"{status} for a reason", written),
        )
    return push_id


async def add_allocation(herald_env, status: str, reason: str | None, detail: str | None) -> UUID:
    allocation_id = uuid4()
    async with await connect(herald_env) as conn:
        await conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status,"
            " failure_reason, failure_detail) VALUES (%s, 'h', '{}', '{}', %s, %s, %s)",
            (allocation_id, status, reason, detail),
        )
    return allocation_id


async def status_of(herald_env, table: str, request_id: UUID) -> str | None:
    async with await connect(herald_env) as conn:
        row = await (
            await conn.execute(f"SELECT status FROM {table} WHERE id = %s", (request_id,))  # noqa: S608
        ).fetchone()
    return None if row is None else row[0]


# The shared claim.


async def test_a_request_without_a_row_has_no_claim(herald_env):
    async with await connect(herald_env) as conn:
        assert await claim_request(conn, REASONS, uuid4()) is None


async def test_the_claim_reads_the_status_whether_written_and_the_columns(herald_env):
    waiting, written = await add_push(herald_env), await add_push(herald_env, written=True)
    async with await connect(herald_env) as conn:
        assert await claim_request(conn, REASONS, waiting) == Claim(
            "requested", False, ("requested for a reason",)
        )
        assert await claim_request(conn, REASONS, written) == Claim(
            "requested", True, ("requested for a reason",)
        )


async def test_a_second_claim_waits_until_the_first_transaction_ends(herald_env):
    push_id = await add_push(herald_env)
    async with await connect(herald_env) as first, await connect(herald_env) as second:
        await claim_request(first, UNLOCKED, push_id)
        waiting = asyncio.create_task(claim_request(second, UNLOCKED, uuid4()))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the writer lock, even for another request
        await first.commit()
        assert await asyncio.wait_for(waiting, 10) is None


async def test_reading_without_claiming_does_not_wait_for_the_writer_lock(herald_env):
    push_id = await add_push(herald_env, written=True)
    async with await connect(herald_env) as writer, await connect(herald_env) as reader:
        await claim_request(writer, UNLOCKED, push_id)
        found = await asyncio.wait_for(read_claim(reader, UNLOCKED, push_id), 5)
    assert found == Claim("requested", True, ())


@pytest.mark.parametrize(("rows", "locked"), [(REASONS, True), (UNLOCKED, False)])
async def test_the_claimed_row_is_locked_unless_its_rows_say_otherwise(herald_env, rows, locked):
    push_id = await add_push(herald_env)
    async with await connect(herald_env) as owner, await connect(herald_env) as other:
        await claim_request(owner, rows, push_id)
        await other.execute("SET lock_timeout = '300ms'")
        update = other.execute("UPDATE pushes SET status = 'failed' WHERE id = %s", (push_id,))
        if locked:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                await update
        else:
            await update


# The inserter's claim of allocations and pushes.


async def not_called(conn: psycopg.AsyncConnection) -> None:
    raise AssertionError("admitted a request that is written or ended")


# A row that cannot be recorded (request_hash is NOT NULL): a claim that tried would fail.
UNRECORDABLE: dict[str, object] = {}
FROM_THE_TOPIC = {"requested_by": "topic", "request_hash": "h", "request": "{}"}


async def test_a_request_straight_from_the_topic_is_recorded_and_marked_inserting(herald_env):
    push_id = uuid4()
    async with await connect(herald_env) as conn:
        assert await claim(conn, PUSHES, push_id, row=FROM_THE_TOPIC) is None
        await conn.commit()
        row = await (
            await conn.execute(
                "SELECT requested_by, request_hash, status FROM pushes WHERE id = %s", (push_id,)
            )
        ).fetchone()
    assert row == ("topic", "h", "inserting")


async def test_a_request_with_a_row_is_marked_inserting_and_not_recorded(herald_env):
    allocation_id = await add_allocation(herald_env, "requested", None, None)

    async with await connect(herald_env) as conn:
        assert await claim(conn, ALLOCATIONS, allocation_id, row=UNRECORDABLE) is None
        await conn.commit()
        row = await (
            await conn.execute(
                "SELECT status, inserting_at IS NOT NULL FROM allocations WHERE id = %s",
                (allocation_id,),
            )
        ).fetchone()
    assert row == ("inserting", True)


async def test_a_refused_request_from_the_topic_leaves_no_row(herald_env):
    push_id = uuid4()
    refusal = WriteOutcome("rejected", datetime.now(UTC), [], False, failure=Failure("no"))

    async def refuse(conn: psycopg.AsyncConnection) -> WriteOutcome | None:
        return refusal

    async with await connect(herald_env) as conn:
        assert await claim(conn, PUSHES, push_id, row=FROM_THE_TOPIC, admit=refuse) is refusal
        await conn.commit()
    assert await status_of(herald_env, "pushes", push_id) is None


async def test_a_written_request_answers_with_its_notifications_as_they_were(herald_env):
    push_id = await add_push(herald_env, "published", written=True)
    async with await connect(herald_env) as conn:
        ids = [
            (
                await (
                    await conn.execute(
                        "INSERT INTO notifications (employee_id, department, kind, source, title,"
                        " body, payload, push_id) VALUES (%s, 'Claims', %s, '/test', 't', 'b',"
                        " '{}', %s) RETURNING id",
                        (employee, NOTIFICATION_PUSHED, push_id),
                    )
                ).fetchone()
            )[0]
            for employee in ("CL001", "CL002")
        ]
        await conn.commit()
        outcome = await claim(conn, PUSHES, push_id, row=UNRECORDABLE, admit=not_called)
        await conn.commit()
    assert outcome is not None
    assert (outcome.status, outcome.inserted_now, outcome.published) == ("published", False, None)
    assert [(n.notification_id, n.employee_id) for n in outcome.notifications] == [
        (ids[0], "CL001"),
        (ids[1], "CL002"),
    ]
    assert await status_of(herald_env, "pushes", push_id) == "published"


async def test_an_allocation_that_failed_before_writing_stays_failed(herald_env):
    allocation_id = await add_allocation(herald_env, "failed", "Nobody matched.", "0 employees")
    async with await connect(herald_env) as conn:
        outcome = await claim(conn, ALLOCATIONS, allocation_id, row=UNRECORDABLE, admit=not_called)
        await conn.commit()
    assert outcome is not None
    assert (outcome.status, outcome.notifications, outcome.inserted_now) == ("failed", [], False)
    assert outcome.failure == Failure("Nobody matched.", "0 employees")
    assert await status_of(herald_env, "allocations", allocation_id) == "failed"


async def test_an_allocation_failed_without_a_reason_says_failed(herald_env):
    allocation_id = await add_allocation(herald_env, "failed", None, None)
    async with await connect(herald_env) as conn:
        outcome = await claim(conn, ALLOCATIONS, allocation_id, row=UNRECORDABLE)
    assert outcome is not None
    assert outcome.failure == Failure("failed", None)


async def test_a_push_that_failed_before_writing_is_claimed_again(herald_env):
    push_id = await add_push(herald_env, "failed")
    async with await connect(herald_env) as conn:
        assert await claim(conn, PUSHES, push_id, row=UNRECORDABLE) is None
        await conn.commit()
    assert await status_of(herald_env, "pushes", push_id) == "inserting"
