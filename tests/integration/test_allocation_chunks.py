"""An allocation is written in chunks (docs/decisions/0068): each its own transaction under
the writer lock, in employee id order, resumed from the allocation's row.

The store is driven step by step here, as the processor drives it, with chunks of 10, so
each case can stop where a crash would and look at the rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_common.approval import ApprovalSettings
from herald_common.events import AllocationRequested, NotificationRequested, PushTarget
from herald_inserter.domain.allocation_store import AllocationStore, Chunk
from herald_inserter.domain.claims import WriteOutcome
from herald_inserter.domain.push_store import PushStore
from tests.support.requests import allocation_request

pytestmark = pytest.mark.integration

CHUNK = 10
NO_APPROVAL = ApprovalSettings(enabled=False)


@pytest.fixture(scope="module")
async def pool(herald_env) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        herald_env.database_url, min_size=1, max_size=4, open=False
    )
    await pool.open(wait=True)
    yield pool
    await pool.close()


@pytest.fixture
def store(pool) -> AllocationStore:
    return AllocationStore(pool, approval=NO_APPROVAL, chunk_size=CHUNK)


def team(herald_env, department: str, size: int) -> list[str]:
    """`size` employees of a department of their own; their ids, in order."""
    prefix = department.upper().replace("-", "")
    ids = [f"{prefix}{n:04d}" for n in range(size)]
    with psycopg.connect(herald_env.database_url) as conn:
        for employee in ids:
            conn.execute(
                "INSERT INTO employees (id, name, email, department, grade, hired_on)"
                " VALUES (%s, %s, %s, %s, 'G2', '2019-01-01')",
                (employee, employee, f"{employee.lower()}@example.com", department),
            )
    return ids


def request(department: str) -> AllocationRequested:
    return allocation_request(department, name="Chunked", code_prefix="CHK")


async def published(store: AllocationStore, sent: AllocationRequested) -> WriteOutcome:
    """One step, its Kafka commit taken as done (as the processor marks it)."""
    outcome = await store.write(sent)
    assert outcome.chunk is not None, outcome
    await store.mark_chunk_published(sent.allocation_id, outcome.chunk)
    return outcome


def chunk_of(outcome: WriteOutcome) -> Chunk:
    assert outcome.chunk is not None, outcome
    return outcome.chunk


ROW = (
    "SELECT status, chunks_total, chunks_written, chunks_published, inserted_count,"
    " matched_count, published_count, inserted_at IS NOT NULL AS written"
    " FROM allocations WHERE id = %s"
)


def row(herald_env, allocation_id: UUID) -> dict[str, object]:
    """The allocation's status and chunk bookkeeping, by column name."""
    with psycopg.connect(herald_env.database_url, row_factory=dict_row) as conn:
        found = conn.execute(ROW, (allocation_id,)).fetchone()
    assert found is not None
    return found


def vouchers(herald_env, allocation_id: UUID) -> list[tuple[str, int, int]]:
    """(employee, voucher row id, xmin) of every voucher of the allocation."""
    with psycopg.connect(herald_env.database_url) as conn:
        return [
            (r[0], r[1], int(r[2]))
            for r in conn.execute(
                "SELECT employee_id, id, xmin::text FROM employee_vouchers"
                " WHERE allocation_id = %s ORDER BY employee_id",
                (allocation_id,),
            ).fetchall()
        ]


async def test_chunks_take_the_recipients_in_employee_id_order(store, herald_env):
    people = team(herald_env, "Chunk-Order", 25)
    sent = request("Chunk-Order")
    steps = [await published(store, sent) for _ in range(3)]
    chunks = [chunk_of(s) for s in steps]
    assert [(c.number, c.total, c.last, c.inserted) for c in chunks] == [
        (1, 3, False, 10),
        (2, 3, False, 20),
        (3, 3, True, 25),
    ]
    assert [n.employee_id for s in steps for n in s.notifications] == people
    ids = [n.notification_id for s in steps for n in s.notifications]
    assert ids == sorted(ids)
    assert len(set(ids)) == 25
    assert row(herald_env, sent.allocation_id) == {
        "status": "inserting",
        "chunks_total": 3,
        "chunks_written": 3,
        "chunks_published": 3,
        "inserted_count": 25,
        "matched_count": 25,
        "published_count": 25,
        "written": True,
    }


async def test_a_chunk_holds_no_more_than_the_chunk_size(store, herald_env):
    team(herald_env, "Chunk-Size", 25)
    sent = request("Chunk-Size")
    sizes = [len((await published(store, sent)).notifications) for _ in range(3)]
    assert sizes == [10, 10, 5]


@pytest.fixture
def headed(pool) -> AllocationStore:
    """Chunks of 10 after a first chunk of 3 (0081)."""
    return AllocationStore(pool, approval=NO_APPROVAL, chunk_size=CHUNK, first_chunk_size=3)


async def test_the_first_chunk_holds_the_first_chunk_size_and_the_rest_the_chunk_size(
    headed, herald_env
):
    people = team(herald_env, "Chunk-Head", 25)
    sent = request("Chunk-Head")
    steps = [await published(headed, sent) for _ in range(4)]
    assert [len(s.notifications) for s in steps] == [3, 10, 10, 2]
    assert [n.employee_id for s in steps for n in s.notifications] == people


async def test_the_first_chunk_counts_in_the_chunks_total(headed, herald_env):
    team(herald_env, "Chunk-Head-Total", 25)
    sent = request("Chunk-Head-Total")
    first = chunk_of(await published(headed, sent))
    assert (first.number, first.total, first.last) == (1, 4, False)
    assert row(herald_env, sent.allocation_id)["chunks_total"] == 4


