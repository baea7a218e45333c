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

# As ZGC writes them (-XX:+UseZGC, the same -Xlog), from a JVM 17 on this stack's Java.
ZGC_LOG = """\
[2026-12-07T10:04:01.971+0000][gc,phases   ] GC(0) Pause Mark Start 0.007ms
[2026-12-07T10:04:01.980+0000][gc,phases   ] GC(0) Concurrent Mark 8.911ms
[2026-12-07T10:04:01.980+0000][gc,phases   ] GC(0) Pause Mark End 0.009ms
[2026-12-07T10:04:01.980+0000][gc,phases   ] GC(0) Concurrent Mark Free 0.000ms
[2026-12-07T10:04:01.992+0000][gc,phases   ] GC(0) Pause Relocate Start 0.008ms
[2026-12-07T10:04:01.993+0000][gc,phases   ] GC(0) Concurrent Relocate 1.335ms
[2026-12-07T10:04:01.993+0000][gc          ] GC(0) Garbage Collection (Warmup) 8M(12%)->8M(12%)
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


def test_zgcs_three_pauses_of_a_cycle_are_read_by_name() -> None:
    pauses = parse_pauses(ZGC_LOG.splitlines())
    assert [p.kind for p in pauses] == ["Mark Start", "Mark End", "Relocate Start"]


def test_a_zgc_pause_lasts_what_its_line_says() -> None:
    mark_end = parse_pauses(ZGC_LOG.splitlines())[1]
    assert mark_end.end == _epoch("2026-12-07T10:04:01.980+0000")
    assert round(mark_end.end - mark_end.start, 6) == 0.000009


def test_zgcs_concurrent_phases_and_cycle_summary_are_no_pauses() -> None:
    # Seven lines, three of them pauses: the concurrent phases run beside the application.
    assert len(parse_pauses(ZGC_LOG.splitlines())) == 3
