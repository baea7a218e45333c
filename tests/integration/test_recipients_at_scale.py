"""The review's recipient list for 100,000 employees: streamed whole, as CSV.

A database of its own (with its own allocation API), so that 100,000 employees do not
change what the other tests' rules match.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import HeraldEnv, isolated_env
from tests.support.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration

EMPLOYEES = 100_000
DEPARTMENTS = ("Scale-A", "Scale-B", "Scale-C", "Scale-D")


@pytest.fixture(scope="module")
def scale_env(infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeraldEnv]:
    with isolated_env(infra, Path(tmp_path_factory.mktemp("scale-logs"))) as env:
        with (
            psycopg.connect(env.database_url) as conn,
            conn.cursor().copy(
                "COPY employees (id, name, email, department, grade, hired_on) FROM STDIN"
            ) as copy,
        ):
            for n in range(EMPLOYEES):
                employee = f"S{n:06d}"
                copy.write_row(
                    (
                        employee,
                        f"Employee {n}",
                        f"{employee.lower()}@example.com",
                        DEPARTMENTS[n % len(DEPARTMENTS)],
                        "G3",
                        date(2018, 1, 1),
                    )
                )
        yield env


@pytest.fixture(scope="module")
async def scale_api(scale_env: HeraldEnv) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    process = ServiceProcess(
        "allocation-scale",
        "herald_allocation",
        {**scale_env.variables(), "HERALD_ALLOCATION_PORT": str(port)},
        scale_env.log_dir,
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{url}/readyz")
        async with httpx.AsyncClient(base_url=url, timeout=120, headers=scale_env.admin) as api:
            yield api
    finally:
        process.stop()


async def test_the_recipient_list_of_100_000_employees_streams_whole(scale_api):
    chunks = 0
    body = io.BytesIO()
    async with scale_api.stream(
        "POST", "/v1/allocations:recipients", json={"criteria": {"all_employees": True}}
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        async for chunk in response.aiter_bytes():
            chunks += 1
            body.write(chunk)
    rows = list(csv.DictReader(io.StringIO(body.getvalue().decode())))
    assert len(rows) == EMPLOYEES
    assert len({r["employee_id"] for r in rows}) == EMPLOYEES
    assert chunks > 1


async def test_the_preview_of_100_000_employees_counts_each_department(scale_api):
    response = await scale_api.post(
        "/v1/allocations:preview", json={"criteria": {"all_employees": True}}
    )
    assert response.status_code == 200
    preview = response.json()
    assert preview["matched"] == EMPLOYEES
    assert preview["by_department"] == [
        {"department": d, "count": EMPLOYEES // len(DEPARTMENTS)} for d in DEPARTMENTS
    ]
    assert preview["confirmation"] == "typed"
