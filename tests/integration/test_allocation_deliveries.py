"""A team's part of an allocation for its manager, and HR's delivery figures and CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.sse import open_stream

pytestmark = pytest.mark.integration

TEAM, OTHER = "Deliv-Team", "Deliv-Other"
PEOPLE = [
    ("DT000", "Ann Live", TEAM, "G2", date(2018, 1, 1)),
    ("DT001", "=cmd|' /C calc'!A0", TEAM, "G2", date(2018, 1, 1)),
    ("DT002", "Cid Reader", TEAM, "G2", date(2018, 1, 1)),
    ("DO000", "Olga Other", OTHER, "G2", date(2018, 1, 1)),
    ("DO001", "Otto Other", OTHER, "G2", date(2018, 1, 1)),
]
LIVE, READER = "DT000", "DT002"


@pytest.fixture(scope="module")
async def allocated(services, herald_env) -> str:
    """One allocation to both departments while LIVE has a stream open; READER then reads
    theirs. The id, once the live delivery is recorded."""
    async with (
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=60, headers=herald_env.admin
        ) as admin,
        httpx.AsyncClient(timeout=None) as sse,
    ):
        assert (await import_employees(admin, employees_csv(PEOPLE))).status_code == 200
        stream = await open_stream(
            sse, services.notifier_url, herald_env.bearer(LIVE, ["employee"])
        )
        response = await admin.post(
            "/v1/allocations",
            json={
                "voucher": voucher("Deliveries", amount="25.00", prefix="DLV"),
                "criteria": {"departments": [TEAM, OTHER]},
            },
        )
        assert response.status_code == 202, response.text
        allocation_id = response.json()["id"]
        await wait_until_finished(admin, allocation_id)
        await stream.wait_for(1)
        await stream.close()

        async def recorded() -> None:
            path = f"/v1/allocations/{allocation_id}/deliveries"
            while (await admin.get(path)).json()["delivered_live"] < 1:
                await asyncio.sleep(0.1)

        await asyncio.wait_for(recorded(), 30)
    async with httpx.AsyncClient(
        base_url=services.allocation_url,
        timeout=30,
        headers=herald_env.bearer(READER, ["employee"]),
    ) as reader:
        (item,) = (await reader.get("/v1/notifications")).json()["items"]
        assert (await reader.post(f"/v1/notifications/{item['id']}/read")).status_code == 200
    return str(allocation_id)


def client(services, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=services.allocation_url, timeout=30, headers=headers)


def manager_of(herald_env, department: str) -> dict[str, str]:
    return herald_env.bearer("DM-" + department, ["employee", "manager"], manages=department)


async def team_view(services, headers, allocation_id: str, **params: str) -> httpx.Response:
    async with client(services, headers) as api:
        return await api.get(f"/v1/allocations/{allocation_id}/team", params=params)


async def test_a_manager_sees_their_teams_part(services, herald_env, allocated):
    response = await team_view(services, manager_of(herald_env, TEAM), allocated)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["team"] == {"department": TEAM, "size": 3}
    assert body["allocation"]["id"] == allocated
    assert body["allocation"]["name"] == "Deliveries"
    assert (body["allocation"]["amount"], body["allocation"]["currency"]) == ("25.00", "EUR")
    by_id = {r["employee_id"]: r for r in body["recipients"]}
    assert sorted(by_id) == ["DT000", "DT001", "DT002"]
    assert {e: r["delivery"] for e, r in by_id.items()} == {
        "DT000": "live",
        "DT001": "inbox",
        "DT002": "inbox",
    }
    assert {e: r["read"] for e, r in by_id.items()} == {
        "DT000": False,
        "DT001": False,
        "DT002": True,
    }
    assert by_id["DT002"]["read_at"] is not None
    assert all(r["code"].startswith("DLV") and r["amount"] == "25.00" for r in by_id.values())


async def test_a_manager_of_another_department_is_forbidden(services, herald_env, allocated):
    response = await team_view(services, manager_of(herald_env, OTHER), allocated, department=TEAM)
    assert response.status_code == 403
    assert TEAM in response.json()["detail"]


async def test_a_manager_sees_only_their_own_department_by_default(services, herald_env, allocated):
    body = (await team_view(services, manager_of(herald_env, OTHER), allocated)).json()
    assert body["team"] == {"department": OTHER, "size": 2}
    assert sorted(r["employee_id"] for r in body["recipients"]) == ["DO000", "DO001"]


async def test_an_employee_may_not_see_a_team(services, herald_env, allocated):
    response = await team_view(services, herald_env.bearer(LIVE, ["employee"]), allocated)
    assert response.status_code == 403


async def test_an_hr_admin_names_the_department(services, herald_env, allocated):
    missing = await team_view(services, herald_env.admin, allocated)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "department"]
    named = await team_view(services, herald_env.admin, allocated, department=TEAM)
    # By name: "=cmd..." sorts before "Ann Live".
    assert [r["employee_id"] for r in named.json()["recipients"]] == ["DT001", "DT000", "DT002"]


async def test_an_unknown_allocation_is_not_found(services, herald_env, allocated):
    unknown = str(uuid.uuid4())
    response = await team_view(services, manager_of(herald_env, TEAM), unknown)
    assert response.status_code == 404
    async with client(services, herald_env.admin) as admin:
        assert (await admin.get(f"/v1/allocations/{unknown}/deliveries")).status_code == 404
        assert (await admin.get(f"/v1/allocations/{unknown}/deliveries.csv")).status_code == 404


async def test_delivery_figures(services, herald_env, allocated):
    async with client(services, herald_env.admin) as admin:
        figures = (await admin.get(f"/v1/allocations/{allocated}/deliveries")).json()
    assert figures == {"total": 5, "delivered_live": 1, "waiting_in_inbox": 4, "read": 1}


async def test_delivery_figures_are_for_hr_admins(services, herald_env, allocated):
    async with client(services, manager_of(herald_env, TEAM)) as manager:
        assert (await manager.get(f"/v1/allocations/{allocated}/deliveries")).status_code == 403
        response = await manager.get(f"/v1/allocations/{allocated}/deliveries.csv")
        assert response.status_code == 403


async def test_delivery_csv_has_one_formula_safe_row_per_recipient(services, herald_env, allocated):
    async with client(services, herald_env.admin) as admin:
        response = await admin.get(f"/v1/allocations/{allocated}/deliveries.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["employee_id"] for r in rows] == ["DO000", "DO001", "DT000", "DT001", "DT002"]
    assert list(rows[0]) == [
        "employee_id",
        "name",
        "department",
        "code",
        "amount",
        "currency",
        "delivery",
        "read_at",
    ]
    by_id = {r["employee_id"]: r for r in rows}
    assert by_id["DT001"]["name"] == "'=cmd|' /C calc'!A0"
    assert by_id["DT000"]["delivery"] == "live"
    assert by_id["DT002"]["read_at"] != ""
    assert by_id["DO000"]["delivery"] == "inbox"
