"""Kafka SIGKILLed while the inserter publishes, PostgreSQL restarted while it copies."""

from __future__ import annotations

import asyncio
import time

import pytest

from herald_common.events import ALLOCATION_COMPLETED
from tests.reliability.conftest import KAFKA_PORT
from tests.reliability.workload import (
    Database,
    allocate,
    at_database_commit,
    completed,
    departments,
    seed_employees,
    until,
)
from tests.support.topic_reader import (
    HighWatermarks,
    committed_events,
    high_watermarks,
    read_everything,
)

# Each kills and restarts something and waits for the system to recover.
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

BROKER_EMPLOYEES = 50_000
BROKER_DEPARTMENTS = departments("Broker", 10)
ALLOCATIONS = 3


async def _kafka_listening() -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", KAFKA_PORT)
    except OSError:
        return False
    writer.close()
    return True


async def _publishing(env, db: Database, topic: str, mark: int) -> int:
    """Waits until an allocation is half written, with its events being sent, and returns
    how many records were appended to `topic` past `mark` by then.

    The inserter sends an allocation's events while it COPYs the inbox rows and commits
    the Kafka transaction after the database's, which follows the COPY of the vouchers:
    when that COPY runs, the transaction is open.
    """

    async def copying_vouchers() -> bool:
        return "employee_vouchers" in await db.copy_progress()

    await until(copying_vouchers, 180, "the COPY of the vouchers", interval=0.002)
    async with HighWatermarks(env.kafka, topic) as marks:
        return await marks.total() - mark


