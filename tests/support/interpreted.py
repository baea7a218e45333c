"""A pytest plugin (`-p tests.support.interpreted`) that runs the session on the sources of
the compiled hot path, as a machine without a compiler would (tools/compiled.py): loaded
with `-p`, it is imported before any conftest imports a Herald module."""

from __future__ import annotations

import sys

import pytest

from tools.compiled import compiled_names, interpret, is_compiled

interpret()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the session if a compiled module ran after all: it would not have tested the
    sources."""
    ran = [n for n in compiled_names() if n in sys.modules and is_compiled(sys.modules[n])]
    if ran:
        raise RuntimeError(f"compiled modules ran in an interpreted session: {', '.join(ran)}")
