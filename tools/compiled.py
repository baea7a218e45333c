"""The notifier's hot path, compiled with mypyc in place beside its sources.

    python -m tools.compiled          # build what is not built from the sources as they are
    python -m tools.compiled --check  # exit 1 when a compiled module is missing or stale

Every fan-out delivery runs the same few modules: the record checks and routing headers,
the decode, the registry, the subscriber and the stream's framing. Interpreted, they are
most of what the notifier spends per delivery above the floor; compiled with mypyc from the
same typed sources, the notifier spends about half as much above the floor in the fan-out
bench (docs/decisions/0093). `make install` runs this, so the tests, the bench and
`make run` use the compiled modules.

The sources stay the truth and the fallback: a compiled module is an extension module
beside its `.py`, which Python prefers when both are there. Without a compiler (or with
`interpret()`, which the test suite uses to run the same unit tests on the sources) the
`.py` runs, with the same behaviour and more CPU. Each package is its own group, so the
common library never loads the notifier's shared library. A manifest beside each group's
modules records the hash of the sources it was built from: a source edited after the build
shows up in `stale()`, which a unit test checks, and the next `make install` rebuilds it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
MANIFEST = "_compiled.json"


@dataclass(frozen=True)
class Group:
    """Modules of one package compiled together into one shared library."""

    package: str
    # The directory holding the package (what is on sys.path for it).
    root: str
    modules: tuple[str, ...]

    def names(self) -> list[str]:
        return [f"{self.package}.{module}" for module in self.modules]

    def source(self, module: str) -> Path:
        return REPO / self.root / self.package / (module.replace(".", "/") + ".py")

    def group_name(self) -> str:
        return f"{self.package}._compiled"

    def library(self) -> str:
        """The group's shared library, as a module name (mypyc names it so)."""
        return f"{self.group_name()}__mypyc"

    def manifest(self) -> Path:
        return REPO / self.root / self.package / MANIFEST

    def hashes(self) -> dict[str, str]:
        return {
            module: hashlib.sha256(self.source(module).read_bytes()).hexdigest()
            for module in self.modules
        }


GROUPS = (
    Group("herald_common", "libs/common", ("notifications", "record_checks", "routing")),
    Group(
        "herald_notifier",
        "services/notifier",
        (
            "domain.consumer",
            "domain.delivery",
            "domain.live_frames",
            "domain.progress",
            "domain.registry",
            "domain.subscriber",
            "domain.unread",
        ),
    ),
)


def compiled_names() -> list[str]:
    return [name for group in GROUPS for name in group.names()]


def _built_files(group: Group) -> dict[str, Path]:
    """Every extension module in the package's tree, by module name (the group's shared
    library too), whether the group lists it or not."""
    package = REPO / group.root / group.package
    # Longest first: ".so" ends ".cpython-311-x86_64-linux-gnu.so" too.
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    found: dict[str, Path] = {}
    for path in package.rglob("*"):
        relative = path.relative_to(package).as_posix()
        suffix = next((s for s in suffixes if relative.endswith(s)), None)
        if suffix is not None and path.is_file():
            found[f"{group.package}.{relative[: -len(suffix)].replace('/', '.')}"] = path
    return found


def stale() -> list[str]:
    """Modules whose compiled file is missing or was not built from the source as it is,
    and compiled files left of a module the group no longer lists (they would still be
    imported instead of the source)."""
    found: list[str] = []
    for group in GROUPS:
        files = _built_files(group)
        listed = {*group.names(), group.library()}
        found.extend(sorted(name for name in files if name not in listed))
        try:
            built = json.loads(group.manifest().read_text())
        except (OSError, ValueError):
            built = {}
        hashes = group.hashes()
        for module in group.modules:
            name = f"{group.package}.{module}"
            if name not in files or built.get(module) != hashes[module]:
                found.append(name)
    return found


def is_compiled(module: ModuleType) -> bool:
    """Whether an imported module is the compiled one, not its source."""
    file = getattr(module, "__file__", None) or ""
    return any(file.endswith(suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def _remove_built(group: Group) -> None:
    for path in _built_files(group).values():
        path.unlink()
    group.manifest().unlink(missing_ok=True)


def _build(group: Group, work: Path) -> None:
    # Imported here: the build needs mypy and setuptools (dev dependencies), the checks not.
    from mypyc.build import mypycify
    from setuptools import Distribution

    # Built whole or not at all: a half-built group (a module compiled against an old
    # shared library) must not be left to import.
    _remove_built(group)
    paths = [str(group.source(module).relative_to(REPO)) for module in group.modules]
    extensions = mypycify(
        # The repository's mypy settings; sections for modules outside this group are
        # unused here, which mypy would count as an error.
        ["--no-warn-unused-configs", *paths],
        group_name=group.group_name(),
        target_dir=str(work / "c" / group.package),
    )
    distribution = Distribution(
        {
            "name": f"{group.package}-compiled",
            "ext_modules": extensions,
            "package_dir": {"": group.root},
        }
    )
    build_ext = distribution.get_command_obj("build_ext")
    build_ext.inplace = True
    build_ext.build_temp = str(work / "temp" / group.package)
    build_ext.build_lib = str(work / "lib" / group.package)
    distribution.run_command("build_ext")
    group.manifest().write_text(json.dumps(group.hashes(), indent=2, sort_keys=True) + "\n")


def build(work: Path) -> tuple[list[str], list[str]]:
    """Compile each group with a stale module; the groups built, and those that failed.

    A group that fails to build (no compiler, no Python headers) is left to its sources,
    which run the same, with more CPU: `make run` still works, and the test suite's
    `test_compiled` says the hot path is not compiled.
    """
    out_of_date = set(stale())
    built: list[str] = []
    failed: list[str] = []
    for group in GROUPS:
        if any(name.startswith(f"{group.package}.") for name in out_of_date):
            logger.info("compiling %s", ", ".join(group.names()))
            try:
                _build(group, work)
            except (Exception, SystemExit):  # mypyc exits on what it cannot compile
                logger.exception("compiling %s failed: its sources will run", group.package)
                _remove_built(group)
                failed.append(group.package)
            else:
                built.append(group.package)
    return built, failed


class _Interpreted(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' sources, ahead of their compiled files."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = frozenset(names)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names or path is None:
            return None
        leaf = fullname.rpartition(".")[2] + ".py"
        for entry in path:
            source = Path(entry) / leaf
            if source.exists():
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def interpret() -> None:
    """From here on, the compiled modules import from their sources (call before any of
    them is imported): the fallback, as a machine without a compiler runs it."""
    loaded = [name for name in compiled_names() if name in sys.modules]
    if loaded:
        raise RuntimeError(f"already imported, compiled or not: {', '.join(loaded)}")
    sys.meta_path.insert(0, _Interpreted(compiled_names()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a compiled module is missing or stale"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO / ".herald" / "cache" / "mypyc",
        help="where the generated C and the objects go",
    )
    args = parser.parse_args(argv)
    # Its own lines only: setuptools logs every compiler command at INFO.
    logging.basicConfig(level=logging.WARNING, format="[compiled] %(message)s")
    logger.setLevel(logging.INFO)
    if args.check:
        found = stale()
        for name in found:
            logger.error("%s is not compiled from its source as it is: run make install", name)
        return 1 if found else 0
    built, failed = build(args.work)
    if built or not failed:
        logger.info("compiled %s", ", ".join(built) if built else "nothing: every module is built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