async def test_broker_killed_three_times_while_publishing(
    fault_services, fault_env, fault_stack, figures
):
    """Three allocations to the same employees, one after another; the broker is SIGKILLed
    during each one's publish and started again."""
    seed_employees(fault_env, "B", BROKER_DEPARTMENTS, BROKER_EMPLOYEES // len(BROKER_DEPARTMENTS))
    db = Database(fault_env.database_url)
    topic = fault_env.topics.voucher_allocated
    since = await high_watermarks(fault_env.kafka, topic)
    allocation_ids: list[str] = []
    appended_at_kill, status_at_kill, broker_back, completed_after_kill = [], [], [], []
    for n in range(ALLOCATIONS):
        # One at a time, so that the publish caught is this one's.
        mark = sum((await high_watermarks(fault_env.kafka, topic)).values())
        allocation_id = await allocate(
            fault_env, fault_services.allocation_url, BROKER_DEPARTMENTS, f"Broker {n}"
        )
        allocation_ids.append(allocation_id)
        appended_at_kill.append(await _publishing(fault_env, db, topic, mark))
        killed = time.monotonic()
        fault_stack.kill_kafka()
        row = await db.allocation(allocation_id)
        status_at_kill.append(row["status"] if row else None)
        starting = asyncio.create_task(asyncio.to_thread(fault_stack.start_kafka))
        broker_back.append(round(await until(_kafka_listening, 120, "broker listening"), 1))
        await completed(db, allocation_id, timeout=240)
        completed_after_kill.append(round(time.monotonic() - killed, 1))
        await starting

    issued: dict[int, str] = {}
    for allocation_id in allocation_ids:
        issued.update(await db.notification_ids(allocation_id))
    tally = await read_everything(fault_env.kafka, topic, since)
    lost = tally.lost(issued)
    ours = {employee: ids for employee, ids in tally.first_seen.items() if employee.startswith("B")}
    out_of_order = sum(1 for ids in ours.values() if ids != sorted(ids))
    figures.update(
        records_appended_at_kill=appended_at_kill,
        status_at_kill=status_at_kill,
        broker_listening_seconds_after_kill=broker_back,
        completed_seconds_after_kill=completed_after_kill,
        records_read=tally.records,
        acknowledged=len(issued),
        consumed=len(set(issued) & tally.ids),
        lost=lost,
        duplicates=tally.duplicates,
        employees_out_of_order=out_of_order,
    )
    # Each kill hit an open Kafka transaction: records appended, the allocation not yet
    # published. Events are sent while the rows are written, so the rows were then still
    # being written ("requested": their transaction open) or just committed ("inserting").
    assert all(appended > 0 for appended in appended_at_kill)
    assert set(status_at_kill) <= {"requested", "inserting"}, status_at_kill
    for allocation_id in allocation_ids:
        row = await db.allocation(allocation_id)
        assert row is not None
        assert row["status"] == "completed"
        assert row["published"] == BROKER_EMPLOYEES
    assert len(issued) == ALLOCATIONS * BROKER_EMPLOYEES
    assert lost == 0
    assert len(ours) == BROKER_EMPLOYEES
    assert all(len(ids) == ALLOCATIONS for ids in ours.values())
    assert out_of_order == 0


PG_EMPLOYEES = 50_000
PG_DEPARTMENTS = departments("Pg", 10)


async def test_postgres_restarted_during_an_allocation(
    fault_services, fault_env, fault_stack, figures
):
    seed_employees(fault_env, "P", PG_DEPARTMENTS, PG_EMPLOYEES // len(PG_DEPARTMENTS))
    db = Database(fault_env.database_url)
    topic = fault_env.topics.voucher_allocated
    since = await high_watermarks(fault_env.kafka, topic)
    log_before = fault_services.inserter.log_path.read_text(errors="replace").count("\n")
    allocation_id = await allocate(fault_env, fault_services.allocation_url, PG_DEPARTMENTS, "Pg")

    async def copied_so_far() -> int:
        """Inbox rows of committed chunks plus the running chunk's COPY; 0 between chunks."""
        running = (await db.copy_progress()).get("notifications")
        if running is None:
            return 0
        row = (await db.allocation(allocation_id)) or {}
        return int(row.get("inserted_count") or 0) + running

    async def copying() -> bool:
        # Inside a chunk's COPY, a third of the way through the allocation (0068).
        return await copied_so_far() >= PG_EMPLOYEES // 3

    await until(copying, 180, "the inbox COPY a third done", interval=0.01)
    copied = await copied_so_far()
    restarted = time.monotonic()
    fault_stack.restart_postgres()
    back = time.monotonic()
    await completed(db, allocation_id, timeout=240)
    recovery = time.monotonic() - back

    rows, employees = await db.voucher_rows(allocation_id)
    issued = await db.notification_ids(allocation_id)
    tally = await read_everything(fault_env.kafka, topic, since)
    lost = tally.lost(issued)
    log = fault_services.inserter.log_path.read_text(errors="replace").splitlines()[log_before:]
    retries = [line for line in log if f"allocation {allocation_id}" in line and "retrying" in line]
    figures.update(
        inbox_rows_copied_at_restart=copied,
        postgres_down_seconds=round(back - restarted, 1),
        retries=len(retries),
        completed_after_restart_seconds=round(recovery, 1),
        voucher_rows=rows,
        employees=employees,
        notifications=len(issued),
        lost=lost,
        duplicates=tally.duplicates,
    )
    assert retries, "the inserter never saw the restart"
    assert rows == employees == PG_EMPLOYEES
    assert len(issued) == len(set(issued.values())) == PG_EMPLOYEES
    assert lost == 0


AFTER_EMPLOYEES = 10_000
AFTER_DEPARTMENTS = departments("After", 10)


async def _lose_database_after_commit(
    db: Database, env, services, stack, *, kill: bool
) -> tuple[dict[str, int], float]:
    """One allocation whose Kafka commit happens while PostgreSQL is stopped; returns its
    figures and how long PostgreSQL stayed down after the commit."""
    topics = env.topics
    since = await high_watermarks(env.kafka, topics.voucher_allocated)
    completions_since = await high_watermarks(env.kafka, topics.allocation_completed)
    allocation_id = await allocate(env, services.allocation_url, AFTER_DEPARTMENTS, f"After {kill}")
    # The events are sent while the rows are written and committed in Kafka right after
    # the database commit. Holding the broker still at that commit lets PostgreSQL stop
    # first, so the Kafka commit comes with the database gone.
    await at_database_commit(env.database_url, allocation_id, stack.pause_kafka)
    try:
        stack.stop_postgres()
    finally:
        stack.resume_kafka()
    try:

        async def committed() -> bool:
            events = await committed_events(
                env.kafka, topics.allocation_completed, completions_since
            )
            return any(
                e["type"] == ALLOCATION_COMPLETED and e["data"]["allocation_id"] == allocation_id
                for e in events
            )

        async def marking_retried() -> bool:
            text = services.inserter.log_path.read_text(errors="replace")
            return f"allocation {allocation_id}: retrying" in text

        await until(committed, 120, "the Kafka commit", interval=0.2)
        if kill:
            services.kill_inserter()
            down = 0.0
        else:
            down = await until(marking_retried, 90, "the marking to fail", interval=0.5)
    finally:
        stack.start_postgres()
    if kill:
        services.start_inserter()
    await completed(db, allocation_id, timeout=180)
    issued = await db.notification_ids(allocation_id)
    tally = await read_everything(env.kafka, topics.voucher_allocated, since)
    rows, employees = await db.voucher_rows(allocation_id)
    return {
        "voucher_rows": rows,
        "employees": employees,
        "notifications": len(issued),
        "lost": tally.lost(issued),
        "duplicates": tally.duplicates,
    }, down


async def test_database_lost_after_the_kafka_commit(
    fault_services, fault_env, fault_stack, figures
):
    """PostgreSQL stops between the inserter's database and Kafka commits, so the Kafka
    transaction commits but the allocation cannot be marked completed. Waiting that out (past the pool's 30 s
    timeout, so the marking fails and is retried) publishes nothing twice. Killed in that
    state instead, the worker's successor publishes every event again in a new
    transaction: each id twice on the topic, none lost.
    """
    seed_employees(fault_env, "F", AFTER_DEPARTMENTS, AFTER_EMPLOYEES // len(AFTER_DEPARTMENTS))
    db = Database(fault_env.database_url)
    waited, down = await _lose_database_after_commit(
        db, fault_env, fault_services, fault_stack, kill=False
    )
    killed, _ = await _lose_database_after_commit(
        db, fault_env, fault_services, fault_stack, kill=True
    )
    figures.update(
        postgres_down_after_commit_seconds=round(down, 1),
        **{f"waited_{k}": v for k, v in waited.items()},
        **{f"killed_{k}": v for k, v in killed.items()},
    )
    for outcome in (waited, killed):
        assert outcome["voucher_rows"] == outcome["employees"] == AFTER_EMPLOYEES
        assert outcome["notifications"] == AFTER_EMPLOYEES
        assert outcome["lost"] == 0
    assert waited["duplicates"] == 0
    assert killed["duplicates"] == AFTER_EMPLOYEES  # republished whole, in a second transaction
