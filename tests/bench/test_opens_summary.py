"""bench.scenarios.opens._summary: the rounds of a burst in one result."""

from bench.scenarios.opens import _summary


def _round(dropped: int | None, live: int = 10) -> dict:
    return {"live": live, "failed": 0, "handshakes_dropped": dropped}


def test_the_handshakes_dropped_are_summed_over_the_rounds():
    assert _summary([_round(0), _round(7), _round(0)])["handshakes_dropped"] == 7


def test_a_round_without_a_count_leaves_the_sum_unknown():
    assert _summary([_round(0), _round(None)])["handshakes_dropped"] is None
