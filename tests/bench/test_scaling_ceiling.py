"""fanout's ceiling for 2 processes over 1: the cores they share, or the busiest process."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench.scenarios.fanout import scaling_ceiling


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def one(rate: float) -> dict[str, Any]:
    return {"deliveries_per_second": rate}


def two(server: float, loadgen: float, per_process: list[float]) -> dict[str, Any]:
    return {
        "deliveries": 100_000,
        "server_cpu_seconds": server,
        "loadgen_cpu_seconds": loadgen,
        "server_cpu_seconds_per_process": per_process,
    }


def test_the_shared_cores_bound_it_when_they_are_the_tighter_limit() -> None:
    # 25 us of CPU per delivery on 2 cores: 80,000/s, where each process alone allows 100,000.
    assert scaling_ceiling(one(50_000), two(2.0, 0.5, [1.0, 1.0])) == pytest.approx(1.6)


def test_the_busiest_process_bounds_it_when_the_split_is_uneven() -> None:
    # One process did 90% of the work: 1.8 s for 100,000 deliveries, 55,556/s at most.
    assert scaling_ceiling(one(50_000), two(2.0, 0.0, [0.2, 1.8])) == pytest.approx(1.1111, 1e-3)


def test_there_is_none_without_a_one_process_rate() -> None:
    assert scaling_ceiling(one(0), two(2.0, 0.5, [1.0, 1.0])) is None


def test_there_is_none_without_a_two_process_run() -> None:
    assert scaling_ceiling(one(50_000), None) is None
