"""Helpers for driving the allocation API from tests."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import httpx

FUTURE = (date.today() + timedelta(days=90)).isoformat()


def voucher(
    name: str = "Winter bonus", amount: str = "50.00", prefix: str = "WIN"
) -> dict[str, Any]:
    return {
        "name": name,
        "amount": amount,
        "currency": "EUR",
        "expires_on": FUTURE,
        "code_prefix": prefix,
    }


def employees_csv(rows: Iterable[tuple[str, str, str, str, date]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["employee_id", "name", "email", "department", "grade", "hired_on"])
    for employee_id, name, department, grade, hired_on in rows:
        writer.writerow(
            [
                employee_id,
                name,
                f"{employee_id.lower()}@example.com",
                department,
                grade,
                hired_on.isoformat(),
            ]
        )
    return out.getvalue()


async def import_employees(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post(
        "/v1/employees:import", content=text.encode(), headers={"Content-Type": "text/csv"}
    )


async def add_people(
    allocation_url: str, admin: dict[str, str], people: Iterable[tuple[str, str, str, str, date]]
) -> None:
    """Put `people` in the employee directory through the API, as an HR admin."""
    async with httpx.AsyncClient(base_url=allocation_url, timeout=30, headers=admin) as api:
        response = await import_employees(api, employees_csv(people))
    assert response.status_code == 200, response.text


async def wait_until_finished(
    client: httpx.AsyncClient, allocation_id: str, timeout: float = 90
) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while True:
            response = await client.get(f"/v1/allocations/{allocation_id}")
            # 404 until the inserter records a request that came straight from Kafka.
            if response.status_code != 404:
                body: dict[str, Any] = response.json()
                if body["status"] in ("completed", "failed"):
                    return body
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), timeout)


async def wait_push(client: httpx.AsyncClient, push_id: str, timeout: float = 60) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while True:
            body: dict[str, Any] = (await client.get(f"/v1/pushes/{push_id}")).json()
            if body["status"] in ("completed", "failed"):
                return body
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), timeout)
