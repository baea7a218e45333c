"""The optional manager column of the employee CSV, and managers in the demo data."""

from collections import Counter
from datetime import date

import pytest

from herald_allocation.domain.demo_data import demo_employees
from herald_allocation.domain.employee_csv import CsvRejected, parse_employee_csv

TODAY = date(2026, 11, 21)
HEADER = "employee_id,name,email,department,grade,hired_on"


def test_files_without_the_column_stay_valid_and_keep_managers_unset():
    rows = parse_employee_csv(
        HEADER + "\nE1,Ann,ann@example.com,Sales,G3,2020-01-15\n", today=TODAY
    )
    assert rows[0].manager_id is None  # "not given": the import leaves managers alone


def test_manager_column_is_read_and_an_empty_cell_means_no_manager():
    rows = parse_employee_csv(
        HEADER + ",manager_id\n"
        "M1,Mia,mia@example.com,Sales,G6,2010-01-01,\n"
        "E1,Ann,ann@example.com,Sales,G3,2020-01-15,M1\n",
        today=TODAY,
    )
    assert [(r.employee_id, r.manager_id, r.line) for r in rows] == [("M1", "", 2), ("E1", "M1", 3)]


def test_the_column_may_come_first():
    rows = parse_employee_csv(
        "manager_id," + HEADER + "\nM9,E1,Ann,ann@example.com,Sales,G3,2020-01-15\n", today=TODAY
    )
    assert rows[0].manager_id == "M9"


def test_bad_manager_references_are_reported_by_line():
    text = (
        HEADER + ",manager_id\n"
        "E1,Ann,ann@example.com,Sales,G3,2020-01-15,E1\n"  # line 2: herself
        "E2,Bob,bob@example.com,Sales,G3,2020-01-15,not an id\n"  # line 3
    )
    with pytest.raises(CsvRejected) as caught:
        parse_employee_csv(text, today=TODAY)
    assert [(e.line, e.field) for e in caught.value.errors] == [
        (2, "manager_id"),
        (3, "manager_id"),
    ]
    assert "themselves" in caught.value.errors[0].message


def test_demo_departments_each_have_one_manager_everyone_else_reports_to():
    rows = list(demo_employees(500, seed=3, today=TODAY))
    managers = {r.department: r.employee_id for r in rows if r.manager_id == ""}
    assert set(managers) == {r.department for r in rows}
    assert Counter(r.manager_id == "" for r in rows)[True] == len(managers)
    position = {r.employee_id: n for n, r in enumerate(rows)}
    for row in rows:
        if row.manager_id:
            assert row.manager_id == managers[row.department]
            assert position[row.manager_id] < position[row.employee_id]
