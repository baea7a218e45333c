"""Minting tokens for demo people (dev mode only): the CLI and the dev endpoint share this."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from herald_common.auth.principal import EMPLOYEE, HR_ADMIN, MANAGER
from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import mint_token


class UnknownEmployee(LookupError):
    pass


def token_for(
    settings: AuthSettings, employee_id: str, department: str, roles: list[str]
) -> dict[str, Any]:
    # A demo manager manages their own department.
    manages = department if MANAGER in roles else None
    # The department claim routes the person's streams to the notifiers reading it
    # (docs/decisions/0078), as an identity provider's claim would.
    token = mint_token(
        settings, subject=employee_id, roles=roles, manages=manages, department=department
    )
    return {
        "token": token,
        "expires_in": settings.dev_token_ttl_seconds,
        "employee_id": employee_id,
        "department": department,
        "roles": roles,
        "manages": manages,
    }


async def issue_dev_token(
    pool: AsyncConnectionPool[AsyncConnection],
    settings: AuthSettings,
    employee_id: str,
    roles: list[str],
) -> dict[str, Any]:
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT department FROM employees WHERE id = %s", (employee_id,))
        ).fetchone()
    if row is None:
        raise UnknownEmployee(f"unknown employee {employee_id!r}")
    return token_for(settings, employee_id, row[0], roles)


# Who plays hr-admin in a demo: people of this department (the first two when listing,
# else the first two of the directory when it has no such department).
HR_DEPARTMENT = "HR"
HR_ADMINS = 2
SEARCH_LIMIT = 20

_CAST = """
WITH managers AS (
    SELECT DISTINCT manager_id AS id FROM employees WHERE manager_id IS NOT NULL
),
admins AS (
    SELECT id FROM employees ORDER BY (department = %(hr)s) DESC, id LIMIT %(admins)s
),
staff AS (
    SELECT id, row_number() OVER (PARTITION BY department ORDER BY id) AS n
    FROM employees WHERE id NOT IN (SELECT id FROM managers)
)
SELECT e.id, e.name, e.department, e.grade,
       e.id IN (SELECT id FROM admins) AS hr_admin,
       e.id IN (SELECT id FROM managers) AS manager,
       e.id IN (SELECT id FROM staff WHERE n <= %(per_department)s) AS employee
FROM employees e
WHERE e.id IN (SELECT id FROM admins)
   OR e.id IN (SELECT id FROM managers)
   OR e.id IN (SELECT id FROM staff WHERE n <= %(per_department)s)
ORDER BY e.department, e.id
"""

_SEARCH = """
SELECT e.id, e.name, e.department, e.grade,
       e.department = %(hr)s AS hr_admin,
       EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.id) AS manager,
       TRUE AS employee
FROM employees e
WHERE e.id ILIKE %(prefix)s OR e.name ILIKE %(anywhere)s
ORDER BY e.id
LIMIT %(limit)s
"""


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def demo_people(
    pool: AsyncConnectionPool[AsyncConnection], per_department: int, query: str | None = None
) -> list[dict[str, Any]]:
    """People to sign in as, once per role each can play (an HR manager may appear twice).

    Without a query: hr-admins, every department's manager and a few employees of each
    department. With one: up to 20 people whose id starts with it or whose name has it.
    """
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        if query:
            await cur.execute(
                _SEARCH,
                {
                    "hr": HR_DEPARTMENT,
                    "prefix": f"{_like(query)}%",
                    "anywhere": f"%{_like(query)}%",
                    "limit": SEARCH_LIMIT,
                },
            )
        else:
            await cur.execute(
                _CAST,
                {"hr": HR_DEPARTMENT, "admins": HR_ADMINS, "per_department": per_department},
            )
        rows = await cur.fetchall()
    people: list[dict[str, Any]] = []
    for role, flag in ((HR_ADMIN, "hr_admin"), (MANAGER, "manager"), (EMPLOYEE, "employee")):
        for row in rows:
            if row[flag]:
                people.append(
                    {
                        "employee_id": row["id"],
                        "name": row["name"],
                        "department": row["department"],
                        "grade": row["grade"],
                        "roles": [EMPLOYEE] if role == EMPLOYEE else [EMPLOYEE, role],
                        "manages": row["department"] if role == MANAGER else None,
                    }
                )
    return people
