"""Log lines are single JSON objects that carry the ids given with `extra=`."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import pytest

from herald_common.logs import JsonFormatter, configure_logging


def _record(**extra: object) -> logging.LogRecord:
    logger = logging.getLogger("herald.test")
    return logger.makeRecord(
        "herald.test",
        logging.INFO,
        __file__,
        1,
        "allocation %s completed",
        ("A1",),
        None,
        extra=extra,
    )


def test_a_line_is_one_json_object_with_the_extra_fields() -> None:
    line = JsonFormatter().format(
        _record(allocation_id="5b7a", event_id="5b7a:completed", vouchers=3)
    )

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "allocation A1 completed"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "herald.test"
    assert entry["allocation_id"] == "5b7a"
    assert entry["event_id"] == "5b7a:completed"
    assert entry["vouchers"] == 3
    assert entry["time"].endswith("+00:00")
    # Only the fields that mean something to a reader, not LogRecord's internals.
    assert not {"args", "msg", "levelno", "pathname", "color_message"} & entry.keys()


@pytest.mark.parametrize(
    "created",
    [0.0, 1.9999, 1_764_999_999.0005, 1_765_000_000.001, 1_765_000_000.1, 1_765_000_000.9999997],
)
def test_the_time_reads_as_isoformat_to_the_millisecond(created: float) -> None:
    record = _record()
    record.created = created
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")

    assert json.loads(JsonFormatter().format(record))["time"] == expected


def test_every_millisecond_of_a_second_reads_as_isoformat() -> None:
    formatter, record = JsonFormatter(), _record()
    read, expected = [], []
    for millisecond in range(1000):
        record.created = 1_765_000_000 + millisecond / 1000
        read.append(json.loads(formatter.format(record))["time"])
        expected.append(
            datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        )

    assert read == expected


def test_lines_of_one_second_each_keep_their_own_milliseconds() -> None:
    formatter, first, second = JsonFormatter(), _record(), _record()
    first.created, second.created = 1_765_000_000.25, 1_765_000_000.75
    times = [json.loads(formatter.format(r))["time"] for r in (first, second)]

    assert times == ["2025-12-06T05:46:40.250+00:00", "2025-12-06T05:46:40.750+00:00"]


def test_exceptions_and_odd_values_stay_inside_the_json() -> None:
    try:
        raise ValueError("bad\nrequest")
    except ValueError:
        record = _record(allocation_id=object())
        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError: bad" in entry["exception"]
    assert entry["allocation_id"].startswith("<object object")


def test_configure_logging_writes_json_to_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # configure_logging turns the caller lookup off for the process; this test's only.
    monkeypatch.setattr(logging, "_srcfile", logging._srcfile)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("info")
        logging.getLogger("herald.x").info("hello", extra={"event_id": "42"})
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    assert json.loads(line)["event_id"] == "42"
