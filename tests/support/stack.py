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


def default_home() -> Path:
    return Path(os.environ.get("HERALD_HOME", REPO / ".herald"))


@dataclass(frozen=True)
class LocalStack:
    """One deploy/local/stack.sh stack: its state directory and, if not the defaults, ports.

    Ports left as None come from the environment (HERALD_KAFKA_PORT, ...) or stack.sh's
    defaults, as for the stack `make run` starts.
    """

    home: Path
    kafka_port: int | None = None
    controller_port: int | None = None
    postgres_port: int | None = None
    maven_repo: Path | None = None

    def variables(self) -> dict[str, str]:
        values = {"HERALD_HOME": str(self.home)}
        for name, value in (
            ("HERALD_KAFKA_PORT", self.kafka_port),
            ("HERALD_KAFKA_CONTROLLER_PORT", self.controller_port),
            ("HERALD_PG_PORT", self.postgres_port),
            ("HERALD_MAVEN_REPO", self.maven_repo),
        ):
            if value is not None:
                values[name] = str(value)
        return values

    def run(self, *args: str) -> None:
        """Run a stack.sh command (start, stop, kill-kafka, restart-postgres, ...)."""
        subprocess.run(
            [str(STACK_SCRIPT), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, **self.variables()},
        )

    def start(self) -> Infrastructure:
        self.run("start")
        values = _read_env_file(self.home / "stack.env")
        return Infrastructure(values["HERALD_KAFKA_BOOTSTRAP"], values["HERALD_DATABASE_URL"])


def infrastructure() -> Infrastructure:
    """HERALD_TEST_KAFKA_BOOTSTRAP / HERALD_TEST_DATABASE_URL if set, else start the stack."""
    kafka = os.environ.get("HERALD_TEST_KAFKA_BOOTSTRAP")
    database = os.environ.get("HERALD_TEST_DATABASE_URL")
    if kafka and database:
        return Infrastructure(kafka, database)
    return LocalStack(default_home()).start()


def stack(*args: str) -> None:
    """Run a command on the default stack (used by tests that restart or kill infrastructure)."""
    LocalStack(default_home()).run(*args)
