"""`python -m bench.row_bytes`: the bytes one allocation writes per employee, before and
after the lean rows (migration 0012, docs/decisions/0066).

For each shape, a database of its own on the stack's PostgreSQL:
- before: migrations up to 0011, and the writer of that schema: the whole row per employee
  (kind, source, title, body, the full payload, ...) in `notifications`;
- after: every migration, and today's writer: the shared parts once in
  `notification_contents`, each employee's part in `notifications_per_employee`.

Both write the same allocation (every employee, the same voucher) in one transaction under
the writer lock, with the same resolve, ids, codes and `employee_vouchers` COPY; only the
inbox rows differ. Reported, per shape and per employee:
- table bytes: `pg_total_relation_size` (heap, TOAST and every index) after minus before,
  per table and in total;
- WAL bytes: `pg_current_wal_lsn()` after the commit minus before the transaction. The
  stack's server is shared, so this counts other sessions' WAL too; when the server's WAL
  directory is readable, `pg_waldump --xid` also gives the transaction's own records
  (`wal_bytes_own`), which nothing else inflates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from bench.environment import find_infrastructure, with_database
from bench.workload import allocation_request
from herald_allocation.domain.demo_data import demo_employees
from herald_common.criteria_sql import matching_employees_query
from herald_common.events import SOURCE_INSERTER, VOUCHER_ALLOCATED, AllocationRequested
from herald_common.inbox_writes import take_writer_lock
from herald_common.migrate import apply_migrations
from herald_inserter.domain.allocation_store import VoucherPayloads, _copy_vouchers
from herald_inserter.domain.codes import generate_codes
from herald_inserter.domain.inbox_writer import (
    IssuedNotification,
    copy_notifications,
    issue_notifications,
    with_newest_ids,
)

BEFORE_VERSION = "0011_pusher_channels"
TABLES = {
    "before": ("notifications", "employee_vouchers"),
    "after": ("notifications_per_employee", "notification_contents", "employee_vouchers"),
}


# The 0011 writer's inbox rows, as `copy_notifications` wrote them before 0012.
OLD_NEWEST_IDS = sql.SQL(
    "SELECT r.id, r.department, coalesce((SELECT n.id FROM notifications n"
    " WHERE n.employee_id = r.id ORDER BY n.id DESC LIMIT 1), 0) FROM ({}) AS r ORDER BY r.id"
)
_OLD_TYPES = ["int8", "text", "text", "text", "text", "text", "text", "text", "uuid", "uuid",
              "uuid", "timestamptz", "text", "text"]  # fmt: skip


async def old_copy_notifications(
    conn: AsyncConnection, notifications: list[IssuedNotification], **shared: Any
) -> None:
    """COPY whole rows into the 0011 `notifications` table, as the writers did then;
    `shared`: what every row of the request repeats, named as `copy_notifications` names it
    (kind, source, created_at, title, body, request ids, visibility, action_url)."""
    columns = {"visibility": "private", **shared}
    title, body = (columns[c].replace("\x00", "\ufffd") for c in ("title", "body"))
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY notifications (id, employee_id, department, kind, source, title, body,"
            " payload, allocation_id, push_id, revocation_id, created_at, visibility,"
            " action_url) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(_OLD_TYPES)
        for n in notifications:
            await copy.write_row(
                (n.notification_id, n.employee_id, n.department, columns["kind"],
                 columns["source"], title, body, n.payload_json,
                 *(columns.get(c) for c in ("allocation_id", "push_id", "revocation_id")),
                 columns["created_at"], columns["visibility"], columns.get("action_url"))
            )  # fmt: skip


async def write_allocation(
    conn: AsyncConnection, shape: str, request: AllocationRequested
) -> list[IssuedNotification]:
    """One allocation's rows, written as the shape's inserter writes them (the caller holds
    the writer lock)."""
    query, params = matching_employees_query(request.criteria, request.requested_at.date())
    recipients = OLD_NEWEST_IDS.format(query) if shape == "before" else with_newest_ids(query)
    employees = await (await conn.execute(recipients, params)).fetchall()
    created_at = datetime.now(UTC)
    codes = generate_codes(request.voucher.code_prefix, len(employees))
    payloads = VoucherPayloads(request)
    notifications: list[IssuedNotification] = await issue_notifications(
        conn,
        employees,
        (
            payloads.text(emp, dept, code)
            for (emp, dept, _), code in zip(employees, codes, strict=True)
        ),
    )
    shared: dict[str, Any] = {
        "kind": VOUCHER_ALLOCATED,
        "source": SOURCE_INSERTER,
        "created_at": created_at,
        "title": payloads.title,
        "body": payloads.body,
        "allocation_id": request.allocation_id,
        "visibility": "department",
    }
    if shape == "before":
        await old_copy_notifications(conn, notifications, **shared)
    else:
        await copy_notifications(
            conn, notifications, **shared, template=payloads.template, codes=codes
        )
    await _copy_vouchers(conn, request, notifications, codes, created_at)
    return notifications


def seed(url: str, employees: int) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY employees (id, name, email, department, grade, hired_on) FROM STDIN"
        ) as copy:
            for e in demo_employees(employees):
                copy.write_row((e.employee_id, e.name, e.email, e.department, e.grade, e.hired_on))
        conn.execute("ANALYZE employees")


async def _sizes(conn: AsyncConnection, tables: tuple[str, ...]) -> dict[str, int]:
    row = await (
        await conn.execute(
            sql.SQL("SELECT {}").format(
                sql.SQL(", ").join(
                    sql.SQL("pg_total_relation_size({})").format(sql.Literal(t)) for t in tables
                )
            )
        )
    ).fetchone()
    assert row is not None
    return dict(zip(tables, (int(v) for v in row), strict=True))


async def _lsn(conn: AsyncConnection) -> str:
    row = await (await conn.execute("SELECT pg_current_wal_lsn()::text")).fetchone()
    assert row is not None
    return str(row[0])


async def _lsn_bytes(conn: AsyncConnection, start: str, end: str) -> int:
    row = await (
        await conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (end, start))
    ).fetchone()
    assert row is not None
    return int(row[0])


def _waldump() -> str | None:
    found = shutil.which("pg_waldump")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_waldump"), reverse=True):
        return str(candidate)
    return None


def _own_wal(data_directory: str, xid: int, start: str, end: str) -> int | None:
    """The WAL bytes of transaction `xid` between the LSNs, or None when they cannot be read
    (no pg_waldump, a server elsewhere or a WAL directory this user cannot read)."""
    waldump, wal_dir = _waldump(), Path(data_directory) / "pg_wal"
    if waldump is None or not os.access(wal_dir, os.R_OK | os.X_OK):
        return None
    done = subprocess.run(
        [waldump, "-p", str(wal_dir), "-s", start, "-e", end, f"--xid={xid}", "--stats"],
        capture_output=True,
        text=True,
    )
    # "Total   <count>   <record bytes> [..%]   <full-page image bytes> [..%]   <all> [100%]"
    match = re.search(
        r"^Total\s+\d+\s+\d+\s+\[[^]]*\]\s+\d+\s+\[[^]]*\]\s+(\d+)\s+\[100%\]", done.stdout, re.M
    )
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Figures:
    shape: str
    employees: int
    table_bytes: dict[str, int]
    wal_bytes: int
    wal_bytes_own: int | None
    # From the writer lock to the commit; a busy machine makes it noisy (never asserted).
    write_seconds: float

    def as_dict(self) -> dict[str, Any]:
        total = sum(self.table_bytes.values())
        per = self.employees or 1
        return {
            "shape": self.shape,
            "employees": self.employees,
            "table_bytes": self.table_bytes,
            "table_bytes_total": total,
            "table_bytes_per_employee": total / per,
            "wal_bytes": self.wal_bytes,
            "wal_bytes_per_employee": self.wal_bytes / per,
            "wal_bytes_own": self.wal_bytes_own,
            "wal_bytes_own_per_employee": (
                None if self.wal_bytes_own is None else self.wal_bytes_own / per
            ),
            "write_seconds": self.write_seconds,
        }


async def measure(url: str, shape: str, employees: int) -> Figures:
    """Seed `employees` into the database at `url` (migrated for `shape`), write one
    allocation to all of them, and measure what it wrote."""
    seed(url, employees)
    tables = TABLES[shape]
    async with await AsyncConnection.connect(url) as conn:
        await conn.set_autocommit(True)
        data_directory = str(
            (await (await conn.execute("SHOW data_directory")).fetchone() or [""])[0]
        )
        before = await _sizes(conn, tables)
        async with await AsyncConnection.connect(url) as writer:
            start = await _lsn(conn)
            started = time.perf_counter()
            async with writer.transaction():
                await take_writer_lock(writer)
                xid_row = await (
                    await writer.execute("SELECT pg_current_xact_id()::text::bigint % 4294967296")
                ).fetchone()
                assert xid_row is not None
                written = len(await write_allocation(writer, shape, allocation_request()))
            seconds = time.perf_counter() - started
            end = await _lsn(conn)
        after = await _sizes(conn, tables)
        wal = await _lsn_bytes(conn, start, end)
    own = await asyncio.to_thread(_own_wal, data_directory, int(xid_row[0]), start, end)
    sizes = {t: after[t] - before[t] for t in tables}
    return Figures(shape, written, sizes, wal, own, seconds)


async def run(base_url: str, employees: int) -> dict[str, Any]:
    """Both shapes, each in a database of its own (dropped afterwards)."""
    figures: dict[str, Any] = {}
    for shape in ("before", "after"):
        name = f"herald_rowbytes_{secrets.token_hex(4)}"
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = with_database(base_url, name)
        try:
            apply_migrations(url, up_to=BEFORE_VERSION if shape == "before" else None)
            figures[shape] = (await measure(url, shape, employees)).as_dict()
        finally:
            with psycopg.connect(base_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    return figures


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"{'shape':<8}{'employees':>10}{'table B/emp':>13}{'WAL B/emp':>11}{'own WAL B/emp':>15}"
        f"{'write s':>9}"
    ]
    for shape, f in figures.items():
        own = f["wal_bytes_own_per_employee"]
        lines.append(
            f"{shape:<8}{f['employees']:>10}{f['table_bytes_per_employee']:>13.1f}"
            f"{f['wal_bytes_per_employee']:>11.1f}{'-' if own is None else f'{own:.1f}':>15}"
            f"{f['write_seconds']:>9.2f}"
        )
        for name, size in f["table_bytes"].items():
            lines.append(f"  {name:<26}{size:>14,} B")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.row_bytes", description=__doc__)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    url = os.environ.get("HERALD_BENCH_DATABASE_URL") or find_infrastructure().database_url
    figures = asyncio.run(run(url, args.employees))
    if args.output is not None:
        args.output.write_text(json.dumps(figures, indent=2) + "\n")
    print(table(figures))  # noqa: T201 (the command's output)


if __name__ == "__main__":
    main()
