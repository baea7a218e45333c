"""herald_common.pins: a service's exact pins, read from its metadata, against what is installed."""

from __future__ import annotations

import logging
from importlib import metadata

import pytest

from herald_common import pins


@pytest.fixture
def installed(monkeypatch):
    """A made-up distribution's requirements, and made-up installed versions."""
    requires = [
        "plain==1.2.3",
        "with-extra[standard]==0.54.0",
        "Dotted.Name==2.0 ; python_version >= '3.11'",
        "ranged>=1.0",
        "bare",
    ]
    versions = {"plain": "1.2.3", "with-extra": "0.54.0", "Dotted.Name": "2.0", "ranged": "1.5"}

    def requires_of(distribution: str) -> list[str]:
        assert distribution == "herald-made-up"
        return requires

    def version_of(package: str) -> str:
        if package not in versions:
            raise metadata.PackageNotFoundError(package)
        return versions[package]

    monkeypatch.setattr(pins.metadata, "requires", requires_of)
    monkeypatch.setattr(pins.metadata, "version", version_of)
    return versions


def test_exact_pins_are_read_from_the_distributions_requirements(installed):
    assert pins.exact_pins("herald-made-up") == {
        "plain": "1.2.3",
        "with-extra": "0.54.0",
        "dotted-name": "2.0",
    }


def test_packages_at_their_pinned_versions_differ_in_nothing(installed):
    assert pins.differences("herald-made-up", ["plain", "with-extra", "Dotted.Name"]) == {}


def test_another_version_a_missing_package_or_no_exact_pin_is_a_difference(installed):
    installed["plain"] = "1.2.4"
    del installed["with-extra"]
    found = pins.differences("herald-made-up", ["plain", "with-extra", "ranged"])
    assert found == {
        "plain": "plain 1.2.4 is installed; herald-made-up was built against 1.2.3",
        "with-extra": "no with-extra; herald-made-up was built against 0.54.0",
        "ranged": "herald-made-up does not pin ranged to one version",
    }


def test_private_apis_only_of_packages_at_their_pins_and_a_warning_for_the_others(
    installed, caplog
):
    installed["plain"] = "9.9.9"
    with caplog.at_level(logging.INFO, logger=pins.logger.name):
        usable = pins.private_apis("herald-made-up", ["plain", "with-extra"], "auto")
    assert usable == frozenset({"with-extra"})
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "herald-made-up uses plain's public API only:"
        " plain 9.9.9 is installed; herald-made-up was built against 1.2.3"
    )
    assert warning.package == "plain"  # type: ignore[attr-defined]


def test_the_public_mode_uses_no_private_api_and_says_so(installed, caplog):
    with caplog.at_level(logging.INFO, logger=pins.logger.name):
        assert pins.private_apis("herald-made-up", ["plain"], "public") == frozenset()
    [info] = caplog.records
    assert info.levelno == logging.INFO
    assert info.getMessage() == "herald-made-up keeps to public APIs, as configured: plain"
