"""Managers in the directory: the optional CSV column, checked against the database, and seeding."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import httpx
import psycopg
import pytest

from tests.conftest import create_database, drop_database
from tests.support.api import import_employees

pytestmark = pytest.mark.integration

HEADER = "employee_id,name,email,department,grade,hired_on"


def _managers(database_url: str, prefix: str) -> dict[str, str | None]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, manager_id FROM employees WHERE id LIKE %s", (f"{prefix}%",)
        ).fetchall()
    return dict(rows)


async def test_csv_import_sets_keeps_and_clears_managers(services, herald_env):
    p = f"MG{secrets.token_hex(2)}"
    with_managers = (
        f"{HEADER},manager_id\n"
        f"{p}-2,Ann,ann@example.com,Mgr,G2,2020-01-01,{p}-1\n"  # her manager comes later
        f"{p}-1,Max,max@example.com,Mgr,G6,2010-01-01,\n"
    )
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, with_managers)).status_code == 200
        assert _managers(herald_env.database_url, p) == {f"{p}-1": None, f"{p}-2": f"{p}-1"}

        # An older file without the column updates people but leaves their managers.
        without = f"{HEADER}\n{p}-2,Ann B,ann@example.com,Mgr,G3,2020-01-01\n"
        assert (await import_employees(api, without)).json() == {"inserted": 0, "updated": 1}
        assert _managers(herald_env.database_url, p)[f"{p}-2"] == f"{p}-1"

        cleared = f"{HEADER},manager_id\n{p}-2,Ann B,ann@example.com,Mgr,G3,2020-01-01,\n"
        assert (await import_employees(api, cleared)).status_code == 200
        assert _managers(herald_env.database_url, p)[f"{p}-2"] is None

        unknown = (
            f"{HEADER},manager_id\n"
            f"{p}-3,Cy,cy@example.com,Mgr,G1,2021-01-01,{p}-1\n"
            f"{p}-4,Di,di@example.com,Mgr,G1,2021-01-01,nobody-{p}\n"
        )
        response = await import_employees(api, unknown)
        assert response.status_code == 422
        body = response.json()
        assert body["error_count"] == 1
        assert body["errors"] == [
            {"line": 3, "field": "manager_id", "message": f"unknown employee 'nobody-{p}'"}
        ]
        assert f"{p}-3" not in _managers(herald_env.database_url, p)  # all rows or none

        listed = (await api.get("/v1/employees", params={"after": f"{p}-1", "limit": 1})).json()
        assert listed["items"][0] == {
            "id": f"{p}-2",
            "name": "Ann B",
            "email": "ann@example.com",
            "department": "Mgr",
            "grade": "G3",
            "hired_on": "2020-01-01",
            "manager_id": None,
        }


def test_demo_seed_gives_every_department_one_manager(infra):
    name = f"herald_managers_{secrets.token_hex(4)}"
    url = create_database(infra, name)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "from herald_allocation.cli import main; main()",
                *("demo", "seed", "--employees", "400"),
            ],
            env={**os.environ, "HERALD_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        with psycopg.connect(url) as conn:
            departments, managed, bosses, strays = conn.execute(
                "SELECT count(DISTINCT e.department),"
                " count(DISTINCT e.department) FILTER (WHERE e.manager_id IS NULL),"
                " count(*) FILTER (WHERE e.manager_id IS NULL),"
                " count(*) FILTER (WHERE m.department <> e.department)"
                " FROM employees e LEFT JOIN employees m ON m.id = e.manager_id"
            ).fetchone()
        assert departments >= 6
        assert bosses == managed == departments  # exactly one manager per department
        assert strays == 0  # everyone reports to their own department's manager
    finally:
        drop_database(infra, name)