async def test_an_allocation_within_the_first_chunk_is_one_chunk(headed, herald_env):
    team(herald_env, "Chunk-Head-Small", 3)
    sent = request("Chunk-Head-Small")
    only = chunk_of(await published(headed, sent))
    assert (only.number, only.total, only.last, only.inserted) == (1, 1, True, 3)


async def test_a_worker_restarted_after_the_first_chunk_writes_full_chunks_after_it(
    pool, headed, herald_env
):
    people = team(herald_env, "Chunk-Head-Resume", 15)
    sent = request("Chunk-Head-Resume")
    first = await published(headed, sent)
    # A new worker, its own first chunk setting larger: the allocation goes on from its row.
    restarted = AllocationStore(pool, approval=NO_APPROVAL, chunk_size=CHUNK, first_chunk_size=8)
    second = await published(restarted, sent)
    assert [n.employee_id for n in first.notifications] == people[:3]
    assert [n.employee_id for n in second.notifications] == people[3:13]
    assert (chunk_of(second).number, chunk_of(second).total) == (2, 3)


async def test_a_chunk_written_but_not_published_is_published_again_with_its_ids(store, herald_env):
    team(herald_env, "Chunk-Again", 25)
    sent = request("Chunk-Again")
    await published(store, sent)
    second = await store.write(sent)  # its Kafka transaction never commits
    before = vouchers(herald_env, sent.allocation_id)
    again = await store.write(sent)  # the request, redelivered
    chunk = chunk_of(again)
    assert (chunk.number, chunk.step, again.inserted_now) == (2, "unpublished", False)
    _, reloaded = await store.load_chunk(sent.allocation_id, chunk)
    assert reloaded == second.notifications
    assert vouchers(herald_env, sent.allocation_id) == before


async def test_a_resumed_allocation_writes_the_next_chunk_and_leaves_earlier_ones(
    store, herald_env
):
    people = team(herald_env, "Chunk-Resume", 30)
    sent = request("Chunk-Resume")
    await published(store, sent)
    await published(store, sent)
    first_two = vouchers(herald_env, sent.allocation_id)
    # A worker killed here: the redelivered request goes on with chunk 3.
    resumed = await published(store, sent)
    assert (chunk_of(resumed).number, chunk_of(resumed).last) == (3, True)
    assert [n.employee_id for n in resumed.notifications] == people[20:]
    after = vouchers(herald_env, sent.allocation_id)
    assert len(after) == 30
    # The first chunks' rows were not rewritten: same row ids, same transactions.
    assert [v for v in after if v[0] in people[:20]] == first_two


async def test_an_employee_added_during_the_allocation_is_never_included(store, herald_env):
    people = team(herald_env, "Chunk-Late", 15)
    sent = request("Chunk-Late")
    await published(store, sent)
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "INSERT INTO employees (id, name, email, department, grade, hired_on)"
            # Its id sorts after every chunk's: a later chunk would take it.
            " VALUES ('CHUNKLATEZ999', 'Late', 'late@example.com', 'Chunk-Late', 'G2',"
            " '2019-01-01')"
        )
    last = await published(store, sent)
    assert chunk_of(last).last
    assert [v[0] for v in vouchers(herald_env, sent.allocation_id)] == people


async def test_a_push_between_two_chunks_comes_before_the_next_chunk(store, pool, herald_env):
    people = team(herald_env, "Chunk-Push", 20)
    sent = request("Chunk-Push")
    first = await published(store, sent)
    push = NotificationRequested(
        push_id=uuid4(),
        requested_by="tests",
        title="Between chunks",
        target=PushTarget(employee_ids=[people[15]]),
        requested_at=datetime.now(UTC),
    )
    pushed = (await PushStore(pool).write(push)).notifications[0]
    second = await published(store, sent)
    assert first.notifications[-1].notification_id < pushed.notification_id
    later = {n.employee_id: n for n in second.notifications}
    # The employee's allocation notification follows the push: its previous id says so.
    assert later[people[15]].previous_id == pushed.notification_id
    assert later[people[15]].notification_id > pushed.notification_id
    assert later[people[14]].previous_id == 0


async def test_the_previous_id_runs_on_across_chunk_boundaries(store, herald_env):
    people = team(herald_env, "Chunk-Prev", 12)
    earlier = request("Chunk-Prev")
    for _ in range(2):
        await published(store, earlier)
    with psycopg.connect(herald_env.database_url) as conn:
        before = dict(
            conn.execute(
                "SELECT employee_id, id FROM notifications WHERE allocation_id = %s",
                (earlier.allocation_id,),
            ).fetchall()
        )
    sent = request("Chunk-Prev")
    steps = [await published(store, sent) for _ in range(2)]
    previous = {n.employee_id: n.previous_id for s in steps for n in s.notifications}
    assert previous == {p: before[p] for p in people}


async def test_the_allocation_counts_its_chunks_before_the_first_is_written(store, herald_env):
    team(herald_env, "Chunk-Count", 95)
    sent = request("Chunk-Count")
    first = chunk_of(await published(store, sent))
    assert (first.number, first.total, first.matched) == (1, 10, 95)
    state = row(herald_env, sent.allocation_id)
    assert (state["chunks_total"], state["chunks_published"], state["written"]) == (10, 1, False)


async def test_a_finished_write_answers_with_nothing_left_to_write(store, herald_env):
    team(herald_env, "Chunk-Done", 5)
    sent = request("Chunk-Done")
    only = chunk_of(await published(store, sent))
    assert only.last
    again = await store.write(sent)
    chunk = chunk_of(again)
    assert (chunk.step, chunk.last, again.inserted_now) == ("published", True, False)
    assert len(vouchers(herald_env, sent.allocation_id)) == 5
