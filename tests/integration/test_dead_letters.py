"""Bad records reach their dead-letter topic: the inserter's poison requests, the notifier's
unroutable events (once, however many notifier replicas read them)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter_claims import ClaimedDeadLetters
from tests.conftest import notifier_process
from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.dead_letters import dead_letters, every_dead_letter
from tests.support.processes import free_port

pytestmark = pytest.mark.integration

DEPARTMENT = "Poison-Dept"


async def test_poison_message_is_dead_lettered_and_the_next_one_processed(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        people = [
            (f"PD{n:03d}", f"Person {n}", DEPARTMENT, "G4", date(2018, 1, 1)) for n in range(7)
        ]
        assert (await import_employees(api, employees_csv(people))).status_code == 200

        topic = herald_env.topics.allocation_requested
        good_id = uuid.uuid4()
        good = {
            "specversion": "1.0",
            "id": str(good_id),
            "source": "/payroll/batch",
            "type": "herald.allocation.requested",
            "time": datetime.now(UTC).isoformat(),
            "data": {
                "allocation_id": str(good_id),
                "voucher": voucher("From payroll"),
                "criteria": {"departments": [DEPARTMENT]},
                "requested_at": datetime.now(UTC).isoformat(),
            },
        }
        poison = b'{"specversion": "1.0", "id": "x", "data": '  # truncated JSON
        wrong_shape = json.dumps({**good, "data": {"allocation_id": "nope"}}).encode()
        producer = AIOKafkaProducer(
            bootstrap_servers=herald_env.infra.kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            # Same key, so all three land on one partition in this order.
            for value in (poison, wrong_shape, json.dumps(good).encode()):
                await producer.send_and_wait(
                    topic, value=value, key=b"external", headers=[("origin", b"payroll")]
                )
        finally:
            await producer.stop()

        final = await wait_until_finished(api, str(good_id))
        assert final["status"] == "completed"
        assert final["counts"]["inserted"] == 7

    records = await dead_letters(
        herald_env.infra.kafka_bootstrap, topic, 2, lambda r: r.value in (poison, wrong_shape)
    )
    by_value = {r.value: dict(r.headers) for r in records}
    assert set(by_value) == {poison, wrong_shape}
    poison_headers = by_value[poison]
    assert poison_headers["origin"] == b"payroll"
    assert poison_headers["herald.dlq.original-topic"] == topic.encode()
    assert b"invalid allocation request" in poison_headers["herald.dlq.reason"]
    assert b"data.allocation_id" in by_value[wrong_shape]["herald.dlq.reason"]


async def test_notifier_dead_letters_a_per_employee_record_it_cannot_route(services, herald_env):
    """A record with a malformed routing header goes to the topic's dead-letter topic, with
    where it came from; the notifier reads on."""
    topic = herald_env.topics.voucher_allocated
    bad = b'{"specversion": "1.0"}'
    producer = AIOKafkaProducer(bootstrap_servers=herald_env.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic,
            value=bad,
            key=DEPARTMENT.encode(),
            headers=[
                ("herald.notification-id", b"not-a-number"),
                ("herald.employee-id", b"PD001"),
            ],
        )
    finally:
        await producer.stop()

    (record,) = await dead_letters(
        herald_env.infra.kafka_bootstrap, topic, 1, lambda r: r.value == bad
    )
    headers = dict(record.headers)
    assert record.value == bad
    assert record.key == DEPARTMENT.encode()
    assert headers["herald.dlq.original-topic"] == topic.encode()
    assert headers["herald.dlq.original-partition"] == str(sent.partition).encode()
    assert headers["herald.dlq.original-offset"] == str(sent.offset).encode()
    assert b"herald.notification-id" in headers["herald.dlq.reason"]
    assert headers["herald.employee-id"] == b"PD001"  # the record's own headers are kept


def sample(metrics: str, name: str) -> float:
    return next(float(line.split()[1]) for line in metrics.splitlines() if line.startswith(name))


async def consumer_state(url: str) -> tuple[float, float, float]:
    """A notifier replica's records consumed, its lag and its dead-letters sent so far."""
    async with httpx.AsyncClient(timeout=10) as client:
        metrics = (await client.get(f"{url}/metrics")).text
    return (
        sample(metrics, "herald_notifier_events_consumed_total "),
        sample(metrics, "herald_notifier_consumer_lag_records "),
        sample(metrics, "herald_notifier_dead_letters_total "),
    )


