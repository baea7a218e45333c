"""Dev sign-in for the web console: the people to pick from, their tokens, the departments."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support.api import import_employees

pytestmark = pytest.mark.integration

HEADER = "employee_id,name,email,department,grade,hired_on,manager_id"


@pytest.fixture(scope="module")
async def cast(services, herald_env):
    p = f"DS{secrets.token_hex(2)}"
    department = f"Dev-{p}"
    rows = [
        f"{p}-1,Mona Manager {p},mona@example.com,{department},G6,2010-01-01,",
        *(
            f"{p}-{n},Ed Employee {p} {n},ed{n}@example.com,{department},G2,2020-01-01,{p}-1"
            for n in range(2, 7)
        ),
    ]
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        response = await import_employees(api, "\n".join([HEADER, *rows]) + "\n")
        assert response.status_code == 200, response.text
    return p, department


async def test_the_cast_offers_each_manager_and_a_few_employees(services, cast):
    p, department = cast
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=30) as api:
        people = (await api.get("/v1/dev/people", params={"per_department": 2})).json()["people"]
    # (Whether they also play hr-admin depends on who else is in the directory.)
    mine = [
        (x["employee_id"], x["roles"], x["manages"])
        for x in people
        if x["department"] == department and "hr-admin" not in x["roles"]
    ]
    assert mine == [
        (f"{p}-1", ["employee", "manager"], department),
        (f"{p}-2", ["employee"], None),
        (f"{p}-3", ["employee"], None),
    ]
    # Somebody always plays hr-admin, so the console can be reached in any directory.
    assert any(x["roles"] == ["employee", "hr-admin"] for x in people)


async def test_search_finds_anyone_by_name_or_id_prefix(services, cast):
    p, _ = cast
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=30) as api:
        by_name = (await api.get("/v1/dev/people", params={"q": f"employee {p} 6"})).json()
        by_id = (await api.get("/v1/dev/people", params={"q": f"{p}-1"})).json()
        wildcard = (await api.get("/v1/dev/people", params={"q": "%"})).json()
    assert [(x["employee_id"], x["roles"]) for x in by_name["people"]] == [(f"{p}-6", ["employee"])]
    assert [(x["employee_id"], x["roles"]) for x in by_id["people"]] == [
        (f"{p}-1", ["employee", "manager"]),
        (f"{p}-1", ["employee"]),
    ]
    assert wildcard["people"] == []  # LIKE wildcards are taken literally


async def test_a_dev_token_signs_in_and_opens_a_stream_session(services, cast):
    p, department = cast
    async with httpx.AsyncClient(timeout=30) as client:
        issued = await client.post(
            f"{services.allocation_url}/v1/dev/tokens",
            json={"employee_id": f"{p}-1", "roles": ["employee", "manager"]},
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()
        assert token["manages"] == department
        bearer = {"Authorization": f"Bearer {token['token']}"}
        staff = await client.get(f"{services.allocation_url}/v1/employees", headers=bearer)
        assert {e["department"] for e in staff.json()["items"]} == {department}

        session = await client.post(f"{services.notifier_url}/v1/session", headers=bearer)
        assert session.status_code == 200
        assert "HttpOnly" in session.headers["set-cookie"]
        assert (
            await client.post(
                f"{services.allocation_url}/v1/dev/tokens", json={"employee_id": "nobody-here"}
            )
        ).status_code == 404


async def test_departments_list_headcounts_for_hr_admins_only(services, herald_env, cast):
    p, department = cast
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=30) as api:
        listed = await api.get("/v1/departments", headers=herald_env.admin)
        manager = herald_env.bearer(f"{p}-1", ["employee", "manager"], manages=department)
        refused = await api.get("/v1/departments", headers=manager)
        anonymous = await api.get("/v1/departments")
    assert {"name": department, "employees": 6} in listed.json()["items"]
    names = [d["name"] for d in listed.json()["items"]]
    assert names == sorted(names)
    assert (refused.status_code, anonymous.status_code) == (403, 401)
