"""Minting tokens for demo people (dev mode only): the CLI and the dev endpoint share this."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.auth.principal import MANAGER
from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import mint_token


class UnknownEmployee(LookupError):
    pass


def token_for(
    settings: AuthSettings, employee_id: str, department: str, roles: list[str]
) -> dict[str, Any]:
    # A demo manager manages their own department.
    manages = department if MANAGER in roles else None
    token = mint_token(settings, subject=employee_id, roles=roles, manages=manages)
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
