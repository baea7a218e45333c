"""The bench's CPU reading: fine enough for a span of a few milliseconds."""

from __future__ import annotations

import os
import threading
import time

import pytest

from bench.processes import cpu_seconds


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_few_milliseconds_of_work_read_as_that_much() -> None:
    before = cpu_seconds(os.getpid())
    _spin(0.003)
    spent = cpu_seconds(os.getpid()) - before
    # Clock ticks (10 ms) would read 0 or 0.01 here; the reading is the work's own time.
    assert 0.003 <= spent < 0.009


def test_work_on_another_thread_counts() -> None:
    spun, release = threading.Event(), threading.Event()

    def work() -> None:
        _spin(0.02)
        spun.set()
        release.wait()  # an exited thread takes its time with it, so it lives on

    before = cpu_seconds(os.getpid())
    worker = threading.Thread(target=work)
    worker.start()
    spun.wait()
    spent = cpu_seconds(os.getpid()) - before
    release.set()
    worker.join()
    assert spent >= 0.02


def test_a_process_that_is_gone_raises() -> None:
    with pytest.raises(FileNotFoundError):
        cpu_seconds(2**22 + 1)
