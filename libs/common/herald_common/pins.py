"""Exact pins of the packages whose internals a service uses, checked against what is installed.

A service that leans on a package's private API (in its `compat` module, nowhere else)
pins that package's exact version in its own package metadata (its pyproject.toml) and
asks `private_apis` at start-up which of them it may use: those installed at the version
it pins, unless the operator asked for the public path (`<SERVICE>_COMPAT=public`). For
every other one it logs a warning and keeps to that package's public API
(docs/decisions/0042). The pins are read from the installed service's own metadata, so
pyproject.toml is the one place that names them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from importlib import metadata
from typing import Literal

logger = logging.getLogger(__name__)

# auto: private APIs where the installed version is the pinned one; public: never.
CompatMode = Literal["auto", "public"]

# `name==version` and `name[extra]==version`, with an optional environment marker.
_EXACT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;,]+)\s*(;.*)?$"
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def exact_pins(distribution: str) -> dict[str, str]:
    """The packages `distribution` (an installed distribution) requires at one exact version."""
    pins: dict[str, str] = {}
    for requirement in metadata.requires(distribution) or ():
        found = _EXACT.match(requirement)
        if found is not None:
            pins[_canonical(found[1])] = found[2]
    return pins


def _installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def differences(distribution: str, packages: Iterable[str]) -> dict[str, str]:
    """Each of `packages` not installed at the version `distribution` pins, and why."""
    pins = exact_pins(distribution)
    found: dict[str, str] = {}
    for package in packages:
        pinned, installed = pins.get(_canonical(package)), _installed(package)
        if pinned is None:
            found[package] = f"{distribution} does not pin {package} to one version"
        elif installed != pinned:
            what = f"{package} {installed} is installed" if installed else f"no {package}"
            found[package] = f"{what}; {distribution} was built against {pinned}"
    return found


def private_apis(distribution: str, packages: Iterable[str], mode: CompatMode) -> frozenset[str]:
    """Which of `packages` `distribution` may use the internals of; logs why not the others."""
    packages = tuple(packages)
    if mode == "public":
        logger.info(
            "%s keeps to public APIs, as configured: %s",
            distribution,
            ", ".join(packages),
            extra={"distribution": distribution},
        )
        return frozenset()
    differing = differences(distribution, packages)
    for package, why in differing.items():
        logger.warning(
            "%s uses %s's public API only: %s",
            distribution,
            package,
            why,
            extra={"distribution": distribution, "package": package},
        )
    return frozenset(p for p in packages if p not in differing)
