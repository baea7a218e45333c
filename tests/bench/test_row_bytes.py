"""`python -m bench.row_bytes` at a tiny size, so it never rots: both shapes measured, and
the lean rows write fewer bytes per employee than the full ones (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import Infrastructure

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EMPLOYEES = 300


@pytest.fixture(scope="module")
def figures(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("rowbytes") / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.row_bytes",
            "--employees",
            str(EMPLOYEES),
            "--output",
            str(output),
        ],
        cwd=REPO,
        env={**os.environ, "HERALD_BENCH_DATABASE_URL": infra.database_url},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-4000:]}"
    assert "WAL B/emp" in done.stdout  # the table was printed
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
    assert after["table_bytes"]["notification_recipients"] < before["table_bytes"]["notifications"]
