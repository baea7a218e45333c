"""`python -m bench.row_bytes` at a tiny size, so it never rots: both shapes measured, and
the lean rows write fewer bytes per employee than the full ones (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import row_bytes
from tests.support.stack import Infrastructure

pytestmark = pytest.mark.integration

EMPLOYEES = 300


@pytest.fixture(scope="module")
def figures(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output: Path = tmp_path_factory.mktemp("rowbytes") / "figures.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HERALD_BENCH_DATABASE_URL", infra.database_url)
        row_bytes.main(["--employees", str(EMPLOYEES), "--output", str(output)])
    loaded: dict[str, Any] = json.loads(output.read_text())
    return loaded


def test_both_shapes_write_one_row_per_employee_and_measure_tables_and_wal(
    figures: dict[str, Any],
) -> None:
    assert set(figures) == {"before", "after"}
    for shape in figures.values():
        assert shape["employees"] == EMPLOYEES
        assert all(size > 0 for size in shape["table_bytes"].values())
        assert shape["wal_bytes"] > 0


def test_lean_rows_write_fewer_table_bytes_per_employee(figures: dict[str, Any]) -> None:
    before, after = figures["before"], figures["after"]
    assert (
        after["table_bytes"]["notifications_per_employee"] < before["table_bytes"]["notifications"]
    )


def test_the_table_names_every_shape(figures: dict[str, Any]) -> None:
    printed = row_bytes.table(figures)
    assert printed.splitlines()[0].split()[:2] == ["shape", "employees"]
    assert [line.split()[0] for line in printed.splitlines() if line[:1] != " "][1:] == [
        "before",
        "after",
    ]
