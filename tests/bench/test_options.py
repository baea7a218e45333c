"""The benchmark's command line: sizes of the million scenarios and settings for services."""

from __future__ import annotations

import pytest

from bench.__main__ import _setting, build_config, parse_args
from bench.config import FULL, SMOKE
from bench.report import TARGETS, Target
from bench.scenarios.million_run import inbox_sample


def test_million_sizes_come_from_the_command_line() -> None:
    args = parse_args(["--million-employees", "200000", "--million-streams", "1000"])
    config = build_config(args)
    assert (config.million_employees, config.million_streams) == (200_000, 1_000)


def test_the_full_million_is_a_million_with_ten_thousand_streams() -> None:
    assert (FULL.million_employees, FULL.million_streams) == (1_000_000, 10_000)


def test_the_smoke_million_is_small() -> None:
    assert SMOKE.million_employees <= 2_000


def test_a_service_setting_is_a_herald_name_and_a_value() -> None:
    assert _setting("HERALD_INSERTER_CHUNK_EMPLOYEES=20000") == (
        "HERALD_INSERTER_CHUNK_EMPLOYEES",
        "20000",
    )


def test_a_service_setting_without_a_value_is_refused() -> None:
    with pytest.raises(SystemExit, match="HERALD_NAME=VALUE"):
        _setting("HERALD_INSERTER_CHUNK_EMPLOYEES")


def test_a_setting_outside_herald_is_refused() -> None:
    with pytest.raises(SystemExit, match="PATH=/tmp"):
        _setting("PATH=/tmp")


def test_the_inbox_sample_holds_the_first_and_the_last_employee() -> None:
    ids = [f"E{n:07d}" for n in range(1, 1001)]
    sample = inbox_sample(ids, 10)
    assert len(sample) == 10
    assert sample[0] == "E0000001"
    assert sample[-1] == "E0001000"


def test_a_sample_larger_than_the_directory_is_the_directory() -> None:
    assert inbox_sample(["E1", "E2"], 10) == ["E1", "E2"]


def test_issue_19_sets_its_targets() -> None:
    ours = {(t.scenario, t.name): (t.comparison, t.value) for t in TARGETS if t.issue == 19}
    assert ours == {
        ("e2e", "POST to last stream, median"): ("<=", 1.2),
        ("e2e", "POST to first stream, median"): ("<=", 0.3),
        ("copy", "inserter COPY / psql \\copy"): (">=", 1.0),
        ("million", "completes"): (">=", 1),
        ("million", "POST to first stream"): ("<=", 0.3),
        ("million", "POST to last in inbox"): ("<=", 15.0),
        ("million", "inserter peak RSS"): ("<", 512 * 1024 * 1024),
        ("pushduring", "push POST to its stream"): ("<=", 1.0),
    }


def test_a_strict_target_fails_at_its_value() -> None:
    target = Target("million", "peak", ("million", "peak"), "<", 512.0, "MB", 19)
    assert target.met(511.0) is True
    assert target.met(512.0) is False
