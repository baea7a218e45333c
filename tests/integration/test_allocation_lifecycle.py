"""The allocation lifecycle through the API: four-eyes approval, scheduling, cancelling, the
audit trail, legal and illegal steps. An allocation service of this module's own has the
approval rule on (more than 5 recipients); the session's inserter writes what it sends."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from herald_common.kafka import connection_options
from tests.conftest import approval_allocation_process
from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration

DEPARTMENT = "Lifecycle-Dept"
SMALL = "Lifecycle-Small"
TEAM = 8  # over the module's limit of 5 recipients
ADMIN_A, ADMIN_B = "hr-admin-a", "hr-admin-b"


@dataclass
class ApprovalApi:
    url: str
    process: ServiceProcess


@pytest.fixture(scope="module")
async def approval_api(services, herald_env) -> AsyncIterator[ApprovalApi]:
    port = free_port()
    process = approval_allocation_process(
        herald_env,
        port,
        "allocation-approval",
        above_recipients=5,
        extra={"HERALD_ALLOCATION_SCHEDULE_INTERVAL_SECONDS": "0.5"},
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{url}/readyz")
        async with httpx.AsyncClient(base_url=url, headers=herald_env.admin) as client:
            people = [
                (f"LC{n:03d}", f"Person {n}", DEPARTMENT, "G2", date(2019, 5, 1))
                for n in range(TEAM)
            ] + [(f"LS{n:03d}", f"Small {n}", SMALL, "G2", date(2019, 5, 1)) for n in range(2)]
            response = await import_employees(client, employees_csv(people))
            assert response.status_code == 200, response.text
        yield ApprovalApi(url, process)
    finally:
        process.stop()


@pytest.fixture
def allocation_url(approval_api) -> str:
    return approval_api.url


@pytest.fixture
async def admin_a(allocation_url, herald_env) -> AsyncIterator[httpx.AsyncClient]:
    headers = herald_env.bearer(ADMIN_A, ["hr-admin"])
    async with httpx.AsyncClient(base_url=allocation_url, timeout=30, headers=headers) as c:
        yield c


@pytest.fixture
async def admin_b(allocation_url, herald_env) -> AsyncIterator[httpx.AsyncClient]:
    headers = herald_env.bearer(ADMIN_B, ["hr-admin"])
    async with httpx.AsyncClient(base_url=allocation_url, timeout=30, headers=headers) as c:
        yield c


def body(department: str = DEPARTMENT, **extra: Any) -> dict[str, Any]:
    return {
        "voucher": voucher("Lifecycle", prefix="LIFE"),
        "criteria": {"departments": [department]},
        **extra,
    }


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def request(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/allocations", json=body(**extra))
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def vouchers_of(herald_env, allocation_id: str) -> int:
    with psycopg.connect(herald_env.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM employee_vouchers WHERE allocation_id = %s", (allocation_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def outbox_of(herald_env, allocation_id: str) -> int:
    with psycopg.connect(herald_env.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE key = %s", (allocation_id.encode(),)
        ).fetchone()
    assert row is not None
    return int(row[0])


def sql(herald_env, statement: str, *params: object) -> None:
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(statement, params)


async def steps(client: httpx.AsyncClient, allocation_id: str) -> list[tuple[str, str]]:
    response = await client.get(f"/v1/allocations/{allocation_id}/history")
    assert response.status_code == 200, response.text
    return [(item["step"], item["actor"]) for item in response.json()["items"]]


async def wait_status(
    client: httpx.AsyncClient, allocation_id: str, status: str, timeout: float = 30
) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while True:
            found: dict[str, Any] = (await client.get(f"/v1/allocations/{allocation_id}")).json()
            if found["status"] == status:
                return found
            await asyncio.sleep(0.2)

    return await asyncio.wait_for(poll(), timeout)


# -- four eyes --------------------------------------------------------------------------


async def test_over_the_limit_it_waits_for_approval_and_nothing_is_sent(admin_a, herald_env):
    created = await request(admin_a)
    assert created["status"] == "pending_approval"
    assert created["approval"]["required"] is True
    expires = datetime.fromisoformat(created["approval"]["expires_at"])
    requested = datetime.fromisoformat(created["timings"]["requested_at"])
    assert expires - requested == timedelta(hours=72)
    await asyncio.sleep(1)
    assert vouchers_of(herald_env, created["id"]) == 0
    assert outbox_of(herald_env, created["id"]) == 0
    assert await steps(admin_a, created["id"]) == [("requested", ADMIN_A)]


async def test_at_or_under_the_limit_it_is_sent_at_once(admin_a, herald_env):
    created = await request(admin_a, department=SMALL)
    assert created["status"] == "requested"
    assert created["approval"]["required"] is False
    assert (await wait_until_finished(admin_a, created["id"]))["status"] == "completed"
    assert vouchers_of(herald_env, created["id"]) == 2


async def test_the_requester_cannot_approve_their_own(admin_a, herald_env):
    created = await request(admin_a)
    response = await admin_a.post(f"/v1/allocations/{created['id']}:approve")
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "own_allocation"
    assert "another hr-admin must approve it" in response.json()["detail"]["message"]
    assert (await admin_a.get(f"/v1/allocations/{created['id']}")).json()[
        "status"
    ] == "pending_approval"


async def test_a_second_admin_approves_and_it_is_sent(admin_a, admin_b, herald_env):
    created = await request(admin_a)
    response = await admin_b.post(f"/v1/allocations/{created['id']}:approve")
    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["approval"]["decided_by"] == ADMIN_B
    assert approved["status"] in ("requested", "inserting", "published", "completed")
    assert (await wait_until_finished(admin_a, created["id"]))["status"] == "completed"
    assert vouchers_of(herald_env, created["id"]) == TEAM
    assert await steps(admin_a, created["id"]) == [
        ("requested", ADMIN_A),
        ("approved", ADMIN_B),
        ("started", "herald-inserter"),
        ("completed", "herald-inserter"),
    ]


async def test_approving_twice_is_409(admin_a, admin_b):
    created = await request(admin_a)
    assert (await admin_b.post(f"/v1/allocations/{created['id']}:approve")).status_code == 200
    again = await admin_b.post(f"/v1/allocations/{created['id']}:approve")
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "not_pending"


async def test_a_second_admin_rejects_with_a_reason(admin_a, admin_b, herald_env):
    created = await request(admin_a)
    response = await admin_b.post(
        f"/v1/allocations/{created['id']}:reject", json={"reason": "wrong department"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["approval"]["reason"] == "wrong department"
    assert vouchers_of(herald_env, created["id"]) == 0
    history = (await admin_a.get(f"/v1/allocations/{created['id']}/history")).json()["items"]
    assert [(i["step"], i["actor"]) for i in history] == [
        ("requested", ADMIN_A),
        ("rejected", ADMIN_B),
    ]
    assert history[1]["detail"] == {"reason": "wrong department"}


async def test_rejecting_needs_a_reason(admin_a, admin_b):
    created = await request(admin_a)
    response = await admin_b.post(f"/v1/allocations/{created['id']}:reject", json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]


async def test_the_requester_cannot_reject_their_own(admin_a):
    created = await request(admin_a)
    response = await admin_a.post(f"/v1/allocations/{created['id']}:reject", json={"reason": "x"})
    assert response.status_code == 403
    assert "cancel it" in response.json()["detail"]["message"]


async def test_approving_a_rejected_one_is_409(admin_a, admin_b):
    created = await request(admin_a)
    await admin_b.post(f"/v1/allocations/{created['id']}:reject", json={"reason": "no"})
    response = await admin_b.post(f"/v1/allocations/{created['id']}:approve")
    assert response.status_code == 409
    assert "is rejected, not pending approval" in response.json()["detail"]["message"]


async def test_an_unapproved_request_expires(admin_a, herald_env):
    created = await request(admin_a)
    # As if the configured time had passed; the supervised sweep does the rest.
    sql(
        herald_env,
        "UPDATE allocations SET approval_expires_at = now() WHERE id = %s",
        created["id"],
    )
    await wait_status(admin_a, created["id"], "expired")
    assert await steps(admin_a, created["id"]) == [("requested", ADMIN_A), ("expired", "herald")]
    assert vouchers_of(herald_env, created["id"]) == 0


async def test_approving_after_the_expiry_is_409_and_expires_it(admin_a, admin_b, herald_env):
    created = await request(admin_a)
    sql(
        herald_env,
        "UPDATE allocations SET approval_expires_at = now() + interval '10 ms' WHERE id = %s",
        created["id"],
    )
    await asyncio.sleep(0.05)
    response = await admin_b.post(f"/v1/allocations/{created['id']}:approve")
    # Either the sweep or the approval found it expired first: both answer the same.
    assert response.status_code == 409
    assert response.json()["detail"]["code"] in ("expired", "not_pending")
    assert (await admin_a.get(f"/v1/allocations/{created['id']}")).json()["status"] == "expired"


async def test_the_console_lists_those_pending_approval(admin_a, admin_b):
    pending = await request(admin_a)
    sent = await request(admin_a, department=SMALL)
    response = await admin_b.get("/v1/allocations", params={"status": "pending_approval"})
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    assert pending["id"] in ids
    assert sent["id"] not in ids
    assert {item["status"] for item in response.json()["items"]} == {"pending_approval"}


async def test_an_employee_cannot_approve(allocation_url, admin_a, herald_env):
    created = await request(admin_a)
    async with httpx.AsyncClient(base_url=allocation_url) as client:
        response = await client.post(
            f"/v1/allocations/{created['id']}:approve",
            headers=herald_env.bearer("E-someone", ["employee"]),
        )
    assert response.status_code == 403


async def test_approving_an_unknown_allocation_is_404(admin_b):
    response = await admin_b.post("/v1/allocations/00000000-0000-4000-8000-000000000000:approve")
    assert response.status_code == 404


async def test_the_preview_says_when_approval_is_needed(admin_a):
    response = await admin_a.post(
        "/v1/allocations:preview",
        json={"criteria": {"departments": [DEPARTMENT]}, "voucher": voucher()},
    )
    assert response.status_code == 200
    assert response.json()["approval_required"] is True
    assert "8 recipients is more than 5" in response.json()["approval_reason"]
    assert response.json()["recounted_at"] is None


# -- scheduling -------------------------------------------------------------------------


async def test_a_scheduled_allocation_is_sent_at_its_time(admin_a, herald_env):
    send_at = datetime.now(UTC) + timedelta(seconds=4)
    created = await request(admin_a, department=SMALL, send_at=send_at.isoformat())
    assert created["status"] == "scheduled"
    assert datetime.fromisoformat(created["send_at"]) == send_at
    await asyncio.sleep(1)
    assert vouchers_of(herald_env, created["id"]) == 0
    finished = await wait_until_finished(admin_a, created["id"])
    assert finished["status"] == "completed"
    started = datetime.fromisoformat(finished["timings"]["inserting_at"])
    # "Within a few seconds" on a busy machine; the sweep runs every 0.5 s here.
    assert send_at <= started < send_at + timedelta(seconds=10)
    assert [s for s, _ in await steps(admin_a, created["id"])] == [
        "requested",
        "scheduled",
        "started",
        "completed",
    ]


async def test_a_schedule_survives_a_restart_of_the_api(approval_api, admin_a, herald_env):
    created = await request(admin_a, department=SMALL, send_at=later(3))
    approval_api.process.stop()
    await asyncio.sleep(4)  # its time passes while no allocation service runs
    approval_api.process.start()
    approval_api.process.wait_http(f"{approval_api.url}/readyz")
    assert (await wait_until_finished(admin_a, created["id"]))["status"] == "completed"
    assert vouchers_of(herald_env, created["id"]) == 2


async def test_a_schedule_due_while_the_inserter_is_down_is_written_when_it_is_back(
    services, admin_a, herald_env
):
    created = await request(admin_a, department=SMALL, send_at=later(2))
    services.inserter.stop()
    try:
        await wait_status(admin_a, created["id"], "requested")  # released, on Kafka
        await asyncio.sleep(2)
        assert vouchers_of(herald_env, created["id"]) == 0
    finally:
        services.inserter.start()
    assert (await wait_until_finished(admin_a, created["id"]))["status"] == "completed"
    assert vouchers_of(herald_env, created["id"]) == 2


async def test_send_at_in_the_past_is_422(admin_a):
    response = await admin_a.post(
        "/v1/allocations", json=body(send_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    )
    assert response.status_code == 422
    assert "send_at must be in the future" in response.text


async def test_send_at_without_a_time_zone_is_422(admin_a):
    response = await admin_a.post("/v1/allocations", json=body(send_at="2031-01-01T09:00:00"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "send_at"]


async def test_over_the_limit_and_scheduled_waits_for_both(admin_a, admin_b, herald_env):
    created = await request(admin_a, send_at=later(3600))
    assert created["status"] == "pending_approval"
    approved = (await admin_b.post(f"/v1/allocations/{created['id']}:approve")).json()
    assert approved["status"] == "scheduled"
    assert [s for s, _ in await steps(admin_a, created["id"])] == [
        "requested",
        "approved",
        "scheduled",
    ]
    assert outbox_of(herald_env, created["id"]) == 0


async def test_the_preview_of_a_scheduled_allocation_says_it_is_recounted(admin_a):
    send_at = later(3600)
    response = await admin_a.post(
        "/v1/allocations:preview",
        json={"criteria": {"departments": [SMALL]}, "send_at": send_at},
    )
    assert response.status_code == 200
    assert response.json()["matched"] == 2
    assert datetime.fromisoformat(response.json()["recounted_at"]) == datetime.fromisoformat(
        send_at
    )


# -- cancelling -------------------------------------------------------------------------


async def test_a_scheduled_allocation_can_be_cancelled_and_nobody_is_told(admin_a, herald_env):
    created = await request(admin_a, department=SMALL, send_at=later(2))
    response = await admin_a.post(
        f"/v1/allocations/{created['id']}:cancel", json={"reason": "wrong date"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_by"] == ADMIN_A
    await asyncio.sleep(4)  # past its time
    assert (await admin_a.get(f"/v1/allocations/{created['id']}")).json()["status"] == "cancelled"
    assert vouchers_of(herald_env, created["id"]) == 0
    assert outbox_of(herald_env, created["id"]) == 0
    assert await steps(admin_a, created["id"]) == [
        ("requested", ADMIN_A),
        ("scheduled", ADMIN_A),
        ("cancelled", ADMIN_A),
    ]


async def test_an_allocation_pending_approval_can_be_cancelled(admin_a, admin_b):
    created = await request(admin_a)
    response = await admin_a.post(f"/v1/allocations/{created['id']}:cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    approve = await admin_b.post(f"/v1/allocations/{created['id']}:approve")
    assert approve.status_code == 409


async def test_cancelling_twice_is_409(admin_a):
    created = await request(admin_a)
    assert (await admin_a.post(f"/v1/allocations/{created['id']}:cancel")).status_code == 200
    again = await admin_a.post(f"/v1/allocations/{created['id']}:cancel")
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "not_cancellable"


async def test_cancelling_a_completed_one_is_409_and_points_to_revoke(admin_a):
    created = await request(admin_a, department=SMALL)
    await wait_until_finished(admin_a, created["id"])
    response = await admin_a.post(f"/v1/allocations/{created['id']}:cancel")
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "already_sent"
    assert f"POST /v1/allocations/{created['id']}:revoke" in response.json()["detail"]["message"]


async def test_cancelling_once_the_inserter_started_is_409(admin_a, herald_env):
    created = await request(admin_a, send_at=later(3600))
    # The state the inserter's claim commits with its write.
    sql(herald_env, "UPDATE allocations SET status = 'inserting' WHERE id = %s", created["id"])
    response = await admin_a.post(f"/v1/allocations/{created['id']}:cancel")
    assert response.status_code == 409
    assert "revoke it instead" in response.json()["detail"]["message"]


# -- the audit trail --------------------------------------------------------------------


async def test_the_history_exports_as_csv(admin_a, admin_b):
    created = await request(admin_a)
    await admin_b.post(f"/v1/allocations/{created['id']}:reject", json={"reason": "a, b"})
    response = await admin_a.get(f"/v1/allocations/{created['id']}/history.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["seq"], r["step"], r["actor"]) for r in rows] == [
        ("1", "requested", ADMIN_A),
        ("2", "rejected", ADMIN_B),
    ]
    assert json.loads(rows[1]["detail"]) == {"reason": "a, b"}
    assert rows[1]["prev_hash"] == rows[0]["hash"]


async def test_the_history_of_an_unknown_allocation_is_404(admin_a):
    response = await admin_a.get("/v1/allocations/00000000-0000-4000-8000-000000000000/history")
    assert response.status_code == 404


# -- events -----------------------------------------------------------------------------


async def records_of(
    herald_env, topic: str, allocation_id: str, count: int, wait: float = 30
) -> list[dict[str, Any]]:
    """The first `count` records of `topic` keyed by the allocation (fewer if `wait` ends)."""
    consumer = AIOKafkaConsumer(
        topic,
        **connection_options(herald_env.kafka),
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(wait):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    found += [
                        {"value": r.value, "headers": dict(r.headers)}
                        for r in records
                        if r.key == allocation_id.encode()
                    ]
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found


async def status_events(herald_env, allocation_id: str, count: int) -> list[dict[str, Any]]:
    """The allocation's `herald.allocation.status` events on the completion topic."""
    records = await records_of(
        herald_env, herald_env.topics.allocation_completed, allocation_id, count
    )
    events = [json.loads(r["value"]) for r in records]
    return [e for e in events if e["type"] == "herald.allocation.status"]


