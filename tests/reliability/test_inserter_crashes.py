"""The inserter dies mid-allocation (SIGKILL, or exiting between commit and publish) and comes
back: exactly one voucher per employee, every notification published, none lost."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from tests.reliability.workload import (
    Database,
    allocate,
    completed,
    departments,
    seed_employees,
)
from tests.support.topic_reader import HighWatermarks, high_watermarks, read_everything

# Each kills and restarts something and waits for the system to recover.
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

EMPLOYEES = 100_000
KILL_DEPARTMENTS = departments("Kill", 20)
# The work of one attempt: COPY the inbox rows, COPY the vouchers, publish the events.
WORK = 3 * EMPLOYEES


async def _progress(
    conn: psycopg.AsyncConnection,
    marks: HighWatermarks,
    mark_before: int,
    allocation_id: str,
    committed: bool,
) -> tuple[str, float]:
    """How far the running attempt has got, as a fraction of WORK, and in which phase.

    Once the rows are known to be committed only the topic is asked: the publish is fast,
    and the kill has to land before its commit.
    """
    if committed:
        appended = min(await marks.total() - mark_before, EMPLOYEES)
        return "publish", (2 * EMPLOYEES + appended) / WORK
    copies = dict(
        await (
            await conn.execute(
                "SELECT relid::regclass::text, tuples_processed FROM pg_stat_progress_copy"
                " WHERE datname = current_database()"
            )
        ).fetchall()
    )
    if "notifications" in copies:
        return "copy inbox rows", copies["notifications"] / WORK
    if "employee_vouchers" in copies:
        return "copy vouchers", (EMPLOYEES + copies["employee_vouchers"]) / WORK
    row = await (
        await conn.execute(
            "SELECT inserted_at IS NOT NULL FROM allocations WHERE id = %s", (allocation_id,)
        )
    ).fetchone()
    if row is not None and row[0]:
        appended = min(await marks.total() - mark_before, EMPLOYEES)
        return "publish", (2 * EMPLOYEES + appended) / WORK
    return "resolve", 0.0


async def test_inserter_killed_at_20_50_and_90_percent(fault_services, fault_env, figures):
    seed_employees(fault_env, "K", KILL_DEPARTMENTS, EMPLOYEES // len(KILL_DEPARTMENTS))
    db = Database(fault_env.database_url)
    topic = fault_env.topics.voucher_allocated
    since = await high_watermarks(fault_env.kafka, topic)
    kills = []
    async with (
        HighWatermarks(fault_env.kafka, topic) as marks,
        await psycopg.AsyncConnection.connect(fault_env.database_url, autocommit=True) as conn,
    ):
        mark_before = await marks.total()
        allocation_id = await allocate(
            fault_env, fault_services.allocation_url, KILL_DEPARTMENTS, "Kill test"
        )
        started = time.monotonic()
        for target in (0.2, 0.5, 0.9):
            deadline = time.monotonic() + 180
            phase = ""
            while True:
                phase, done = await _progress(
                    conn, marks, mark_before, allocation_id, phase == "publish"
                )
                if done >= target:
                    break
                assert time.monotonic() < deadline, f"stuck at {phase} {done:.0%}"
                await asyncio.sleep(0.002 if phase == "publish" else 0.005)
            fault_services.kill_inserter()
            kills.append(f"{done:.0%} ({phase})")
            status_at_last_kill = (await db.allocation(allocation_id) or {}).get("status")
            mark_before = await marks.total()
            fault_services.start_inserter()
        restarted = time.monotonic()
        await completed(db, allocation_id, timeout=240)
        finished = time.monotonic()

    rows, employees = await db.voucher_rows(allocation_id)
    issued = await db.notification_ids(allocation_id)
    tally = await read_everything(fault_env.kafka, topic, since)
    published = set(issued) & tally.ids
    lost = tally.lost(issued)
    figures.update(
        killed_at=" / ".join(kills),
        voucher_rows=rows,
        employees=employees,
        notifications=len(issued),
        published=len(published),
        lost=lost,
        duplicates=tally.duplicates,
        records_read=tally.records,
        status_at_last_kill=status_at_last_kill,
        last_attempt_seconds=round(finished - restarted, 1),
        total_seconds=round(finished - started, 1),
    )
    assert [k.split("(")[1] for k in kills] == [
        "copy inbox rows)",
        "copy vouchers)",
        "publish)",
    ], kills
    assert status_at_last_kill == "inserting"  # the last kill came before the Kafka commit
    assert rows == employees == EMPLOYEES
    assert len(issued) == len(set(issued.values())) == EMPLOYEES
    assert lost == 0
    assert len(published) == EMPLOYEES
    row = await db.allocation(allocation_id)
    assert row is not None
    assert row["published"] == row["inserted_count"] == EMPLOYEES


CRASH_EMPLOYEES = 20_000
CRASH_DEPARTMENTS = departments("Crash", 10)


async def test_crash_between_database_commit_and_publish(fault_services, fault_env, figures):
    seed_employees(fault_env, "C", CRASH_DEPARTMENTS, CRASH_EMPLOYEES // len(CRASH_DEPARTMENTS))
    db = Database(fault_env.database_url)
    topic = fault_env.topics.voucher_allocated
    since = await high_watermarks(fault_env.kafka, topic)
    # The same worker, built with a callback that exits (status 70) after the commit.
    crashing = fault_services.start_inserter(module="tests.support.crashing_inserter")
    allocation_id = await allocate(
        fault_env, fault_services.allocation_url, CRASH_DEPARTMENTS, "Crash test"
    )
    assert crashing.process is not None
    exit_code = await asyncio.to_thread(crashing.process.wait, 120)

    # The hook fired where it should: rows committed, nothing published.
    row = await db.allocation(allocation_id)
    assert row is not None
    assert row["inserted"], row
    assert row["status"] == "inserting", row
    issued = await db.notification_ids(allocation_id)
    before = await read_everything(fault_env.kafka, topic, since)
    published_before = len(set(issued) & before.ids)

    restarted = time.monotonic()
    fault_services.start_inserter()
    await completed(db, allocation_id, timeout=120)
    recovery = time.monotonic() - restarted
    rows, employees = await db.voucher_rows(allocation_id)
    tally = await read_everything(fault_env.kafka, topic, since)
    lost = tally.lost(issued)
    figures.update(
        exit_code=exit_code,
        voucher_rows=rows,
        notifications=len(issued),
        published_before_restart=published_before,
        published_after_restart=len(set(issued) & tally.ids),
        lost=lost,
        duplicates=tally.duplicates,
        recovery_seconds=round(recovery, 1),
    )
    assert exit_code == 70
    assert published_before == 0
    assert rows == employees == len(issued) == CRASH_EMPLOYEES
    assert lost == 0
    assert tally.duplicates == 0
