"""The notifier's hot path runs compiled (tools/compiled.py, docs/decisions/0093), built from
the sources as they are, and the sources still pass every unit test without the compiler."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from tools import compiled
from tools.compiled import Group, is_compiled, stale

REPO = Path(__file__).resolve().parents[2]


def test_every_compiled_module_is_built_from_its_source_as_it_is() -> None:
    assert stale() == []


@pytest.mark.parametrize("name", compiled.compiled_names())
def test_the_module_runs_compiled(name: str) -> None:
    assert is_compiled(importlib.import_module(name))


def _built(tmp_path: Path) -> Group:
    """A one-module group under tmp_path, with a compiled file and a manifest of its source."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "hot.py").write_text("X = 1\n")
    (package / f"hot{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    group = Group("pkg", str(tmp_path), ("hot",))
    group.manifest().write_text(json.dumps(group.hashes()))
    return group


def test_a_module_built_from_its_source_is_not_stale(tmp_path: Path, monkeypatch) -> None:
    group = _built(tmp_path)
    monkeypatch.setattr(compiled, "GROUPS", (group,))
    assert stale() == []


def test_a_source_edited_after_its_build_is_stale(tmp_path: Path, monkeypatch) -> None:
    group = _built(tmp_path)
    monkeypatch.setattr(compiled, "GROUPS", (group,))
    group.source("hot").write_text("X = 2\n")
    assert stale() == ["pkg.hot"]


def test_a_module_without_its_compiled_file_is_stale(tmp_path: Path, monkeypatch) -> None:
    group = _built(tmp_path)
    monkeypatch.setattr(compiled, "GROUPS", (group,))
    for extension in (tmp_path / "pkg").glob("hot.*"):
        if extension.suffix != ".py":
            extension.unlink()
    assert stale() == ["pkg.hot"]


def test_a_compiled_file_of_a_module_no_longer_listed_is_stale(tmp_path: Path, monkeypatch) -> None:
    group = _built(tmp_path)
    monkeypatch.setattr(compiled, "GROUPS", (group,))
    (tmp_path / "pkg" / "old.py").write_text("Y = 1\n")
    (tmp_path / "pkg" / f"old{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    assert stale() == ["pkg.old"]


def test_a_group_that_fails_to_build_is_left_to_its_sources(tmp_path: Path, monkeypatch) -> None:
    group = _built(tmp_path)
    monkeypatch.setattr(compiled, "GROUPS", (group,))
    group.source("hot").write_text("X = 2\n")

    def no_compiler(group: Group, work: Path) -> None:
        raise SystemExit("error: command 'gcc' failed: No such file or directory")

    monkeypatch.setattr(compiled, "_build", no_compiler)
    assert compiled.build(tmp_path / "work") == ([], ["pkg"])
    assert [p.name for p in (tmp_path / "pkg").iterdir()] == ["hot.py"]


def test_interpreting_after_the_modules_were_imported_is_refused() -> None:
    importlib.import_module("herald_notifier.domain.consumer")
    with pytest.raises(RuntimeError, match="already imported"):
        compiled.interpret()


def test_interpret_imports_the_sources() -> None:
    probe = (
        "import tools.compiled as c; c.interpret(); "
        "import herald_notifier.domain.consumer as m; print(c.is_compiled(m), m.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", str(REPO / "services/notifier/herald_notifier/domain/consumer.py")]


def test_the_unit_tests_pass_on_the_sources() -> None:
    """The fallback: every other unit test, with the compiled modules' sources imported."""
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-p", "tests.support.interpreted", "tests/unit",
            "--ignore", "tests/unit/test_compiled.py",
        ],
        cwd=REPO, capture_output=True, text=True, env=os.environ.copy(), timeout=280,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, summary
    assert " passed" in summary
    assert "failed" not in summary
    assert "error" not in summary
