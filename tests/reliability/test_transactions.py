"""What Kafka transactions buy: readers never see a request's events (a chunk's, for a
large allocation: 0068) before all of them commit, and the inserter never acts on a request
whose transaction was aborted."""

from __future__ import annotations

import asyncio

import pytest

from tests.reliability.conftest import INSERTER_SETTINGS
from tests.reliability.workload import Database, allocate, completed, departments, seed_employees
from tests.support.aborted_request import abort_then_commit
from tests.support.topic_reader import HighWatermarks, topic_partitions

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

WHOLE_EMPLOYEES = 20_000
WHOLE_DEPARTMENTS = departments("Whole", 10)
# Two chunks of the reliability inserter's size.
CHUNK = int(INSERTER_SETTINGS["HERALD_INSERTER_CHUNK_EMPLOYEES"])


async def test_read_committed_readers_see_an_allocation_only_in_whole_chunks(
    fault_services, fault_env, figures
):
    seed_employees(fault_env, "W", WHOLE_DEPARTMENTS, WHOLE_EMPLOYEES // len(WHOLE_DEPARTMENTS))
    db = Database(fault_env.database_url)
    topic = fault_env.topics.voucher_allocated
    async with (
        HighWatermarks(fault_env.kafka, topic) as appended,
        HighWatermarks(fault_env.kafka, topic, committed=True) as readable,
    ):
        appended_before, readable_before = await appended.total(), await readable.total()
        allocation_id = await allocate(
            fault_env, fault_services.allocation_url, WHOLE_DEPARTMENTS, "Whole"
        )
        waiting = asyncio.create_task(completed(db, allocation_id, timeout=120))
        # (appended, readable) beyond the start, sampled while the allocation runs
        samples: list[tuple[int, int]] = []
        while not waiting.done():
            samples.append(
                (
                    await appended.total() - appended_before,
                    await readable.total() - readable_before,
                )
            )
            await asyncio.sleep(0.005)
        await waiting
        final = (await appended.total() - appended_before, await readable.total() - readable_before)

    # Each commit adds one marker per partition to both counts.
    markers = len(await topic_partitions(fault_env.kafka, topic)) * (WHOLE_EMPLOYEES // CHUNK)
    hidden = max((a for a, r in samples if r == 0), default=0)
    # Readable counts that are not whole chunks (markers aside), and what was appended then.
    partial = [(a, r) for a, r in samples if r % CHUNK > markers and r < WHOLE_EMPLOYEES]
    figures.update(
        chunk_employees=CHUNK,
        samples=len(samples),
        most_appended_while_none_readable=hidden,
        readable_counts=sorted({r for _, r in samples}),
        final_appended=final[0],
        final_readable=final[1],
    )
    # Thousands of records were on the broker, none of them readable, until the first
    # chunk's commit; then all of them (plus one commit marker per partition) at once.
    assert hidden >= CHUNK // 10
    assert final[0] == final[1] >= WHOLE_EMPLOYEES
    # A commit writes its markers partition by partition: a sample may fall between two
    # markers, but never before the chunk's transaction committed (every record of the
    # chunk was appended by then).
    assert all(a >= (r // CHUNK + 1) * CHUNK for a, r in partial), partial


async def test_a_request_in_an_aborted_transaction_is_never_acted_on(
    fault_services, fault_env, figures
):
    seed_employees(fault_env, "A", ["Aborted"], 10)
    db = Database(fault_env.database_url)
    aborted, committed = await abort_then_commit(fault_env, "Aborted")
    await completed(db, str(committed), timeout=120)
    figures.update(
        aborted_allocation_rows=len(
            await db.fetch("SELECT 1 FROM allocations WHERE id = %s", (aborted,))
        ),
        committed_status=(await db.allocation(str(committed)) or {}).get("status"),
    )
    assert await db.allocation(str(aborted)) is None
    assert await db.voucher_rows(str(aborted)) == (0, 0)
    assert await db.voucher_rows(str(committed)) == (10, 10)
