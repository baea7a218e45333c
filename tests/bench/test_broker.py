"""Reading the local broker's collector pauses from its JVM's log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bench.broker import Pause, gc_log_of, parse_pauses

# As G1 writes them (-Xlog:gc*:file=...:time,tags), from the local stack's broker.
LOG = """\
[2026-12-07T05:52:08.199+0000][gc,start    ] GC(0) Pause Young (Normal) (G1 Evacuation Pause)
[2026-12-07T05:52:08.204+0000][gc          ] GC(0) Pause Young (Normal) (G1 Evacuation Pause) \
26M->5M(514M) 5.356ms
[2026-12-07T05:52:08.205+0000][gc,cpu      ] GC(0) User=0.01s Sys=0.00s Real=0.01s
[2026-12-07T05:52:08.928+0000][gc          ] GC(3) Pause Remark 9M->9M(512M) 2.215ms
[2026-12-07T05:52:09.001+0000][gc,phases   ] GC(3) Other: 0.1ms
"""


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def test_each_pause_ends_at_its_line_and_lasts_what_it_says() -> None:
    young, remark = parse_pauses(LOG.splitlines())
    assert young == Pause("Young", _epoch("2026-12-07T05:52:08.204+0000") - 0.005356, young.end)
    assert young.end == _epoch("2026-12-07T05:52:08.204+0000")
    assert remark.kind == "Remark"
    assert round(remark.end - remark.start, 6) == 0.002215


def test_lines_that_are_not_a_pause_ending_are_skipped() -> None:
    # The start line has no length, and the cpu and phase lines are no pauses.
    assert len(parse_pauses(LOG.splitlines())) == 2


def test_the_log_file_comes_from_the_jvms_command_line() -> None:
    cmdline = ["java", "-Xms512m", "-Xlog:gc*:file=/srv/kafka/logs/gc.log:time,tags", "Kafka"]
    assert gc_log_of(cmdline) == Path("/srv/kafka/logs/gc.log")


def test_a_jvm_without_a_collector_log_has_none() -> None:
    assert gc_log_of(["java", "-Xms512m", "kafka.Kafka"]) is None
