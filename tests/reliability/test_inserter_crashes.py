"""The inserter dies mid-allocation (SIGKILL, or exiting between a chunk's database commit
and its publish) and comes back: exactly one voucher per employee, every notification
published, none lost, and the chunks committed before the death never written again."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.reliability.conftest import INSERTER_SETTINGS
from tests.reliability.workload import (
    Database,
    allocate,
    completed,
    departments,
    seed_employees,
)
from tests.support.topic_reader import high_watermarks, read_everything

# Each kills and restarts something and waits for the system to recover.
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

EMPLOYEES = 100_000
KILL_DEPARTMENTS = departments("Kill", 20)
# The reliability inserter writes chunks of this many (INSERTER_SETTINGS): ten chunks.
CHUNK = int(INSERTER_SETTINGS["HERALD_INSERTER_CHUNK_EMPLOYEES"])


async def _progress(db: Database, allocation_id: str) -> tuple[str, float, int]:
    """Where the running attempt is: its phase, the share of EMPLOYEES written (rows of
    committed chunks, plus the running COPY's), and the chunks published.

    Phases: "copy inbox rows" and "copy vouchers" are inside a chunk's transaction;
    "between chunks" is after a chunk's Kafka commit, before the next one's COPY.
    """
    row = (await db.allocation(allocation_id)) or {}
    written, published = await db.chunks(allocation_id)
    committed = int(row.get("inserted_count") or 0)
    copies = await db.copy_progress()
    if "notifications" in copies:
        return "copy inbox rows", (committed + copies["notifications"]) / EMPLOYEES, published
    if "employee_vouchers" in copies:
        return "copy vouchers", (committed + copies["employee_vouchers"]) / EMPLOYEES, published
    if written and written == published:
        return "between chunks", committed / EMPLOYEES, published
    return "resolve", committed / EMPLOYEES, published


async def test_inserter_killed_at_20_50_and_90_percent(fault_services, fault_env, figures):
    """SIGKILLed inside a chunk (its inbox rows' COPY), between two chunks, and inside a
    later chunk (its vouchers' COPY): exactly one voucher and one published event per
    employee, and the chunks committed before a kill are never written again."""
    seed_employees(fault_env, "K", KILL_DEPARTMENTS, EMPLOYEES // len(KILL_DEPARTMENTS))
    db = Database(fault_env.database_url)
    topic = fault_env.topics.voucher_allocated
    since = await high_watermarks(fault_env.kafka, topic)
    kills = []
    # The phase each kill waits for, at or past its share of the work.
    plan = ((0.2, "copy inbox rows"), (0.5, "between chunks"), (0.9, "copy vouchers"))
    kept: dict[str, tuple[int, str]] = {}
    allocation_id = await allocate(
        fault_env, fault_services.allocation_url, KILL_DEPARTMENTS, "Kill test"
    )
    started = time.monotonic()
    for target, wanted in plan:
        deadline = time.monotonic() + 180
        while True:
            phase, done, published = await _progress(db, allocation_id)
            if done >= target and phase == wanted:
                break
            assert time.monotonic() < deadline, f"no {wanted} at {target:.0%}: {phase} {done:.0%}"
            await asyncio.sleep(0.002)
        fault_services.kill_inserter()
        kills.append(f"{done:.0%} ({phase}, {published} chunks published)")
        if phase == "between chunks":
            # The rows of every chunk committed so far, as they are now.
            kept = await db.voucher_versions(allocation_id)
        status_at_last_kill = (await db.allocation(allocation_id) or {}).get("status")
        fault_services.start_inserter()
    restarted = time.monotonic()
    await completed(db, allocation_id, timeout=240)
    finished = time.monotonic()

    rows, employees = await db.voucher_rows(allocation_id)
    issued = await db.notification_ids(allocation_id)
    tally = await read_everything(fault_env.kafka, topic, since)
    published_ids = set(issued) & tally.ids
    lost = tally.lost(issued)
    versions = await db.voucher_versions(allocation_id)
    rewritten = sum(1 for employee, version in kept.items() if versions.get(employee) != version)
    figures.update(
        chunk_employees=CHUNK,
        killed_at=" / ".join(kills),
        voucher_rows=rows,
        employees=employees,
        notifications=len(issued),
        published=len(published_ids),
        lost=lost,
        duplicates=tally.duplicates,
        records_read=tally.records,
        kept_at_the_kill_between_chunks=len(kept),
        rewritten_after_it=rewritten,
        status_at_last_kill=status_at_last_kill,
        last_attempt_seconds=round(finished - restarted, 1),
        total_seconds=round(finished - started, 1),
    )
    assert [k.split("(")[1].split(",")[0] for k in kills] == [p for _, p in plan], kills
    assert status_at_last_kill == "inserting"  # the last kill came before the last chunk
    assert rows == employees == EMPLOYEES
    assert len(issued) == len(set(issued.values())) == EMPLOYEES
    assert lost == 0
    assert len(published_ids) == EMPLOYEES
    # Resumed at the next chunk: the chunks committed before the kill kept their rows.
    assert len(kept) >= EMPLOYEES // 2
    assert rewritten == 0
    row = await db.allocation(allocation_id)
    assert row is not None
    assert row["published"] == row["inserted_count"] == EMPLOYEES


# Two chunks: the crash comes after the first one's database commit.
CRASH_EMPLOYEES = 2 * CHUNK
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

    # The hook fired where it should: the first chunk committed, nothing published.
    row = await db.allocation(allocation_id)
    assert row is not None
    assert row["status"] == "inserting", row
    chunks_at_crash = await db.chunks(allocation_id)
    first_chunk = await db.voucher_versions(allocation_id)
    issued = await db.notification_ids(allocation_id)
    before = await read_everything(fault_env.kafka, topic, since)
    published_before = len(set(issued) & before.ids)

    restarted = time.monotonic()
    fault_services.start_inserter()
    await completed(db, allocation_id, timeout=120)
    recovery = time.monotonic() - restarted
    rows, employees = await db.voucher_rows(allocation_id)
    first_issued, issued = issued, await db.notification_ids(allocation_id)
    tally = await read_everything(fault_env.kafka, topic, since)
    lost = tally.lost(issued)
    versions = await db.voucher_versions(allocation_id)
    figures.update(
        exit_code=exit_code,
        chunks_written_and_published_at_crash=chunks_at_crash,
        voucher_rows=rows,
        notifications=len(issued),
        published_before_restart=published_before,
        published_after_restart=len(set(issued) & tally.ids),
        lost=lost,
        duplicates=tally.duplicates,
        recovery_seconds=round(recovery, 1),
    )
    assert exit_code == 70
    assert chunks_at_crash == (1, 0)
    assert len(first_issued) == CHUNK
    assert published_before == 0
    assert rows == employees == len(issued) == CRASH_EMPLOYEES
    assert lost == 0
    assert tally.duplicates == 0
    # The first chunk was published again, not written again: its rows are the same.
    assert {e: versions[e] for e in first_chunk} == first_chunk
