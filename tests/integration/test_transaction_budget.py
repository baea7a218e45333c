"""An allocation that outlives the inserter's transaction budget fails, and the worker
goes on to the next request.

A Herald of its own (database, topics, allocation API and an inserter with a 5 s budget),
so that the lock this test holds and the requests it leaves failed touch no other test.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import HeraldEnv, allocation_process, inserter_process, isolated_env
from tests.support.api import (
    employees_csv,
    import_employees,
    voucher,
    wait_push,
    wait_until_finished,
)
from tests.support.processes import free_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

BUDGET_SECONDS = 5
DEPARTMENT = "Budget"
PEOPLE = [(f"BG{n:03d}", f"Budget {n}", DEPARTMENT, "G2", date(2020, 1, 1)) for n in range(5)]


@pytest.fixture(scope="module")
def budget_env(infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeraldEnv]:
    with isolated_env(infra, Path(tmp_path_factory.mktemp("budget-logs"))) as env:
        yield env


@pytest.fixture(scope="module")
async def budget_api(budget_env: HeraldEnv) -> AsyncIterator[httpx.AsyncClient]:
    """The allocation API and an inserter whose transactions may last 5 s, tried twice."""
    allocation_port, inserter_port = free_port(), free_port()
    allocation = allocation_process(budget_env, allocation_port).start()
    inserter = inserter_process(
        budget_env,
        inserter_port,
        {
            "HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS": str(BUDGET_SECONDS),
            "HERALD_INSERTER_MAX_ATTEMPTS": "2",
            "HERALD_INSERTER_RETRY_MAX_SECONDS": "0.5",
        },
    ).start()
    url = f"http://127.0.0.1:{allocation_port}"
    try:
        allocation.wait_http(f"{url}/readyz")
        inserter.wait_http(f"http://127.0.0.1:{inserter_port}/healthz")
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=budget_env.admin) as api:
            assert (await import_employees(api, employees_csv(PEOPLE))).status_code == 200
            yield api
    finally:
        inserter.stop()
        allocation.stop()


def inbox_rows(database_url: str, push_id: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT employee_id FROM notifications WHERE push_id = %s ORDER BY employee_id",
            (push_id,),
        ).fetchall()
    return [row[0] for row in rows]


def waiting_for_the_lock(holder: psycopg.Connection) -> bool:
    [(waiting,)] = holder.execute(
        "SELECT count(*) FROM pg_locks"
        " WHERE relation = 'employee_vouchers'::regclass AND NOT granted"
    ).fetchall()
    return bool(waiting)


async def test_an_allocation_over_its_budget_fails_and_the_next_request_goes_through(
    budget_env, budget_api
):
    # Whoever holds this lock keeps the allocation's COPY of the vouchers waiting, as an
    # allocation too big for its budget would: its transaction outlives the budget while
    # Kafka and PostgreSQL both answer. A push writes no voucher, so the lock is not in
    # its way; only the worker, were it still busy with the allocation, would be. The push
    # is sent once the worker is at that COPY.
    with psycopg.connect(budget_env.database_url) as holder:
        holder.execute("LOCK TABLE employee_vouchers IN SHARE MODE")
        response = await budget_api.post(
            "/v1/allocations",
            json={"voucher": voucher("Too big"), "criteria": {"departments": [DEPARTMENT]}},
        )
        assert response.status_code == 202, response.text
        allocation_id = response.json()["id"]
        await eventually(lambda: waiting_for_the_lock(holder), 30, "the allocation's COPY")
        payroll = budget_env.bearer(f"payroll-{secrets.token_hex(3)}", ["service"])
        response = await budget_api.post(
            "/v1/notifications",
            json={"title": "Payslip", "target": {"employee_ids": ["BG000", "BG001"]}},
            headers=payroll,
        )
        assert response.status_code == 202, response.text
        push_id = response.json()["id"]

        try:
            push = await wait_push(budget_api, push_id, timeout=60)
        except TimeoutError:
            left = (await budget_api.get(f"/v1/pushes/{push_id}")).json()["status"]
            busy = (await budget_api.get(f"/v1/allocations/{allocation_id}")).json()["status"]
            pytest.fail(f"the push is still {left!r} after 60 s, behind the allocation ({busy!r})")
        allocation = await wait_until_finished(budget_api, allocation_id, timeout=30)

    assert push["status"] == "completed"
    assert push["counts"] == {"matched": 2, "inserted": 2, "published": 2}
    assert inbox_rows(budget_env.database_url, push_id) == ["BG000", "BG001"]

    assert allocation["status"] == "failed"
    reason = allocation["failure_reason"]
    assert f"longer than the {BUDGET_SECONDS} s" in reason
    assert "Nothing was written and nobody was notified" in reason
    assert "HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS" in reason
    assert allocation["failure_detail"].startswith("TransactionBudgetExceeded")
    assert allocation["counts"]["inserted"] == 0