async def test_a_bad_record_is_dead_lettered_once_whatever_the_replicas(services, herald_env):
    """Every notifier replica reads every partition; one of them dead-letters the record.

    Two replicas here, the session's and a second; in a full run the browser tests' replica
    reads the same topics too, so the sender is read from the claims, not from these two
    replicas' metrics.
    """
    port = free_port()
    replica = {"HERALD_NOTIFIER_REPLICA_ID": "dead-letter-second"}
    second = notifier_process(herald_env, port, replica, name="notifier-second").start()
    replicas = [services.notifier_url, f"http://127.0.0.1:{port}"]
    topic = herald_env.topics.notification_pushed
    bad = json.dumps({"poison": str(uuid.uuid4())}).encode()  # no routing, wrong shape

    async def passed(url: str, consumed_before: float) -> None:
        while True:
            consumed, lag, _ = await consumer_state(url)
            if consumed > consumed_before and lag == 0:
                return
            await asyncio.sleep(0.2)

    async def claimants(partition: int, offset: int) -> list[str]:
        async with await AsyncConnection.connect(herald_env.database_url) as conn:
            rows = await (
                await conn.execute(
                    "SELECT claimed_by FROM dead_letter_claims WHERE topic = %s"
                    " AND kafka_partition = %s AND kafka_offset = %s",
                    (topic, partition, offset),
                )
            ).fetchall()
        return [str(row[0]) for row in rows]

    async def dead_lettered() -> None:
        while not await every_dead_letter(herald_env.kafka, topic, lambda r: r.value == bad):
            await asyncio.sleep(0.2)

    try:
        second.wait_http(f"{replicas[1]}/readyz")
        before = [await consumer_state(url) for url in replicas]
        producer = AIOKafkaProducer(bootstrap_servers=herald_env.infra.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            sent = await producer.send_and_wait(topic, value=bad, key=DEPARTMENT.encode())
        finally:
            await producer.stop()
        # Both replicas read past it and one sent it. A replica counts a record consumed
        # before it settles the record's dead letter, so then wait for every replica's loop
        # to come round again (its fetch waits at most 1 s): by then all have decided.
        await asyncio.wait_for(
            asyncio.gather(*(passed(url, b[0]) for url, b in zip(replicas, before, strict=True))),
            30,
        )
        await asyncio.wait_for(dead_lettered(), 30)
        await asyncio.sleep(2.5)
    finally:
        second.stop()
    records = await every_dead_letter(herald_env.kafka, topic, lambda r: r.value == bad)
    assert len(records) == 1
    assert len(await claimants(sent.partition, sent.offset)) == 1


class _Sent:
    def __init__(self) -> None:
        self.records: list[ConsumedRecord] = []

    async def publish(self, record: ConsumedRecord, reason: str) -> None:
        self.records.append(record)


async def test_a_dead_letter_claim_is_its_claimants_alone(herald_env):
    """The first claim sends; its claimant may send again (a failed send), no one else may."""
    record = ConsumedRecord(f"claims-{uuid.uuid4()}", 2, 41, b"k", b"v")
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        herald_env.database_url, min_size=1, max_size=2, open=False
    )
    await pool.open(wait=True)
    try:
        first, other = _Sent(), _Sent()
        mine = ClaimedDeadLetters(first, pool, "replica-a/1")  # type: ignore[arg-type]
        theirs = ClaimedDeadLetters(other, pool, "replica-b/1")  # type: ignore[arg-type]
        assert await mine.publish(record, "bad")
        assert not await theirs.publish(record, "bad")
        assert await mine.publish(record, "bad")  # again, as after a send that failed
        assert await theirs.publish(replace(record, offset=42), "bad")  # the next record
        assert (first.records, other.records) == ([record, record], [replace(record, offset=42)])
    finally:
        await pool.close()
