"""Holds one of the inserter's COPYs at a chosen row, so a fault can be put in place there.

Polling `pg_stat_progress_copy` for the moment missed it now and then: a 10,000-row COPY
can pass its halfway row, or run whole, between two polls (each poll opens a
connection), and the test then waited out its timeout. Here a row trigger stops the COPY
at that row on an advisory lock the test holds, the test sees the COPY waiting there
(`pg_locks`), puts its fault in place, and lets the COPY go on into it.

The trigger counts only the rows of the test's own employees (`<prefix>` and six
digits, as `seed_employees` names them), and stops only at the row whose count is `row`:
a retried COPY counts on past it and is not held again. Everything is dropped on
leaving, and the lock is released first, so a failing test never leaves the inserter
waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import sql

from tests.reliability.workload import until

# The advisory lock the held COPY waits on: below 2**31, so pg_locks shows it as `objid`
# with `classid` 0.
HOLD_KEY = 0x48_43_50_59  # "HCPY"


class CopyHold:
    """One held COPY: `reached` waits until it waits at its row, `release` lets it go on."""

    def __init__(self, conn: psycopg.AsyncConnection, table: str, row: int) -> None:
        self._conn = conn
        self._table = table
        self._row = row
        self._held = True

    async def reached(self, timeout: float) -> float:
        """Seconds until the COPY waits at the held row."""

        async def waiting() -> bool:
            cursor = await self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = 0 AND objid = %s AND NOT granted",
                (HOLD_KEY,),
            )
            row = await cursor.fetchone()
            return row is not None and row[0] > 0

        what = f"the COPY into {self._table} held at row {self._row}"
        return await until(waiting, timeout, what, interval=0.01)

    async def rows_done(self) -> int:
        """Rows the held COPY has taken (those before the held one)."""
        cursor = await self._conn.execute(
            "SELECT tuples_processed FROM pg_stat_progress_copy WHERE relid = %s::regclass",
            (self._table,),
        )
        row = await cursor.fetchone()
        return -1 if row is None else int(row[0])

    async def release(self) -> None:
        if self._held:
            self._held = False
            await self._conn.execute("SELECT pg_advisory_unlock(%s)", (HOLD_KEY,))


@asynccontextmanager
async def copy_held(
    database_url: str, table: str, employee_prefix: str, row: int
) -> AsyncIterator[CopyHold]:
    """Hold the first COPY into `table` of the prefix's employees at its `row`-th row."""
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    hold = CopyHold(conn, table, row)
    try:
        await conn.execute("SELECT pg_advisory_lock(%s)", (HOLD_KEY,))
        await conn.execute("CREATE SEQUENCE copy_hold_rows")
        await conn.execute(
            "CREATE FUNCTION copy_hold() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            "   IF nextval('copy_hold_rows') = TG_ARGV[0]::bigint THEN"
            "     PERFORM pg_advisory_xact_lock_shared(TG_ARGV[1]::bigint);"
            "   END IF;"
            "   RETURN NEW;"
            " END $$"
        )
        await conn.execute(
            sql.SQL(
                "CREATE TRIGGER copy_hold BEFORE INSERT ON {} FOR EACH ROW"
                " WHEN (NEW.employee_id ~ {}) EXECUTE FUNCTION copy_hold({}, {})"
            ).format(
                sql.Identifier(table),
                sql.Literal(f"^{employee_prefix}[0-9]{{6}}$"),
                sql.Literal(str(row)),
                sql.Literal(str(HOLD_KEY)),
            )
        )
        yield hold
    finally:
        await hold.release()
        await conn.execute(
            sql.SQL("DROP TRIGGER IF EXISTS copy_hold ON {}").format(sql.Identifier(table))
        )
        await conn.execute("DROP FUNCTION IF EXISTS copy_hold()")
        await conn.execute("DROP SEQUENCE IF EXISTS copy_hold_rows")
        await conn.close()
