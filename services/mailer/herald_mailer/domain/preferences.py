"""Email preferences: per employee and notification kind, opted in unless they said no."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.events import ALLOCATION_SUMMARY, REVOCATION_SUMMARY

# The kinds Herald sends by email. In-app notifications are always kept.
EMAIL_KINDS = (ALLOCATION_SUMMARY, REVOCATION_SUMMARY)


class PreferenceStore:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def employee_exists(self, employee_id: str) -> bool:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute("SELECT 1 FROM employees WHERE id = %s", (employee_id,))
            ).fetchone()
        return row is not None

    async def email(self, employee_id: str) -> dict[str, bool]:
        """Every email kind with whether this employee gets it."""
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT kind, enabled FROM email_preferences WHERE employee_id = %s",
                    (employee_id,),
                )
            ).fetchall()
        chosen: dict[str, bool] = {kind: enabled for kind, enabled in rows}
        return {kind: bool(chosen.get(kind, True)) for kind in EMAIL_KINDS}

    async def set_email(self, employee_id: str, kind: str, enabled: bool) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO email_preferences (employee_id, kind, enabled) VALUES (%s, %s, %s)"
                " ON CONFLICT (employee_id, kind)"
                " DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()",
                (employee_id, kind, enabled),
            )
