"""Where the tests find Kafka and PostgreSQL, in order of preference:

1. environment: HERALD_TEST_KAFKA_BOOTSTRAP and HERALD_TEST_DATABASE_URL name running ones;
2. testcontainers: a Docker engine answers, so Kafka and PostgreSQL start in containers;
3. local stack: deploy/local/stack.sh starts (or reuses) the local processes.

The choice is made once per session and printed in pytest's header.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import docker
from docker.errors import DockerException
from testcontainers.community.kafka import KafkaContainer
from testcontainers.community.postgres import PostgresContainer

REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "deploy" / "local" / "stack.sh"

ENVIRONMENT = "environment"
TESTCONTAINERS = "testcontainers"
LOCAL_STACK = "local stack"

# Pinned. testcontainers' KafkaContainer drives Confluent's image (its start script
# rewrites the advertised listener to the mapped port); 7.9 is Apache Kafka 3.9 in KRaft.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
POSTGRES_IMAGE = "postgres:17.6-bookworm"
CONTAINER_START_TIMEOUT = 180


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    database_url: str


def docker_engine_answers() -> bool:
    """True if a Docker engine responds; a client binary alone is not enough."""
    try:
        client = docker.from_env(timeout=3)
    except DockerException:
        return False
    try:
        return bool(client.ping())
    except (DockerException, OSError):
        return False
    finally:
        client.close()


def choose_path(
    env: Mapping[str, str] = os.environ,
    engine_answers: Callable[[], bool] = docker_engine_answers,
) -> str:
    if env.get("HERALD_TEST_KAFKA_BOOTSTRAP") and env.get("HERALD_TEST_DATABASE_URL"):
        return ENVIRONMENT
    if engine_answers():
        return TESTCONTAINERS
    return LOCAL_STACK


@functools.cache
def session_path() -> str:
    return choose_path()


def describe(path: str, env: Mapping[str, str] = os.environ) -> str:
    if path == ENVIRONMENT:
        database = urlsplit(env["HERALD_TEST_DATABASE_URL"])
        return (
            f"infrastructure: {ENVIRONMENT} (Kafka {env['HERALD_TEST_KAFKA_BOOTSTRAP']},"
            f" PostgreSQL {database.hostname}:{database.port})"
        )
    if path == TESTCONTAINERS:
        return f"infrastructure: {TESTCONTAINERS} ({KAFKA_IMAGE}, {POSTGRES_IMAGE})"
    return f"infrastructure: {LOCAL_STACK} ({STACK_SCRIPT.relative_to(REPO)})"


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


@contextmanager
def containers() -> Iterator[Infrastructure]:
    kafka = (
        KafkaContainer(KAFKA_IMAGE)
        .with_kraft()
        # One broker: transactions and offsets need replication factor 1, and topics
        # are created by the tests, never on first use.
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
    )
    postgres = PostgresContainer(
        POSTGRES_IMAGE, username="herald", password="herald", dbname="herald", driver=None
    )
    kafka.start(timeout=CONTAINER_START_TIMEOUT)
    try:
        postgres.start()
        try:
            yield Infrastructure(kafka.get_bootstrap_server(), postgres.get_connection_url())
        finally:
            postgres.stop()
    finally:
        kafka.stop()


@contextmanager
def infrastructure(path: str | None = None) -> Iterator[Infrastructure]:
    path = path or session_path()
    if path == ENVIRONMENT:
        yield Infrastructure(
            os.environ["HERALD_TEST_KAFKA_BOOTSTRAP"], os.environ["HERALD_TEST_DATABASE_URL"]
        )
    elif path == TESTCONTAINERS:
        with containers() as infra:
            yield infra
    else:
        yield LocalStack(default_home()).start()


def stack(*args: str) -> None:
    """Run a command on the default stack (used by tests that restart or kill infrastructure)."""
    LocalStack(default_home()).run(*args)
