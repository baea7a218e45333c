from datetime import date

import pytest

from herald_allocation.domain.employee_csv import CsvRejected, parse_employee_csv

TODAY = date(2026, 11, 21)
HEADER = "employee_id,name,email,department,grade,hired_on\n"


def test_valid_rows_are_parsed_with_unicode_names():
    rows = parse_employee_csv(
        HEADER + "E1,Zoë Müller,zoe@example.com,Sales,G3,2020-01-15\n"
        'E2,"Nguyễn, Văn",nv@example.com,HR,G1,2026-11-21\n',
        today=TODAY,
    )
    assert [r.employee_id for r in rows] == ["E1", "E2"]
    assert rows[0].name == "Zoë Müller"
    assert rows[1].name == "Nguyễn, Văn"
    assert rows[1].hired_on == TODAY


def test_every_bad_row_is_reported_with_its_line_number():
    text = (
        HEADER
        + "E1,Ann,ann@example.com,Sales,G3,2020-01-15\n"  # line 2: fine
        + "E2,Bob,not-an-email,Sales,G3,2020-01-15\n"  # line 3
        + "E3,Cy,cy@example.com,Sales,G12,2020-01-15\n"  # line 4
        + "E4,Di,di@example.com,Sales,G2,2031-01-01\n"  # line 5
        + "E1,Ed,ed@example.com,HR,G2,2020-02-30\n"  # line 6: duplicate id and bad date
    )
    with pytest.raises(CsvRejected) as caught:
        parse_employee_csv(text, today=TODAY)
    found = {(e.line, e.field) for e in caught.value.errors}
    assert found == {
        (3, "email"),
        (4, "grade"),
        (5, "hired_on"),
        (6, "hired_on"),
        (6, "employee_id"),
    }
    assert caught.value.total_errors == 5


def test_missing_columns_are_named():
    with pytest.raises(CsvRejected) as caught:
        parse_employee_csv("employee_id,name\nE1,Ann\n", today=TODAY)
    assert caught.value.errors[0].line == 1
    assert "email" in caught.value.errors[0].field


def test_short_rows_are_reported():
    with pytest.raises(CsvRejected) as caught:
        parse_employee_csv(HEADER + "E1,Ann\n", today=TODAY)
    assert [(e.line, e.field) for e in caught.value.errors] == [(2, "*")]


def test_line_numbers_count_quoted_newlines():
    text = (
        HEADER
        + 'E1,"Ann\nSecond line",ann@example.com,Sales,G3,2020-01-15\nE2,B,bad,HR,G1,2020-01-01\n'
    )
    with pytest.raises(CsvRejected) as caught:
        parse_employee_csv(text, today=TODAY)
    assert [(e.line, e.field) for e in caught.value.errors] == [(4, "email")]


def test_report_is_capped_but_total_is_exact():
    bad = "".join(f"E{i},N,bad,Sales,G1,2020-01-01\n" for i in range(300))
    with pytest.raises(CsvRejected) as caught:
        parse_employee_csv(HEADER + bad, today=TODAY, max_reported=100)
    assert len(caught.value.errors) == 100
    assert caught.value.total_errors == 300
