"""The rules of allocating safely: an explicit audience, a review, a confirmed count, one
scope for idempotency keys, and an honest status while no worker picks a request up."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest

from herald_common.settings import TopicSettings
from herald_common.topics import delete_topics, ensure_topics
from tests.support.api import employees_csv, import_employees, voucher
from tests.support.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration

LARGE = "Rules-Large"  # 12 people
SMALL = "Rules-Small"  # 3 people, one with a name a spreadsheet would run
FORMULA_NAME = '=HYPERLINK("http://example.com")'
# The second API below asks for the typed count above this many recipients.
THRESHOLD = 5


@pytest.fixture(scope="module")
async def api(services, herald_env) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as client:
        people = [(f"RL{n:03d}", f"Large {n}", LARGE, "G2", date(2019, 5, 1)) for n in range(12)]
        people += [
            ("RS000", FORMULA_NAME, SMALL, "G5", date(2015, 1, 1)),
            ("RS001", "Small 1", SMALL, "G5", date(2015, 1, 1)),
            ("RS002", "Small 2", SMALL, "G5", date(2015, 1, 1)),
        ]
        response = await import_employees(client, employees_csv(people))
        assert response.status_code == 200, response.text
        yield client


@pytest.fixture(scope="module")
async def unwatched(api, herald_env) -> AsyncIterator[httpx.AsyncClient]:
    """A second API on the same database whose request topic no inserter reads (a stopped
    worker), with a 1 s worker wait and a typed confirmation above 5 recipients."""
    topics = TopicSettings(prefix=f"{herald_env.topic_prefix}unwatched.")
    await ensure_topics(herald_env.kafka, topics)
    port = free_port()
    process = ServiceProcess(
        "allocation-unwatched",
        "herald_allocation",
        {
            **herald_env.variables(),
            "HERALD_TOPICS_PREFIX": topics.prefix,
            "HERALD_ALLOCATION_PORT": str(port),
            "HERALD_ALLOCATION_WORKER_WAIT_SECONDS": "1",
            "HERALD_ALLOCATION_WATCH_INTERVAL_SECONDS": "0.2",
            "HERALD_ALLOCATION_TYPED_CONFIRMATION_ABOVE": str(THRESHOLD),
        },
        herald_env.log_dir,
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{url}/readyz")
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=herald_env.admin) as client:
            yield client
    finally:
        process.stop()
        await delete_topics(herald_env.kafka, topics)


def only_error(response: httpx.Response) -> dict[str, Any]:
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    error: dict[str, Any] = detail[0]
    return error


def forget_allocation(database_url: str, allocation_id: str) -> None:
    """The unwatched API's requests never run: take them out of the shared history."""
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM allocations WHERE id = %s", (allocation_id,))


async def test_an_empty_rule_is_refused_naming_all_employees(api):
    response = await api.post("/v1/allocations", json={"voucher": voucher(), "criteria": {}})
    assert response.status_code == 422
    error = only_error(response)
    assert error["loc"] == ["body", "criteria"]
    assert "all_employees: true" in error["msg"]


async def test_all_employees_combined_with_a_filter_is_refused(api):
    body = {"voucher": voucher(), "criteria": {"all_employees": True, "departments": [LARGE]}}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 422
    assert "cannot be combined" in only_error(response)["msg"]


async def test_a_rule_matching_nobody_is_refused(api, herald_env):
    body = {"voucher": voucher(), "criteria": {"departments": [LARGE], "grades": ["G9"]}}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 422
    error = only_error(response)
    assert error["type"] == "no_recipients"
    assert error["loc"] == ["body", "criteria"]


async def test_everyone_needs_the_typed_count(api):
    body = {"voucher": voucher(), "criteria": {"all_employees": True}}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 422
    error = only_error(response)
    assert error["type"] == "confirmation_required"
    assert error["loc"] == ["body", "confirmed_recipients"]
    assert "every employee" in error["msg"]


async def test_above_the_threshold_the_count_must_be_confirmed(unwatched):
    body = {"voucher": voucher(), "criteria": {"departments": [LARGE]}}
    response = await unwatched.post("/v1/allocations", json=body)
    assert response.status_code == 422
    error = only_error(response)
    assert error["type"] == "confirmation_required"
    assert error["matched"] == 12


