"""Employee CSV: parsing with every bad row reported by line number, and a COPY load.

A file is loaded whole or not at all: rows are validated first, then copied into a
temporary table, checked against the directory (managers must exist) and upserted in one
transaction. `manager_id` is optional: a file without that column leaves managers as
they are, so older files stay valid.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

COLUMNS = ("employee_id", "name", "email", "department", "grade", "hired_on")
MANAGER_COLUMN = "manager_id"

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_GRADE = re.compile(r"^G[1-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class EmployeeRow:
    employee_id: str
    name: str
    email: str
    department: str
    grade: str
    hired_on: date
    # None: the file has no manager column (keep what the directory says); "": no manager.
    manager_id: str | None = None
    # Where the row came from, to name it in errors found only against the database.
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str


class CsvRejected(Exception):
    def __init__(self, errors: list[RowError], total_errors: int) -> None:
        super().__init__(f"{total_errors} invalid row value(s)")
        self.errors = errors
        self.total_errors = total_errors


def _check_row(values: dict[str, str], line: int, today: date) -> list[RowError]:
    # The directory is plain text, which cannot hold U+0000.
    errors = [
        RowError(line, k, "must not contain U+0000") for k, v in values.items() if "\x00" in v
    ]
    if errors:
        return errors
    if not _ID.fullmatch(values["employee_id"]):
        errors.append(RowError(line, "employee_id", "must be 1-64 of A-Z a-z 0-9 _ . -"))
    if not 1 <= len(values["name"]) <= 200:
        errors.append(RowError(line, "name", "must be 1-200 characters"))
    if not _EMAIL.fullmatch(values["email"]) or len(values["email"]) > 320:
        errors.append(RowError(line, "email", "is not an email address"))
    if not 1 <= len(values["department"]) <= 64:
        errors.append(RowError(line, "department", "must be 1-64 characters"))
    if not _GRADE.fullmatch(values["grade"]):
        errors.append(RowError(line, "grade", "must be G1 to G9"))
    try:
        hired = date.fromisoformat(values["hired_on"])
        if hired > today:
            errors.append(RowError(line, "hired_on", "is in the future"))
    except ValueError:
        errors.append(RowError(line, "hired_on", "must be a date YYYY-MM-DD"))
    manager = values.get(MANAGER_COLUMN)
    if manager:
        if not _ID.fullmatch(manager):
            errors.append(RowError(line, MANAGER_COLUMN, "must be 1-64 of A-Z a-z 0-9 _ . -"))
        elif manager == values["employee_id"]:
            errors.append(RowError(line, MANAGER_COLUMN, "an employee cannot manage themselves"))
    return errors


def parse_employee_csv(
    text: str, *, today: date | None = None, max_reported: int = 100
) -> list[EmployeeRow]:
    """All rows, or CsvRejected listing (up to `max_reported`) problems with line numbers."""
    today = today or date.today()
    reader = csv.DictReader(io.StringIO(text), strict=True)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CsvRejected([RowError(1, ",".join(missing), "missing column(s) in header")], 1)
    reader.fieldnames = header
    columns = (*COLUMNS, MANAGER_COLUMN) if MANAGER_COLUMN in header else COLUMNS
    rows: list[EmployeeRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if None in record or any(record.get(c) is None for c in columns):
                errors.append(RowError(line, "*", f"expected {len(header)} fields"))
                continue
            values = {c: (record[c] or "").strip() for c in columns}
            row_errors = _check_row(values, line, today)
            seen = first_line_of.setdefault(values["employee_id"], line)
            if seen != line:
                row_errors.append(
                    RowError(line, "employee_id", f"duplicates the id on line {seen}")
                )
            if row_errors:
                errors.extend(row_errors)
                continue
            rows.append(
                EmployeeRow(
                    values["employee_id"],
                    values["name"],
                    values["email"],
                    values["department"],
                    values["grade"],
                    date.fromisoformat(values["hired_on"]),
                    manager_id=values.get(MANAGER_COLUMN),
                    line=line,
                )
            )
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "*", f"malformed CSV: {exc}"))
    if errors:
        raise CsvRejected(errors[:max_reported], len(errors))
    return rows


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    updated: int


async def import_employees(
    conn: AsyncConnection,
    rows: Iterable[EmployeeRow],
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert the rows in one transaction (an id already known is updated).

    Raises CsvRejected, with nothing imported, when a row names a manager that is neither
    in the file nor in the directory.
    """
    managers_given = False
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE employee_import (LIKE employees INCLUDING DEFAULTS,"
            " source_line integer) ON COMMIT DROP"
        )
        async with conn.cursor() as cur:
            async with cur.copy(
                "COPY employee_import (id, name, email, department, grade, hired_on,"
                " manager_id, source_line) FROM STDIN"
            ) as copy:
                for count, row in enumerate(rows, 1):
                    managers_given = managers_given or row.manager_id is not None
                    await copy.write_row(
                        (
                            row.employee_id,
                            row.name,
                            row.email,
                            row.department,
                            row.grade,
                            row.hired_on,
                            row.manager_id or None,
                            row.line,
                        )
                    )
                    if progress is not None and count % 1000 == 0:
                        progress(1000)
            await _check_managers(cur)
            result = await (
                await cur.execute(
                    "INSERT INTO employees (id, name, email, department, grade, hired_on,"
                    " manager_id)"
                    " SELECT id, name, email, department, grade, hired_on, manager_id"
                    " FROM employee_import"
                    " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,"
                    " department = EXCLUDED.department, grade = EXCLUDED.grade,"
                    " hired_on = EXCLUDED.hired_on,"
                    " manager_id = CASE WHEN %(managers_given)s THEN EXCLUDED.manager_id"
                    " ELSE employees.manager_id END"
                    " RETURNING (xmax = 0)",
                    {"managers_given": managers_given},
                )
            ).fetchall()
    inserted = sum(1 for (is_new,) in result if is_new)
    return ImportResult(inserted=inserted, updated=len(result) - inserted)


async def _check_managers(cur: AsyncCursor[Any], max_reported: int = 100) -> None:
    unknown = await (
        await cur.execute(
            "SELECT i.source_line, i.manager_id, count(*) OVER () FROM employee_import i"
            " WHERE i.manager_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM employee_import j WHERE j.id = i.manager_id)"
            " AND NOT EXISTS (SELECT 1 FROM employees e WHERE e.id = i.manager_id)"
            " ORDER BY i.source_line NULLS LAST, i.id LIMIT %s",
            (max_reported,),
        )
    ).fetchall()
    if unknown:
        errors = [
            RowError(line or 0, MANAGER_COLUMN, f"unknown employee {manager!r}")
            for line, manager, _ in unknown
        ]
        raise CsvRejected(errors, unknown[0][2])


async def list_directory(
    pool: AsyncConnectionPool[AsyncConnection],
    *,
    department: str | None,
    after: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Employees in id order, optionally of one department, keyset-paged by id."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, name, email, department, grade, hired_on, manager_id FROM employees"
            " WHERE (%(department)s::text IS NULL OR department = %(department)s)"
            " AND (%(after)s::text IS NULL OR id > %(after)s)"
            " ORDER BY id LIMIT %(limit)s",
            {"department": department, "after": after, "limit": limit},
        )
        return await cur.fetchall()


async def department_sizes(pool: AsyncConnectionPool[AsyncConnection]) -> list[tuple[str, int]]:
    """Every department in the directory with its headcount, by name."""
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT department, count(*) FROM employees GROUP BY department ORDER BY department"
            )
        ).fetchall()
    return [(str(name), int(count)) for name, count in rows]
