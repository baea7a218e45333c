"""The request topic follows the API's rules: what the API would refuse is dead-lettered
with the reason, and an allocation that reaches nobody ends as failed, never completed 0."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.dead_letters import dead_letters

pytestmark = pytest.mark.integration

DEPARTMENT = "Topic-Rules-Dept"


def request(criteria: dict[str, Any]) -> tuple[str, bytes]:
    allocation_id = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    event = {
        "specversion": "1.0",
        "id": allocation_id,
        "source": "/payroll/batch",
        "type": "herald.allocation.requested",
        "time": now,
        "data": {
            "allocation_id": allocation_id,
            "voucher": voucher("From payroll"),
            "criteria": criteria,
            "requested_at": now,
        },
    }
    return allocation_id, json.dumps(event).encode()


async def write(herald_env, value: bytes, key: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=herald_env.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            herald_env.topics.allocation_requested, value=value, key=key.encode()
        )
    finally:
        await producer.stop()


async def dead_letter_of(herald_env, allocation_id: str) -> dict[str, bytes]:
    """The headers of the dead letter whose value carries this allocation id."""
    (record,) = await dead_letters(
        herald_env.infra.kafka_bootstrap,
        herald_env.topics.allocation_requested,
        1,
        lambda r: r.value is not None and allocation_id.encode() in r.value,
    )
    return dict(record.headers)


@pytest.fixture(scope="module")
async def api(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as client:
        people = [
            (f"TR{n:03d}", f"Person {n}", DEPARTMENT, "G3", date(2020, 3, 1)) for n in range(4)
        ]
        assert (await import_employees(client, employees_csv(people))).status_code == 200
        yield client


async def test_an_empty_rule_on_the_topic_is_dead_lettered_with_the_reason(api, herald_env):
    allocation_id, value = request({})
    await write(herald_env, value, allocation_id)
    headers = await dead_letter_of(herald_env, allocation_id)
    assert b"all_employees: true" in headers["herald.dlq.reason"]
    assert (await api.get(f"/v1/allocations/{allocation_id}")).status_code == 404


async def test_an_unknown_department_on_the_topic_is_dead_lettered_with_the_reason(api, herald_env):
    allocation_id, value = request({"departments": [DEPARTMENT, "Topic-Nowhere"]})
    await write(herald_env, value, allocation_id)
    headers = await dead_letter_of(herald_env, allocation_id)
    assert b"Topic-Nowhere" in headers["herald.dlq.reason"]
    assert DEPARTMENT.encode() not in headers["herald.dlq.reason"]
    # Never "completed with 0 matched": no allocation exists for it.
    assert (await api.get(f"/v1/allocations/{allocation_id}")).status_code == 404


async def test_a_topic_request_matching_nobody_ends_failed_with_a_reason_for_people(
    api, herald_env
):
    allocation_id, value = request({"departments": [DEPARTMENT], "grades": ["G9"]})
    await write(herald_env, value, allocation_id)
    final = await wait_until_finished(api, allocation_id)
    assert final["status"] == "failed"
    assert final["counts"] == {"matched": 0, "inserted": 0, "published": 0}
    assert "matched no employee" in final["failure_reason"]
    assert "Nothing was written" in final["failure_reason"]
    assert final["failure_detail"] == "the criteria matched 0 employees"
