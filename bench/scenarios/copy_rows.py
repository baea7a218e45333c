"""copy: the inserter's COPY phase against `psql \\copy` of the identical rows.

Each round:
1. empties the inbox tables and `employee_vouchers` (this run's own database);
2. runs the inserter's own write of an allocation to every employee,
   `AllocationStore.write`, on a pool whose cursors time each `COPY` block they open (the
   inserter's code is not touched: only the cursor class is ours). The COPY phase is the sum
   of those blocks: everything between opening the COPY and the server confirming it;
3. exports exactly the rows each COPY wrote, in the COPY's own column list, with
   `COPY ... TO STDOUT` into files;
4. empties both tables again and loads the same files with `psql \\copy`, timed by psql's
   `\\timing`, into the same tables, in the same order, inside one transaction (the inserter's
   COPYs are timed inside its transaction too; neither side times its commit).
Rates are rows per second over both tables; the ratio is inserter / psql, median of rounds.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection, AsyncCopy, AsyncCursor, sql
from psycopg_pool import AsyncConnectionPool

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.server_cpu import POSTGRESQL, ServerCpu
from bench.workload import allocation_request, median
from herald_common.approval import ApprovalSettings
from herald_inserter.domain.allocation_store import AllocationStore

# Larger than any allocation the bench writes (the column is a PostgreSQL integer).
_ONE_CHUNK = 2**31 - 1

_COPY_FROM = re.compile(r"^\s*COPY\s+(\w+)\s*\(([^)]*)\)\s+FROM\s+STDIN", re.IGNORECASE)


@dataclass(frozen=True)
class CopyBlock:
    statement: str
    seconds: float


class TimedCursor(AsyncCursor[Any]):
    """Records the statement and duration of every COPY opened through it."""

    blocks: list[CopyBlock] = []  # noqa: RUF012 (one benchmark at a time)

    @asynccontextmanager
    async def copy(
        self, statement: Any, params: Any = None, *, writer: Any = None
    ) -> AsyncIterator[AsyncCopy]:
        text = statement if isinstance(statement, str) else statement.as_string(self.connection)
        started = time.perf_counter()
        async with super().copy(statement, params, writer=writer) as copy:
            yield copy
        TimedCursor.blocks.append(CopyBlock(text, time.perf_counter() - started))


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"), reverse=True):
        return str(candidate)
    raise RuntimeError("psql not found (install postgresql-client)")


async def _truncate(url: str) -> None:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            "TRUNCATE notifications_per_employee, notification_contents, employee_vouchers"
        )


def _columns(columns: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c.strip()) for c in columns.split(","))


async def _count(conn: AsyncConnection, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    row = await (await conn.execute(query)).fetchone()
    return int(row[0]) if row else 0


async def _export(url: str, table: str, columns: str, path: Path) -> int:
    query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(
        _columns(columns), sql.Identifier(table)
    )
    async with await AsyncConnection.connect(url) as conn, conn.cursor() as cur:
        with path.open("wb") as out:
            async with cur.copy(query) as copy:
                async for data in copy:
                    out.write(data)
        return await _count(conn, table)


# psql prints its backend's /proc/<pid>/stat before and after the loads: that backend is
# gone by the time psql has exited.
_BACKEND_STAT = ["\\! cat /proc/$HERALD_BENCH_BACKEND/stat"]
_STAT_LINE = re.compile(r"^\d+ \(.*\) \S+ .*$", re.M)


@dataclass(frozen=True)
class PsqlCopy:
    seconds: list[float]  # what psql reports for each `\\copy`, in order
    backend_cpu_seconds: float  # the server's side, over the loads
    client_cpu_seconds: float  # psql itself, over its whole run


def _stat_cpu(line: str) -> float:
    fields = line.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _psql_copy(url: str, loads: list[tuple[str, str, Path]], work_dir: Path) -> PsqlCopy:
    script = [
        "SELECT pg_backend_pid() AS herald_bench_backend \\gset",
        "\\setenv HERALD_BENCH_BACKEND :herald_bench_backend",
        *_BACKEND_STAT,
        "BEGIN;",
    ]
    for table, columns, path in loads:
        script += ["\\timing on", f"\\copy {table} ({columns}) FROM '{path}'", "\\timing off"]
    script += _BACKEND_STAT
    script.append("COMMIT;")
    script_path = work_dir / "psql-copy.sql"
    script_path.write_text("\n".join(script) + "\n")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(script_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    times = [float(m) / 1000 for m in re.findall(r"^Time: ([0-9.]+) ms", done.stdout, re.M)]
    if len(times) != len(loads):
        raise RuntimeError(f"psql printed {len(times)} timings for {len(loads)} loads: {done}")
    stats = _STAT_LINE.findall(done.stdout)
    if len(stats) != 2:
        raise RuntimeError(f"psql printed {len(stats)} backend readings, not 2: {done}")
    return PsqlCopy(
        times,
        _stat_cpu(stats[1]) - _stat_cpu(stats[0]),
        after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime,
    )


async def _round(run: BenchRun, work_dir: Path) -> dict[str, Any]:
    url = run.database_url
    await _truncate(url)
    pool: AsyncConnectionPool[AsyncConnection] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=2,
        open=False,
        kwargs={"cursor_factory": TimedCursor, "application_name": "herald-bench-copy"},
    )
    await pool.open(wait=True)
    try:
        TimedCursor.blocks = []
        # The write runs in this process: its CPU is the inserter's side.
        cpu = ServerCpu({"inserter": os.getpid()}, url)
        await cpu.start()
        started = time.perf_counter()
        # One chunk holding every employee: the COPY is compared with one `psql \copy` of
        # the same rows, and a chunk's COPY is the same code at any size (decision 0068).
        store = AllocationStore(
            pool, approval=ApprovalSettings(enabled=False), chunk_size=_ONE_CHUNK
        )
        outcome = await store.write(allocation_request())
        write_seconds = time.perf_counter() - started
        inserter_cpu = await cpu.stop()
        blocks = list(TimedCursor.blocks)
    finally:
        await pool.close()
    loads: list[tuple[str, str, Path]] = []
    tables: list[dict[str, Any]] = []
    for block in blocks:
        match = _COPY_FROM.match(block.statement)
        if match is None:
            raise RuntimeError(f"unexpected COPY statement: {block.statement}")
        table, columns = match.group(1), " ".join(match.group(2).split())
        path = work_dir / f"copy-{table}.txt"
        rows = await _export(url, table, columns, path)
        loads.append((table, columns, path))
        tables.append(
            {
                "table": table,
                "rows": rows,
                "bytes_text": path.stat().st_size,
                "inserter_seconds": block.seconds,
                "inserter_format": "binary" if "BINARY" in block.statement.upper() else "text",
                "psql_format": "text",
                "statement": block.statement,
            }
        )
    await _truncate(url)
    psql = await asyncio.to_thread(_psql_copy, url, loads, work_dir)
    psql_seconds = psql.seconds
    async with await AsyncConnection.connect(url) as conn:
        for entry, seconds in zip(tables, psql_seconds, strict=True):
            entry["psql_seconds"] = seconds
            entry["psql_rows"] = await _count(conn, entry["table"])
    rows = sum(t["rows"] for t in tables)
    inserter_seconds = sum(t["inserter_seconds"] for t in tables)
    psql_total = sum(psql_seconds)
    for path in (p for _, _, p in loads):
        path.unlink(missing_ok=True)
    return {
        "notifications": len(outcome.notifications),
        "rows": rows,
        "inserter_copy_seconds": inserter_seconds,
        "inserter_rows_per_second": rows / inserter_seconds if inserter_seconds else None,
        "inserter_write_seconds": write_seconds,
        "psql_copy_seconds": psql_total,
        "psql_rows_per_second": rows / psql_total if psql_total else None,
        "psql_rows_loaded": sum(t["psql_rows"] for t in tables),
        "ratio": psql_total / inserter_seconds if inserter_seconds else None,
        # CPU per row, each side: the whole write (resolve and commit included) against
        # psql's run, and PostgreSQL's backend over each.
        "inserter_cpu_seconds": inserter_cpu,
        "inserter_client_cpu_us_per_row": inserter_cpu["inserter"] / rows * 1e6 if rows else None,
        "inserter_server_cpu_us_per_row": (inserter_cpu[POSTGRESQL] / rows * 1e6 if rows else None),
        "psql_client_cpu_us_per_row": psql.client_cpu_seconds / rows * 1e6 if rows else None,
        "psql_server_cpu_us_per_row": psql.backend_cpu_seconds / rows * 1e6 if rows else None,
        "tables": tables,
    }


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    work_dir = run.work_dir / "copy"
    work_dir.mkdir(parents=True, exist_ok=True)
    rounds = [await _round(run, work_dir) for _ in range(config.copy_rounds)]
    await _truncate(run.database_url)
    ratios = [r["ratio"] for r in rounds if r["ratio"] is not None]
    return {
        "rows": rounds[0]["rows"] if rounds else 0,
        "rounds": rounds,
        "inserter_rows_per_second": median([r["inserter_rows_per_second"] for r in rounds]),
        "psql_rows_per_second": median([r["psql_rows_per_second"] for r in rounds]),
        # The rows' load alone, each way. With the writer lock (one COPY stream at a time,
        # so that ids commit in order: docs/decisions/0005), no allocation of this size
        # reaches its last employee sooner on this machine than the faster of the two
        # (docs/decisions/0087).
        "inserter_copy_seconds": median([r["inserter_copy_seconds"] for r in rounds]),
        "psql_copy_seconds": median([r["psql_copy_seconds"] for r in rounds]),
        "ratio": median(ratios),
        "inserter_server_cpu_us_per_row": median(
            [r["inserter_server_cpu_us_per_row"] for r in rounds]
        ),
        "psql_server_cpu_us_per_row": median([r["psql_server_cpu_us_per_row"] for r in rounds]),
        "inserter_client_cpu_us_per_row": median(
            [r["inserter_client_cpu_us_per_row"] for r in rounds]
        ),
        "psql_client_cpu_us_per_row": median([r["psql_client_cpu_us_per_row"] for r in rounds]),
        "method": (
            "inserter: AllocationStore.write, COPY blocks timed by the cursor; psql: \\copy of"
            " the same rows (text) into the same emptied tables, timed by \\timing"
        ),
    }
