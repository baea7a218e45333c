"""External producers write the request topic: a poison record must not stop the inserter."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.dead_letters import dead_letters

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
