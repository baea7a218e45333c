"""fanout's ceiling for 2 processes over 1: the cores they share, or the busiest process."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench.scenarios.fanout import scaling_ceiling

CORES = os.cpu_count() or 1


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
    # Every delivery costs 20 us of the processes and 5 us of the load generator.
    ceiling = scaling_ceiling(one(50_000), two(2.0, 0.5, [1.0, 1.0]))
    shared = CORES / 25e-6
    assert ceiling == pytest.approx(min(shared, 100_000) / 50_000)


def test_the_busiest_process_bounds_it_when_the_split_is_uneven() -> None:
    # One process did 90% of the work: it alone takes 1.8 s for 100,000 deliveries.
    ceiling = scaling_ceiling(one(50_000), two(2.0, 0.0, [0.2, 1.8]))
    assert ceiling == pytest.approx(min(CORES / 20e-6, 100_000 / 1.8) / 50_000)


def test_there_is_none_without_a_one_process_rate() -> None:
    assert scaling_ceiling(one(0), two(2.0, 0.5, [1.0, 1.0])) is None
