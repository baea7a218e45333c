"""No dual write: an allocation request is on Kafka exactly when its row committed.

The API once sent the request to Kafka inside the transaction that inserted the row; a
commit that failed after Kafka's ack left a request with no Idempotency-Key behind it, and
the client's retry allocated a second time. These tests make that commit fail, and make
Kafka unreachable after it, and count what the employees got.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import httpx
import psycopg
from aiokafka.admin import AIOKafkaAdminClient
from psycopg import sql

from herald_common.kafka import connection_options
from tests.reliability.workload import Database, seed_employees
from tests.support.api import voucher
from tests.support.topic_reader import high_watermarks

# Fails, at COMMIT, the transaction that inserted the allocation row carrying this key: a
# deferred constraint trigger runs at commit, after everything else in the transaction.
_FAIL_COMMIT = """
CREATE FUNCTION herald_test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.idempotency_key = %(key)s THEN
        RAISE EXCEPTION 'injected failure of the allocation row''s commit';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER herald_test_fail_commit AFTER INSERT ON allocations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION herald_test_fail_commit();
"""
_REMOVE = """
DROP TRIGGER IF EXISTS herald_test_fail_commit ON allocations;
DROP FUNCTION IF EXISTS herald_test_fail_commit();
"""


async def records_since(env, topic: str, since: dict[int, int]) -> int:
    now = await high_watermarks(env.kafka, topic)
    return sum(now[p] - since.get(p, 0) for p in now)


async def wait_completed(db: Database, allocation_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (await db.allocation(allocation_id) or {}).get("status") != "completed":
        assert time.monotonic() < deadline, f"allocation {allocation_id} did not complete"
        await asyncio.sleep(0.2)


async def wait_requests_consumed(env, topic: str, timeout: float = 60) -> None:
    """Until the inserter's group committed every request on the topic: by then a second
    allocation, if one were coming, would exist."""
    group = f"{env.topic_prefix}herald-inserter"
    admin = AIOKafkaAdminClient(**connection_options(env.kafka))
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            ends = await high_watermarks(env.kafka, topic)
            committed = await admin.list_consumer_group_offsets(group)
            done = {
                tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic
            }
            if all(done.get(p, 0) >= end for p, end in ends.items()):
                return
            assert time.monotonic() < deadline, f"requests not consumed: {done} < {ends}"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def wait_outbox_drained(db: Database, timeout: float) -> float:
    """Seconds until the relay has sent (and deleted) every outbox record."""
    started = time.monotonic()
    while (await db.fetch("SELECT count(*) FROM outbox"))[0][0]:
        assert time.monotonic() - started < timeout, "the relay left records in the outbox"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def counts(db: Database, department: str, name: str) -> tuple[int, int, int, int]:
    """(allocations of this voucher, voucher rows, employees with one, notifications) for
    the department."""
    (allocations,) = await db.fetch(
        "SELECT count(*) FROM allocations WHERE voucher->>'name' = %s", (name,)
    )
    (vouchers,) = await db.fetch(
        "SELECT count(*), count(DISTINCT ev.employee_id) FROM employee_vouchers ev"
        " JOIN employees e ON e.id = ev.employee_id WHERE e.department = %s",
        (department,),
    )
    (notifications,) = await db.fetch(
        "SELECT count(*) FROM notifications WHERE department = %s"
        " AND kind = 'herald.voucher.allocated'",
        (department,),
    )
    return (
        int(allocations[0]),
        int(vouchers[0]),
        int(vouchers[1]),
        int(notifications[0]),
    )


async def test_a_failed_commit_then_a_retry_with_the_same_key_allocates_once(
    fault_services, fault_env, figures
):
    department, name, people = "Outbox-Commit", "Commit fails once", 40
    seed_employees(fault_env, "OC", [department], people)
    db = Database(fault_env.database_url)
    topic = fault_env.topics.allocation_requested
    key = secrets.token_hex(12)
    body = {"voucher": voucher(name), "criteria": {"departments": [department]}}
    headers = {"Idempotency-Key": key}
    before = await high_watermarks(fault_env.kafka, topic)
    with psycopg.connect(fault_env.database_url, autocommit=True) as conn:
        conn.execute(_FAIL_COMMIT.replace("%(key)s", sql.quote(key)).encode())
    try:
        async with httpx.AsyncClient(
            base_url=fault_services.allocation_url, timeout=30, headers=fault_env.admin
        ) as api:
            failed = await api.post("/v1/allocations", json=body, headers=headers)
            on_kafka_after_failure = await records_since(fault_env, topic, before)
            with psycopg.connect(fault_env.database_url, autocommit=True) as conn:
                conn.execute(_REMOVE.encode())
            retried = await api.post("/v1/allocations", json=body, headers=headers)
    finally:
        with psycopg.connect(fault_env.database_url, autocommit=True) as conn:
            conn.execute(_REMOVE.encode())
    assert retried.status_code == 202, retried.text
    await wait_completed(db, retried.json()["id"])
    await wait_requests_consumed(fault_env, topic)
    allocations, vouchers, employees, notifications = await counts(db, department, name)
    figures.update(
        failed_status=failed.status_code,
        requests_on_kafka_after_the_failed_commit=on_kafka_after_failure,
        retry_status=retried.status_code,
        allocations=allocations,
        voucher_rows=vouchers,
        employees_with_a_voucher=employees,
        notifications=notifications,
    )
    assert failed.status_code == 500
    assert on_kafka_after_failure == 0
    assert "idempotent-replayed" not in retried.headers
    assert allocations == 1
    assert (vouchers, employees, notifications) == (people, people, people)


async def test_a_request_accepted_while_kafka_is_away_is_relayed_once(
    fault_stack, fault_services, fault_env, figures
):
    department, name, people = "Outbox-Relay", "Kafka away", 30
    seed_employees(fault_env, "OR", [department], people)
    db = Database(fault_env.database_url)
    key = secrets.token_hex(12)
    body = {"voucher": voucher(name), "criteria": {"departments": [department]}}
    async with httpx.AsyncClient(
        base_url=fault_services.allocation_url, timeout=60, headers=fault_env.admin
    ) as api:
        fault_stack.pause_kafka()
        try:
            started = time.monotonic()
            accepted = await api.post(
                "/v1/allocations", json=body, headers={"Idempotency-Key": key}
            )
            answered_after = time.monotonic() - started
            (pending,) = await db.fetch("SELECT count(*) FROM outbox")
            # The client's retry while Kafka is still away: the same allocation.
            again = await api.post("/v1/allocations", json=body, headers={"Idempotency-Key": key})
        finally:
            fault_stack.resume_kafka()
    assert accepted.status_code == 202, accepted.text
    allocation_id = accepted.json()["id"]
    await wait_completed(db, allocation_id, timeout=180)
    # The send abandoned at the deadline may land too; the relay's copy follows it.
    drained_after = await wait_outbox_drained(db, 60)
    await wait_requests_consumed(fault_env, fault_env.topics.allocation_requested, 120)
    allocations, vouchers, employees, notifications = await counts(db, department, name)
    figures.update(
        answered_after_seconds=round(answered_after, 2),
        outbox_rows_while_kafka_away=int(pending[0]),
        outbox_drained_after_seconds=round(drained_after, 2),
        allocations=allocations,
        voucher_rows=vouchers,
        notifications=notifications,
    )
    assert int(pending[0]) >= 1
    assert again.json()["id"] == allocation_id
    assert again.headers["idempotent-replayed"] == "true"
    assert allocations == 1
    assert (vouchers, employees, notifications) == (people, people, people)
