"""Each Deployment's terminationGracePeriodSeconds covers its preStop sleep and its service's
drain bound, as deploy/k8s/README.md ("Stopping") documents them; the drain bounds the
reliability tests hold each service to are the same ones (docs/decisions/0064)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy import OVERLAYS, SERVICE_SETTINGS, SHUTDOWN_GRACE_SECONDS, named

README = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "README.md"
ROW = re.compile(r"^\| herald-(\w+) \| (\d+) \| (\d+) \| (\d+) \|", re.MULTILINE)
# The notifier's drain waits for HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS, then uvicorn's 2 s
# beyond it, then the lifespan's shutdown: what the bound holds beside the setting.
NOTIFIER_BEYOND_GRACE = 5


def documented() -> dict[str, tuple[int, int, int]]:
    """Per service: (preStop sleep, drain bound, terminationGracePeriodSeconds)."""
    section = README.read_text().split("## Stopping\n", 1)[1].split("\n## ", 1)[0]
    return {m[0]: (int(m[1]), int(m[2]), int(m[3])) for m in ROW.findall(section)}


def _pod(overlay: str, service: str) -> dict[str, Any]:
    spec: dict[str, Any] = named(overlay, "Deployment", f"herald-{service}")["spec"]["template"][
        "spec"
    ]
    return spec


def _pre_stop(pod: dict[str, Any]) -> int:
    (container,) = pod["containers"]
    hook = container.get("lifecycle", {}).get("preStop")
    return int(hook["sleep"]["seconds"]) if hook else 0


def _env(pod: dict[str, Any], name: str) -> str:
    (container,) = pod["containers"]
    return str(next(e["value"] for e in container["env"] if e["name"] == name))


def test_every_service_has_a_documented_drain() -> None:
    assert set(documented()) == set(SERVICE_SETTINGS)


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifest_matches_the_documented_grace(overlay: str, service: str) -> None:
    pre_stop, drain, grace_period = documented()[service]
    pod = _pod(overlay, service)
    assert _pre_stop(pod) == pre_stop
    assert pod["terminationGracePeriodSeconds"] == grace_period
    assert grace_period >= pre_stop + drain, "the kubelet would SIGKILL a draining pod"


def test_the_notifier_bound_follows_its_setting() -> None:
    _, drain, _ = documented()["notifier"]
    for overlay in OVERLAYS:
        grace = float(_env(_pod(overlay, "notifier"), "HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS"))
        assert drain == grace + NOTIFIER_BEYOND_GRACE
    # The tests run it with the setting's default, 10 s.
    assert SHUTDOWN_GRACE_SECONDS["notifier"] == 10 + NOTIFIER_BEYOND_GRACE


@pytest.mark.parametrize("service", ["allocation", "inserter", "mailer", "gateway", "channels"])
def test_the_tests_hold_each_service_to_its_documented_bound(service: str) -> None:
    assert SHUTDOWN_GRACE_SECONDS[service] == documented()[service][1]