async def test_each_step_is_announced_as_a_status_event(admin_a, admin_b, herald_env):
    created = await request(admin_a, send_at=later(3600))
    await admin_b.post(f"/v1/allocations/{created['id']}:approve")
    await admin_a.post(f"/v1/allocations/{created['id']}:cancel", json={"reason": "later"})
    events = await status_events(herald_env, created["id"], 4)
    assert [(e["data"]["step"], e["data"]["status"], e["data"]["actor"]) for e in events] == [
        ("requested", "pending_approval", ADMIN_A),
        ("approved", "scheduled", ADMIN_B),
        ("scheduled", "scheduled", ADMIN_B),
        ("cancelled", "cancelled", ADMIN_A),
    ]
    assert events[3]["data"]["reason"] == "later"
    assert [e["id"] for e in events] == [
        f"{created['id']}:{step}" for step in ("requested", "approved", "scheduled", "cancelled")
    ]


async def test_status_events_are_not_dead_lettered_by_their_consumers(admin_a, herald_env):
    created = await request(admin_a)
    await admin_a.post(f"/v1/allocations/{created['id']}:cancel")
    assert len(await status_events(herald_env, created["id"], 2)) == 2
    # The mailer and the notifiers read the topic too; give them time to (not) refuse.
    await asyncio.sleep(3)
    dead = await records_of(
        herald_env, f"{herald_env.topics.allocation_completed}.dlq", created["id"], 1, wait=5
    )
    assert dead == []
