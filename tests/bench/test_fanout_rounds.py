"""Which of the fan-out's rounds stands for them: the median burst, as it was measured."""

from __future__ import annotations

from typing import Any

from bench.scenarios.fanout import _median_round


def _burst(cpu: float, rate: float) -> dict[str, Any]:
    return {"server_cpu_us_per_delivery": cpu, "deliveries_per_second": rate}


def test_of_three_rounds_the_middle_ones_burst_is_taken_whole() -> None:
    rounds = [_burst(9.0, 100.0), _burst(7.0, 140.0), _burst(8.0, 90.0)]
    assert _median_round(rounds) == _burst(8.0, 90.0)


def test_of_two_rounds_the_cheaper_one_is_taken() -> None:
    # An even count has no middle burst; the lower one is a burst that ran, not an average.
    assert _median_round([_burst(9.0, 100.0), _burst(7.0, 140.0)]) == _burst(7.0, 140.0)
