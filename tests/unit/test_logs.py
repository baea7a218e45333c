"""Log lines are single JSON objects that carry the ids given with `extra=`."""

from __future__ import annotations

import json
import logging
import sys

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


def test_exceptions_and_odd_values_stay_inside_the_json() -> None:
    try:
        raise ValueError("bad\nrequest")
    except ValueError:
        record = _record(allocation_id=object())
        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError: bad" in entry["exception"]
    assert entry["allocation_id"].startswith("<object object")


def test_configure_logging_writes_json_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
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