async def test_a_confirmed_count_that_differs_is_refused_with_the_current_match(unwatched):
    body = {"voucher": voucher(), "criteria": {"departments": [LARGE]}, "confirmed_recipients": 11}
    response = await unwatched.post("/v1/allocations", json=body)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["code"] == "recipients_changed"
    assert detail["matched"] == 12


async def test_a_request_no_worker_picks_up_says_it_is_waiting(unwatched, herald_env):
    body = {"voucher": voucher(), "criteria": {"departments": [LARGE]}, "confirmed_recipients": 12}
    response = await unwatched.post("/v1/allocations", json=body)
    assert response.status_code == 202, response.text
    allocation_id = response.json()["id"]
    try:
        assert response.json()["waiting_for_worker"] is False
        await asyncio.sleep(1.5)
        waiting = (await unwatched.get(f"/v1/allocations/{allocation_id}")).json()
        assert waiting["status"] == "requested"
        assert waiting["waiting_for_worker"] is True
        assert waiting["waiting_seconds"] >= 1.0
    finally:
        forget_allocation(herald_env.database_url, allocation_id)


async def test_the_waiting_gauge_counts_requests_no_worker_picked_up(unwatched, herald_env):
    body = {"voucher": voucher(), "criteria": {"departments": [SMALL]}}
    response = await unwatched.post("/v1/allocations", json=body)
    assert response.status_code == 202, response.text
    allocation_id = response.json()["id"]
    try:
        await asyncio.sleep(1.8)
        metrics = (await unwatched.get("/metrics")).text
        waiting = next(
            float(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith("herald_allocation_waiting_for_worker ")
        )
        assert waiting >= 1
    finally:
        forget_allocation(herald_env.database_url, allocation_id)


async def test_preview_gives_counts_per_department_cost_and_a_sample(api):
    body = {"criteria": {"departments": [LARGE, SMALL]}, "voucher": voucher(amount="25.00")}
    response = await api.post("/v1/allocations:preview", json=body)
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["matched"] == 15
    assert preview["by_department"] == [
        {"department": LARGE, "count": 12},
        {"department": SMALL, "count": 3},
    ]
    assert preview["total_cost"] == [{"currency": "EUR", "amount": "375.00"}]
    assert [p["employee_id"] for p in preview["sample"]] == [f"RL{n:03d}" for n in range(10)]
    assert preview["sample"][0]["name"] == "Large 0"
    assert preview["confirmation"] == "review"


async def test_preview_of_everyone_asks_for_the_typed_count(api):
    response = await api.post("/v1/allocations:preview", json={"criteria": {"all_employees": True}})
    assert response.status_code == 200, response.text
    assert response.json()["confirmation"] == "typed"
    assert response.json()["total_cost"] == []


async def test_recipients_csv_streams_every_recipient(api):
    response = await api.post(
        "/v1/allocations:recipients", json={"criteria": {"departments": [LARGE, SMALL]}}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    # Streamed: no length known up front.
    assert "content-length" not in response.headers
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["employee_id"] for r in rows] == [f"RL{n:03d}" for n in range(12)] + [
        "RS000",
        "RS001",
        "RS002",
    ]
    assert set(rows[0]) == {"employee_id", "name", "email", "department", "grade", "hired_on"}


async def test_recipients_csv_keeps_a_formula_as_text(api):
    response = await api.post(
        "/v1/allocations:recipients", json={"criteria": {"departments": [SMALL]}}
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["name"] == "'" + FORMULA_NAME


async def test_recipients_of_an_unknown_department_are_refused(api):
    response = await api.post(
        "/v1/allocations:recipients", json={"criteria": {"departments": ["Rules-Nowhere"]}}
    )
    assert response.status_code == 422
    assert only_error(response)["type"] == "unknown_department"


async def test_an_idempotency_key_belongs_to_its_caller(api, herald_env):
    key = secrets.token_hex(8)
    body = {"voucher": voucher("Per caller"), "criteria": {"departments": [SMALL]}}
    first = await api.post("/v1/allocations", json=body, headers={"Idempotency-Key": key})
    other_admin = herald_env.bearer("hr-admin-2", ["hr-admin"])
    second = await api.post(
        "/v1/allocations", json=body, headers={"Idempotency-Key": key, **other_admin}
    )
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["requested_by"] == "hr-admin-1"
    assert second.json()["requested_by"] == "hr-admin-2"
    assert "idempotent-replayed" not in second.headers
