import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from herald_common.criteria_sql import criteria_filter, matching_employees_query, years_before
from herald_common.events import Criteria, VoucherSpec, request_fingerprint


def render(criteria: Criteria, as_of: date = date(2026, 11, 21)) -> tuple[str, dict]:
    where, params = criteria_filter(criteria, as_of)
    return where.as_string(), params


def test_every_criterion_becomes_a_parameterised_clause():
    text, params = render(
        Criteria(
            departments=["Sales"],
            grades=["G3", "G4"],
            min_years_experience=2,
            max_years_experience=5,
        )
    )
    assert text == (
        "department = ANY(%(departments)s) AND grade = ANY(%(grades)s)"
        " AND hired_on <= %(hired_on_or_before)s AND hired_on > %(hired_after)s"
    )
    assert params == {
        "departments": ["Sales"],
        "grades": ["G3", "G4"],
        "hired_on_or_before": date(2024, 11, 21),
        "hired_after": date(2020, 11, 21),
    }


def test_all_employees_matches_everyone():
    text, params = render(Criteria(all_employees=True))
    assert text == "TRUE"
    assert params == {}


def test_an_empty_rule_is_refused_naming_the_everyone_field():
    with pytest.raises(ValidationError, match="all_employees: true"):
        Criteria()


def test_all_employees_false_is_not_an_audience():
    with pytest.raises(ValidationError, match="all_employees"):
        Criteria(all_employees=False)  # type: ignore[arg-type]


def test_all_employees_cannot_be_combined_with_a_filter():
    with pytest.raises(ValidationError, match="cannot be combined"):
        Criteria(all_employees=True, departments=["Sales"])


def test_a_rule_without_all_employees_keeps_its_old_fingerprint():
    voucher = VoucherSpec(
        name="Winter bonus",
        amount=Decimal("50.00"),
        currency="EUR",
        expires_on=date(2030, 1, 31),
        code_prefix="WIN",
    )
    old_body = {
        "voucher": voucher.model_dump(mode="json"),
        "criteria": {
            "departments": ["Sales"],
            "grades": None,
            "min_years_experience": None,
            "max_years_experience": None,
        },
    }
    expected = hashlib.sha256(json.dumps(old_body, sort_keys=True).encode()).hexdigest()
    assert request_fingerprint(voucher, Criteria(departments=["Sales"])) == expected


def test_values_never_reach_the_sql_text():
    hostile = "Sales'; DROP TABLE employees; --"
    text, params = render(Criteria(departments=[hostile]))
    assert hostile not in text
    assert params["departments"] == [hostile]


def test_duplicate_values_are_collapsed():
    _, params = render(Criteria(departments=["HR", "HR"], grades=["G2", "G1", "G2"]))
    assert params["departments"] == ["HR"]
    assert params["grades"] == ["G1", "G2"]


def test_years_before_handles_leap_day():
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert years_before(date(2024, 2, 29), 4) == date(2020, 2, 29)


def test_min_above_max_is_rejected():
    with pytest.raises(ValidationError, match="must not exceed"):
        Criteria(min_years_experience=5, max_years_experience=2)


def test_unknown_criteria_fields_are_rejected():
    with pytest.raises(ValidationError):
        Criteria.model_validate({"departments": ["HR"], "salary": 5})


def test_grade_must_be_g1_to_g9():
    with pytest.raises(ValidationError):
        Criteria(grades=["G10"])


def test_query_selects_only_allow_listed_columns():
    query, _ = matching_employees_query(Criteria(grades=["G1"]), date(2026, 1, 1))
    assert query.as_string() == (
        "SELECT id, department FROM employees WHERE grade = ANY(%(grades)s) ORDER BY id"
    )
