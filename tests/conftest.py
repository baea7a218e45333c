"""Session-wide fixtures: real infrastructure, an isolated database and topic set, services.

Each test session gets its own PostgreSQL database and its own topic prefix on the shared
broker, so runs never see each other's data or offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from herald_common.migrate import apply_migrations
from herald_common.settings import KafkaSettings, TopicSettings
from herald_common.topics import delete_topics, ensure_topics
from tests.support.auth import bearer
from tests.support.processes import ServiceProcess, free_port
from tests.support.smtp import SmtpServer
from tests.support.stack import Infrastructure, describe, infrastructure, session_path


@dataclass(frozen=True)
class HeraldEnv:
    infra: Infrastructure
    database_url: str
    topic_prefix: str
    log_dir: Path
    auth_secret: str
    channel_auth_secret: str
    # 3 on the reliability suite's three-broker cluster; one broker holds one replica.
    replication_factor: int = 1

    @property
    def topics(self) -> TopicSettings:
        return TopicSettings(prefix=self.topic_prefix, replication_factor=self.replication_factor)

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(bootstrap=self.infra.kafka_bootstrap)

    def variables(self) -> dict[str, str]:
        return {
            "HERALD_KAFKA_BOOTSTRAP": self.infra.kafka_bootstrap,
            "HERALD_DATABASE_URL": self.database_url,
            "HERALD_TOPICS_PREFIX": self.topic_prefix,
            "HERALD_TOPICS_REPLICATION_FACTOR": str(self.replication_factor),
            "HERALD_AUTH_HS256_SECRET": self.auth_secret,
            "HERALD_AUTH_DEV_MODE": "true",
            # The test client talks plain HTTP to 127.0.0.1.
            "HERALD_AUTH_SESSION_COOKIE_SECURE": "false",
            "HERALD_NOTIFIER_CHANNEL_AUTH_KEY": "test-app-key",
            "HERALD_NOTIFIER_CHANNEL_AUTH_SECRET": self.channel_auth_secret,
            # Four-eyes approval is on by default; the tests of other behaviour allocate
            # to thousands without a second admin. The approval tests switch it on.
            "HERALD_APPROVAL_ENABLED": "false",
            # Each caller may allocate (and revoke) 30 times a minute by default; a test
            # module on a quiet machine asks more of one admin than that. The limiter has
            # its own tests (tests/unit/test_limits.py); here it would only make tests flaky.
            "HERALD_ALLOCATION_ALLOCATIONS_PER_MINUTE": "600",
            # The channels service is the same Pusher app.
            "HERALD_CHANNELS_APP_ID": "4201",
            "HERALD_CHANNELS_APP_KEY": "test-app-key",
            "HERALD_CHANNELS_APP_SECRET": self.channel_auth_secret,
        }

    def bearer(
        self,
        subject: str,
        roles: list[str],
        manages: str | None = None,
        department: str | None = None,
    ) -> dict[str, str]:
        return bearer(self.auth_secret, subject, roles, manages, department)

    @property
    def admin(self) -> dict[str, str]:
        """Headers of an hr-admin who is not in the employee directory."""
        return self.bearer("hr-admin-1", ["hr-admin"])


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def create_database(infra: Infrastructure, name: str) -> str:
    with psycopg.connect(infra.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(infra.database_url, name)
    apply_migrations(url)
    return url


def drop_database(infra: Infrastructure, name: str) -> None:
    with psycopg.connect(infra.database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def pytest_report_header() -> str:
    return describe(session_path())


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    with infrastructure(session_path()) as found:
        yield found


@contextmanager
def isolated_env(
    infra: Infrastructure, log_dir: Path, replication_factor: int = 1
) -> Iterator[HeraldEnv]:
    """A database and a topic prefix of their own on `infra`, removed afterwards; the topics
    with `replication_factor` replicas."""
    run = secrets.token_hex(4)
    database = f"herald_test_{run}"
    env = HeraldEnv(
        infra=infra,
        database_url=create_database(infra, database),
        topic_prefix=f"test-{run}.",
        log_dir=log_dir,
        auth_secret=secrets.token_urlsafe(32),
        channel_auth_secret=secrets.token_urlsafe(32),
        replication_factor=replication_factor,
    )
    asyncio.run(ensure_topics(env.kafka, env.topics))
    yield env
    if not os.environ.get("HERALD_TEST_KEEP"):
        asyncio.run(delete_topics(env.kafka, env.topics))
        drop_database(infra, database)


@pytest.fixture(scope="session")
def herald_env(
    infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeraldEnv]:
    with isolated_env(infra, tmp_path_factory.mktemp("service-logs")) as env:
        yield env


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """The SMTP server the mailer sends to; session-wide, like the mailer itself."""
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


def allocation_process(env: HeraldEnv, port: int) -> ServiceProcess:
    variables = {**env.variables(), "HERALD_ALLOCATION_PORT": str(port)}
    return ServiceProcess("allocation", "herald_allocation", variables, env.log_dir)


def approval_allocation_process(
    env: HeraldEnv, port: int, name: str, above_recipients: int, extra: dict[str, str] | None = None
) -> ServiceProcess:
    """An allocation service with the four-eyes rule on, over `above_recipients` people."""
    variables = {
        **env.variables(),
        "HERALD_ALLOCATION_PORT": str(port),
        "HERALD_APPROVAL_ENABLED": "true",
        "HERALD_APPROVAL_ABOVE_RECIPIENTS": str(above_recipients),
        **(extra or {}),
    }
    return ServiceProcess(name, "herald_allocation", variables, env.log_dir)


def inserter_process(
    env: HeraldEnv, port: int, extra: dict[str, str] | None = None, module: str = "herald_inserter"
) -> ServiceProcess:
    """The inserter worker; `module` may name a test build of it (tests.support.*)."""
    variables = {
        **env.variables(),
        "HERALD_INSERTER_WEB_PORT": str(port),
        "HERALD_INSERTER_RETRY_INITIAL_SECONDS": "0.1",
        **(extra or {}),
    }
    return ServiceProcess("inserter", module, variables, env.log_dir)


def notifier_process(
    env: HeraldEnv, port: int, extra: dict[str, str] | None = None, name: str = "notifier"
) -> ServiceProcess:
    """A notifier; `name` names its log file (notifiers of a test's own log apart)."""
    variables = {**env.variables(), "HERALD_NOTIFIER_PORT": str(port), **(extra or {})}
    return ServiceProcess(name, "herald_notifier", variables, env.log_dir)


def channels_process(
    env: HeraldEnv, port: int, extra: dict[str, str] | None = None, name: str = "channels"
) -> ServiceProcess:
    """A channels replica (the Pusher protocol); `name` names its log file."""
    variables = {**env.variables(), "HERALD_CHANNELS_PORT": str(port), **(extra or {})}
    return ServiceProcess(name, "herald_channels", variables, env.log_dir)


@contextmanager
def running_replicas(
    count: int, make: Callable[[int, int], ServiceProcess]
) -> Iterator[tuple[int, ...]]:
    """`count` processes, the n-th made by `make(n, port)`, ready; their ports. Stopped on
    leaving."""
    ports = tuple(free_port() for _ in range(count))
    processes = [make(n, port).start() for n, port in enumerate(ports)]
    try:
        for process, port in zip(processes, ports, strict=True):
            process.wait_http(f"http://127.0.0.1:{port}/readyz")
        yield ports
    finally:
        for process in processes:
            process.stop()


def running_channels(
    env: HeraldEnv, count: int, extra: dict[str, str] | None = None, name: str = "channels"
) -> contextlib.AbstractContextManager[tuple[int, ...]]:
    """`count` channels replicas, ready; their ports. Stopped on leaving."""
    return running_replicas(
        count, lambda n, port: channels_process(env, port, extra, name=f"{name}-{n}")
    )


def mailer_process(
    env: HeraldEnv, port: int, smtp_port: int, extra: dict[str, str] | None = None
) -> ServiceProcess:
    """The mailer, sending to the SMTP server on `smtp_port`, with short backoffs."""
    variables = {
        **env.variables(),
        "HERALD_MAILER_PORT": str(port),
        "HERALD_MAILER_SMTP_PORT": str(smtp_port),
        "HERALD_MAILER_MAX_ATTEMPTS": "8",
        "HERALD_MAILER_RETRY_INITIAL_SECONDS": "0.2",
        "HERALD_MAILER_RETRY_MAX_SECONDS": "1",
        **(extra or {}),
    }
    return ServiceProcess("mailer", "herald_mailer", variables, env.log_dir)


@dataclass
class RunningServices:
    allocation_url: str
    notifier_url: str
    inserter: ServiceProcess
    allocation: ServiceProcess
    notifier: ServiceProcess
    mailer_url: str
    mailer: ServiceProcess


@pytest.fixture(scope="session")
def services(herald_env: HeraldEnv, smtp: SmtpServer) -> Iterator[RunningServices]:
    allocation_port, notifier_port, inserter_port = free_port(), free_port(), free_port()
    mailer_port = free_port()
    allocation = allocation_process(herald_env, allocation_port).start()
    inserter = inserter_process(herald_env, inserter_port).start()
    notifier = notifier_process(herald_env, notifier_port).start()
    mailer = mailer_process(herald_env, mailer_port, smtp.port).start()
    running = RunningServices(
        f"http://127.0.0.1:{allocation_port}",
        f"http://127.0.0.1:{notifier_port}",
        inserter,
        allocation,
        notifier,
        f"http://127.0.0.1:{mailer_port}",
        mailer,
    )
    try:
        allocation.wait_http(f"{running.allocation_url}/readyz")
        notifier.wait_http(f"{running.notifier_url}/readyz")
        inserter.wait_http(f"http://127.0.0.1:{inserter_port}/healthz")
        mailer.wait_http(f"{running.mailer_url}/readyz")
        yield running
    finally:
        for service in (mailer, notifier, inserter, allocation):
            service.stop()
