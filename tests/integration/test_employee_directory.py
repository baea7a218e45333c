"""CSV import (API and CLI) and demo seeding against the real database."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import date

import httpx
import psycopg
import pytest

from tests.conftest import create_database, drop_database
from tests.support.api import employees_csv, import_employees

pytestmark = pytest.mark.integration

DEPARTMENT = "Import-Dept"


def _count(database_url: str, prefix: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM employees WHERE id LIKE %s", (f"{prefix}%",)
        ).fetchone()[0]


def _herald(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from herald_allocation.cli import main; main()", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_api_import_reports_bad_rows_and_imports_nothing(services, herald_env):
    good = employees_csv([("IMP001", "Åsa Öberg", DEPARTMENT, "G2", date(2020, 1, 1))])
    bad = (
        good
        + "IMP002,Bo,bo@example.com,Import-Dept,G2,2020-13-01\nIMP003,,x@example.com,Import-Dept,G1,2020-01-01\n"
    )
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        response = await import_employees(api, bad)
        assert response.status_code == 422
        body = response.json()
        assert body["error_count"] == 2
        assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "hired_on"), (4, "name")]
        assert _count(herald_env.database_url, "IMP") == 0

        response = await import_employees(api, good)
        assert response.status_code == 200
        assert response.json() == {"inserted": 1, "updated": 0}
        again = await import_employees(api, good)
        assert again.json() == {"inserted": 0, "updated": 1}
        assert _count(herald_env.database_url, "IMP") == 1

        wrong_type = await api.post(
            "/v1/employees:import", content=b"x", headers={"Content-Type": "application/json"}
        )
        assert wrong_type.status_code == 415


def test_cli_import_with_progress_and_line_numbers(herald_env, tmp_path):
    env = herald_env.variables()
    people = [
        (f"CLI{n:04d}", f"Łukasz {n}", DEPARTMENT, "G3", date(2015, 6, 1)) for n in range(1500)
    ]
    good = tmp_path / "people.csv"
    good.write_text(employees_csv(people), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        employees_csv(people[:3]) + "CLIX,Name,not-an-email,D,G1,2020-01-01\n", encoding="utf-8"
    )

    rejected = _herald(env, "employees", "import", str(bad))
    assert rejected.returncode != 0
    assert f"{bad}:5: email: is not an email address" in rejected.stderr
    assert "nothing was imported" in rejected.stderr
    assert _count(herald_env.database_url, "CLI") == 0

    accepted = _herald(env, "employees", "import", str(good))
    assert accepted.returncode == 0, accepted.stderr
    assert "imported 1500 employee(s): 1500 new, 0 updated" in accepted.stdout
    assert "importing" in accepted.stderr  # the progress bar
    assert _count(herald_env.database_url, "CLI") == 1500


def test_demo_seed_generates_realistic_people(infra):
    name = f"herald_seed_{secrets.token_hex(4)}"
    url = create_database(infra, name)
    try:
        result = _herald({"HERALD_DATABASE_URL": url}, "demo", "seed", "--employees", "3000")
        assert result.returncode == 0, result.stderr
        with psycopg.connect(url) as conn:
            total, departments, grades, non_ascii, oldest, newest = conn.execute(
                "SELECT count(*), count(DISTINCT department), count(DISTINCT grade),"
                " count(*) FILTER (WHERE name !~ '^[ -~]*$'), min(hired_on), max(hired_on)"
                " FROM employees"
            ).fetchone()
        assert total == 3000
        assert departments >= 6
        assert grades >= 6
        assert non_ascii > 300  # Unicode names are common, not an afterthought
        assert (newest - oldest).days > 15 * 365
        rerun = _herald({"HERALD_DATABASE_URL": url}, "demo", "seed", "--employees", "3000")
        assert "0 new, 3000 updated" in rerun.stdout
    finally:
        drop_database(infra, name)


async def test_directory_lists_a_department_in_pages(services, herald_env):
    people = [
        (f"DIR{n:03d}", f"Person {n}", "Directory-Dept", "G1", date(2021, 3, 1)) for n in range(5)
    ]
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, employees_csv(people))).status_code == 200
        first = (
            await api.get("/v1/employees", params={"department": "Directory-Dept", "limit": 3})
        ).json()
        assert [e["id"] for e in first["items"]] == ["DIR000", "DIR001", "DIR002"]
        assert first["items"][0]["email"] == "dir000@example.com"
        rest = (
            await api.get(
                "/v1/employees",
                params={"department": "Directory-Dept", "limit": 3, "after": first["next_after"]},
            )
        ).json()
        assert [e["id"] for e in rest["items"]] == ["DIR003", "DIR004"]
        assert rest["next_after"] is None
