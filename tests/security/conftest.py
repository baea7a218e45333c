"""Fuzzing budget, fixed so runs are comparable, and printed in the test output."""

from __future__ import annotations

import pytest

FUZZ_EXAMPLES_PER_OPERATION = 40


def pytest_report_header() -> str:
    return f"fuzzing budget: {FUZZ_EXAMPLES_PER_OPERATION} examples per API operation"


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    fuzzed = [r for r in terminalreporter.stats.get("passed", []) if "test_fuzz" in r.nodeid]
    if fuzzed:
        terminalreporter.write_line(
            f"fuzzing: {len(fuzzed)} services, {FUZZ_EXAMPLES_PER_OPERATION} examples per "
            "operation, no 5xx, every response as documented"
        )
