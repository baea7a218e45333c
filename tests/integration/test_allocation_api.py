"""The allocation API's contract: idempotency, validation, paging."""

from __future__ import annotations

import secrets
from datetime import date

import httpx
import psycopg
import pytest

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished

pytestmark = pytest.mark.integration

DEPARTMENT = "Idempotency-Dept"


@pytest.fixture(scope="module")
async def api(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as client:
        people = [
            (f"ID{n:03d}", f"Person {n}", DEPARTMENT, "G2", date(2019, 5, 1)) for n in range(25)
        ]
        response = await import_employees(client, employees_csv(people))
        assert response.status_code == 200, response.text
        yield client


def _allocation_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM allocations").fetchone()[0]


async def test_same_idempotency_key_and_body_creates_nothing_new(api, herald_env):
    key = secrets.token_hex(8)
    body = {"voucher": voucher("Once only"), "criteria": {"departments": [DEPARTMENT]}}
    first = await api.post("/v1/allocations", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 202, first.text
    allocation_id = first.json()["id"]
    assert (await wait_until_finished(api, allocation_id))["status"] == "completed"
    before = _allocation_count(herald_env.database_url)

    again = await api.post("/v1/allocations", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 202
    assert again.json()["id"] == allocation_id
    assert again.headers["location"] == f"/v1/allocations/{allocation_id}"
    assert again.headers["idempotent-replayed"] == "true"
    assert _allocation_count(herald_env.database_url) == before
    with psycopg.connect(herald_env.database_url) as conn:
        vouchers = conn.execute(
            "SELECT count(*) FROM employee_vouchers ev JOIN employees e ON e.id = ev.employee_id"
            " WHERE e.department = %s",
            (DEPARTMENT,),
        ).fetchone()[0]
    assert vouchers == 25


async def test_same_key_with_a_different_body_is_422(api):
    key = secrets.token_hex(8)
    body = {"voucher": voucher("First"), "criteria": {"departments": [DEPARTMENT]}}
    assert (
        await api.post("/v1/allocations", json=body, headers={"Idempotency-Key": key})
    ).status_code == 202
    other = {"voucher": voucher("Second"), "criteria": {"departments": [DEPARTMENT]}}
    response = await api.post("/v1/allocations", json=other, headers={"Idempotency-Key": key})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "different request body" in error["msg"]


async def test_unknown_department_is_reported(api):
    body = {"voucher": voucher(), "criteria": {"departments": [DEPARTMENT, "Nonexistent"]}}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "criteria", "departments"]
    assert error["msg"] == "unknown department(s): Nonexistent"


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"voucher": {**voucher(), "amount": "-5"}}, ["body", "voucher", "amount"]),
        ({"voucher": {**voucher(), "currency": "euro"}}, ["body", "voucher", "currency"]),
        ({"voucher": {**voucher(), "expires_on": "2001-01-01"}}, ["body", "voucher", "expires_on"]),
        ({"criteria": {"grades": ["G0"]}}, ["body", "criteria", "grades", 0]),
        (
            {"criteria": {"min_years_experience": 4, "max_years_experience": 1}},
            ["body", "criteria"],
        ),
        ({"criteria": {"salary": 1}}, ["body", "criteria", "salary"]),
    ],
)
async def test_bad_input_names_the_field_and_the_reason(api, patch, loc):
    body = {"voucher": voucher(), "criteria": {"departments": [DEPARTMENT]}, **patch}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and e["msg"] for e in errors), errors


async def test_overlong_idempotency_key_is_rejected(api):
    body = {"voucher": voucher(), "criteria": {"departments": [DEPARTMENT]}}
    response = await api.post("/v1/allocations", json=body, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_unknown_allocation_is_404(api):
    response = await api.get("/v1/allocations/6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10")
    assert response.status_code == 404


async def test_allocations_are_listed_newest_first_in_pages(api):
    ids = []
    for n in range(3):
        body = {"voucher": voucher(f"Paged {n}"), "criteria": {"departments": [DEPARTMENT]}}
        ids.append((await api.post("/v1/allocations", json=body)).json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/allocations", params=params)).json()
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert seen[:3] == ids[::-1]
    assert (await api.get("/v1/allocations", params={"cursor": "garbage!"})).status_code == 400
