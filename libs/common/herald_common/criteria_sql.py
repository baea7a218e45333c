"""Allocation criteria -> a parameterised SQL filter over `employees`.

Only the fields of `Criteria` can reach the query, each mapped to a fixed column
expression below; values always travel as parameters, never as SQL text.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias

from psycopg import sql

from herald_common.events import Criteria

Query: TypeAlias = tuple[sql.SQL | sql.Composed, dict[str, Any]]


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def criteria_filter(criteria: Criteria, as_of: date) -> Query:
    """A WHERE condition and its parameters; `as_of` fixes "years of experience" in time."""
    clauses: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if criteria.departments is not None:
        clauses.append(sql.SQL("department = ANY(%(departments)s)"))
        params["departments"] = list(dict.fromkeys(criteria.departments))
    if criteria.grades is not None:
        clauses.append(sql.SQL("grade = ANY(%(grades)s)"))
        params["grades"] = sorted(set(criteria.grades))
    if criteria.min_years_experience is not None:
        # At least N full years: hired on or before the same day N years ago.
        clauses.append(sql.SQL("hired_on <= %(hired_on_or_before)s"))
        params["hired_on_or_before"] = years_before(as_of, criteria.min_years_experience)
    if criteria.max_years_experience is not None:
        # At most N full years: not yet N+1 full years.
        clauses.append(sql.SQL("hired_on > %(hired_after)s"))
        params["hired_after"] = years_before(as_of, criteria.max_years_experience + 1)
    if not clauses:
        # Only an explicit `all_employees: true` gets here: Criteria refuses an empty rule.
        return sql.SQL("TRUE"), params
    return sql.SQL(" AND ").join(clauses), params


def matching_employees_query(criteria: Criteria, as_of: date) -> Query:
    """id and department of every matching employee, in a stable order."""
    where, params = criteria_filter(criteria, as_of)
    query = sql.SQL("SELECT id, department FROM employees WHERE {} ORDER BY id").format(where)
    return query, params


def matching_count_query(criteria: Criteria, as_of: date) -> Query:
    where, params = criteria_filter(criteria, as_of)
    return sql.SQL("SELECT count(*) FROM employees WHERE {}").format(where), params


def unknown_departments_query(departments: list[str]) -> Query:
    """The given departments that no employee belongs to."""
    query = sql.SQL(
        "SELECT d FROM unnest(%(departments)s::text[]) AS d"
        " WHERE NOT EXISTS (SELECT 1 FROM employees e WHERE e.department = d) ORDER BY d"
    )
    return query, {"departments": departments}


def matching_by_department_query(criteria: Criteria, as_of: date) -> Query:
    """(department, count) of the matching employees, largest first."""
    where, params = criteria_filter(criteria, as_of)
    query = sql.SQL(
        "SELECT department, count(*) AS n FROM employees WHERE {}"
        " GROUP BY department ORDER BY n DESC, department"
    ).format(where)
    return query, params


def matching_sample_query(criteria: Criteria, as_of: date, limit: int) -> Query:
    """A few matching employees (id, name, department), in a stable order."""
    where, params = criteria_filter(criteria, as_of)
    query = sql.SQL(
        "SELECT id, name, department FROM employees WHERE {} ORDER BY id LIMIT %(sample)s"
    ).format(where)
    return query, {**params, "sample": limit}


def text_cell(column: str, table: str | None = None) -> sql.Composable:
    """A text column as a CSV cell that no spreadsheet runs as a formula, named as the column.

    A cell that starts like a formula is run by spreadsheet programs; a leading quote
    keeps it text (OWASP's advice for CSV exports).
    """
    name = sql.Identifier(column)
    value = name if table is None else sql.Identifier(table, column)
    return sql.SQL("CASE WHEN {0} ~ '^[=+@\\t\\r-]' THEN '''' || {0} ELSE {0} END AS {1}").format(
        value, name
    )


def matching_csv_query(criteria: Criteria, as_of: date) -> Query:
    """`COPY ... TO STDOUT` of every matching employee, for download, ordered by id."""
    where, params = criteria_filter(criteria, as_of)
    columns = sql.SQL(", ").join(
        [
            sql.SQL("id AS employee_id"),
            *(text_cell(c) for c in ("name", "email", "department")),
            sql.SQL("grade"),
            sql.SQL("hired_on"),
        ]
    )
    query = sql.SQL(
        "COPY (SELECT {} FROM employees WHERE {} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"
    ).format(columns, where)
    return query, params
