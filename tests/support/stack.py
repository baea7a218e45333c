"""Where the tests find Kafka and PostgreSQL: the environment, else the local stack."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "deploy" / "local" / "stack.sh"


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    database_url: str


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def infrastructure() -> Infrastructure:
    """HERALD_TEST_KAFKA_BOOTSTRAP / HERALD_TEST_DATABASE_URL if set, else start the stack."""
    kafka = os.environ.get("HERALD_TEST_KAFKA_BOOTSTRAP")
    database = os.environ.get("HERALD_TEST_DATABASE_URL")
    if kafka and database:
        return Infrastructure(kafka, database)
    subprocess.run([str(STACK_SCRIPT), "start"], check=True, stdout=subprocess.DEVNULL)
    home = Path(os.environ.get("HERALD_HOME", REPO / ".herald"))
    values = _read_env_file(home / "stack.env")
    return Infrastructure(values["HERALD_KAFKA_BOOTSTRAP"], values["HERALD_DATABASE_URL"])


def stack(*args: str) -> None:
    """Run a stack command (used by tests that restart or kill infrastructure)."""
    subprocess.run([str(STACK_SCRIPT), *args], check=True, stdout=subprocess.DEVNULL)
