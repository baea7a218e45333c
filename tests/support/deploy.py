"""Shared by the deployment tests: paths, installed tools, rendered manifests, settings."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from herald_allocation.settings import AllocationSettings
from herald_channels.settings import ChannelsSettings
from herald_gateway.settings import GatewaySettings
from herald_inserter.settings import InserterSettings
from herald_mailer.settings import MailerSettings
from herald_notifier.settings import NotifierSettings

REPO = Path(__file__).resolve().parents[2]
HERALD_HOME = Path(os.environ.get("HERALD_HOME", REPO / ".herald"))
KUSTOMIZE = HERALD_HOME / "tools" / "bin" / "kustomize"
ASYNCAPI = HERALD_HOME / "tools" / "asyncapi" / "node_modules" / ".bin" / "asyncapi"
UV = HERALD_HOME / "tools" / "bin" / "uv"
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod", "strimzi")

# Every Herald service, each with its image, Compose service and Deployment.
SERVICE_SETTINGS: dict[str, type[BaseSettings]] = {
    "allocation": AllocationSettings,
    "inserter": InserterSettings,
    "notifier": NotifierSettings,
    "mailer": MailerSettings,
    "gateway": GatewaySettings,
    "channels": ChannelsSettings,
}
# The port each service listens on (its settings' default, and what the images set).
SERVICE_PORTS = {
    "allocation": 8001,
    "inserter": 6066,
    "notifier": 8002,
    "mailer": 8003,
    "gateway": 8000,
    "channels": 6001,
}


def tool(path: Path) -> Path:
    """A tool `make tools` installs; its absence fails the test rather than skipping it."""
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools` (part of `make test`)")
    return path


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(\S+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match, f"{name} not set in the Makefile"
    return match.group(1)


def env_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads, nested settings included."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            names |= env_names(annotation)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    """The objects `kustomize build` makes of an overlay (rendered once per session)."""
    result = subprocess.run(
        [str(tool(KUSTOMIZE)), "build", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in rendered(overlay) if obj["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in objects(overlay, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"{overlay}: expected one {kind} {name}, found {len(found)}"
    return found[0]


# How long each service may take from SIGTERM to exit, as documented in deploy/k8s/README.md
# ("Stopping") and docs/decisions/0064, with the settings the tests run it with (the
# notifier's HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS at its default, 10 s).
SHUTDOWN_GRACE_SECONDS = {
    "allocation": 15,
    "inserter": 30,
    "notifier": 15,
    "mailer": 10,
    "gateway": 10,
    "channels": 10,
}
