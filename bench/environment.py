"""Where the benchmark runs: the stack, one database and topic prefix per run, the machine.

Kafka and PostgreSQL come from HERALD_BENCH_KAFKA_BOOTSTRAP and HERALD_BENCH_DATABASE_URL
when both are set; otherwise `deploy/local/stack.sh start` starts (or reuses) the local
stack. Every run creates its own database and topic prefix on them, like the tests do, and
drops them at the end, so runs never see each other's data and never disturb anyone else
using the same stack.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from pydantic import SecretStr

from bench.processes import REPO, Service, free_port
from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import mint_token
from herald_common.catalogue import VOUCHER_ALLOCATED_TOPIC
from herald_common.migrate import apply_migrations
from herald_common.settings import KafkaSettings, TopicSettings
from herald_common.topics import delete_topics, ensure_topics

STACK_SCRIPT = REPO / "deploy" / "local" / "stack.sh"


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    database_url: str
    source: str


def find_infrastructure() -> Infrastructure:
    kafka = os.environ.get("HERALD_BENCH_KAFKA_BOOTSTRAP")
    database = os.environ.get("HERALD_BENCH_DATABASE_URL")
    if kafka and database:
        return Infrastructure(kafka, database, "environment")
    started = subprocess.run([str(STACK_SCRIPT), "start"], capture_output=True, text=True)
    if started.returncode != 0:
        raise SystemExit(
            f"{STACK_SCRIPT.relative_to(REPO)} start failed:\n{started.stderr.strip()}\n"
            "To use a Kafka and PostgreSQL that already run, set HERALD_BENCH_KAFKA_BOOTSTRAP"
            " and HERALD_BENCH_DATABASE_URL."
        )
    output = started.stdout
    values = dict(
        line.split("=", 1) for line in output.splitlines() if "=" in line and line[:1] != "#"
    )
    return Infrastructure(
        values["HERALD_KAFKA_BOOTSTRAP"], values["HERALD_DATABASE_URL"], "local stack"
    )


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


# The Pusher app key of a run's channels service; its secret is the run's auth secret.
PUSHER_KEY = "bench-key"


@dataclass
class BenchRun:
    """One run's isolated resources on the shared stack."""

    infra: Infrastructure
    work_dir: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    auth_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    database_url: str = ""
    services: list[Service] = field(default_factory=list)
    # Databases of other sizes (the million scenarios), each with its own topic prefix,
    # made on first use and dropped with this run's own.
    sized: dict[int, BenchRun] = field(default_factory=dict)
    # Further topic prefixes on this run's database: scenarios that share a database start
    # their services on topics (and consumer groups) of their own.
    extra_topics: list[TopicSettings] = field(default_factory=list)
    # Service modules run under cProfile (`--cprofile`).
    profiled: frozenset[str] = frozenset()
    # Settings given to every service (`--service-env`, e.g. an inserter's chunk size).
    service_env: dict[str, str] = field(default_factory=dict)
    seed_seconds: dict[int, float] = field(default_factory=dict)

    @property
    def database(self) -> str:
        return f"herald_bench_{self.run_id}"

    @property
    def topics(self) -> TopicSettings:
        return TopicSettings(prefix=f"bench-{self.run_id}.")

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(bootstrap=self.infra.kafka_bootstrap)

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "logs"

    def variables(self) -> dict[str, str]:
        """The environment every Herald service of this run gets."""
        return {
            "HERALD_KAFKA_BOOTSTRAP": self.infra.kafka_bootstrap,
            "HERALD_DATABASE_URL": self.database_url,
            "HERALD_TOPICS_PREFIX": self.topics.prefix,
            "HERALD_AUTH_HS256_SECRET": self.auth_secret,
            # The benchmark measures sending, not waiting for a second admin.
            "HERALD_APPROVAL_ENABLED": "false",
            **self.service_env,
        }

    def token(self, subject: str, roles: list[str], department: str | None = None) -> str:
        """A token as the identity provider would issue it (with the `department` claim
        that routes streams to notifier shares, where given)."""
        settings = AuthSettings(hs256_secret=SecretStr(self.auth_secret))
        return mint_token(
            settings, subject=subject, roles=roles, ttl_seconds=4 * 3600, department=department
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def create(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with psycopg.connect(self.infra.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        self.database_url = with_database(self.infra.database_url, self.database)
        apply_migrations(self.database_url)
        await ensure_topics(self.kafka, self.topics)

    async def own_topics(self, name: str) -> dict[str, str]:
        """New topics for one scenario on this database; the services' environment for them."""
        topics = TopicSettings(prefix=f"bench-{self.run_id}-{name}.")
        self.extra_topics.append(topics)
        await ensure_topics(self.kafka, topics)
        return {"HERALD_TOPICS_PREFIX": topics.prefix}

    async def of_size(self, employees: int) -> BenchRun:
        """A database and topic prefix of this run seeded with exactly `employees` (one
        allocation to everyone is then one to `employees`), made once and kept until the end.
        """
        if employees not in self.sized:
            other = BenchRun(
                self.infra,
                self.work_dir,
                run_id=f"{self.run_id}s{employees}",
                auth_secret=self.auth_secret,
                profiled=self.profiled,
                service_env=self.service_env,
            )
            self.sized[employees] = other
            await other.create()
            other.seed(employees)
        return self.sized[employees]

    def seed(self, employees: int) -> None:
        """Demo employees, through the CLI a user would run."""
        started = time.monotonic()
        herald = Path(sys.executable).with_name("herald")
        subprocess.run(
            [str(herald), "demo", "seed", "--employees", str(employees)],
            check=True,
            env={**os.environ, **self.variables()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.seed_seconds[employees] = time.monotonic() - started
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE employees")

    def employee_ids(self) -> list[tuple[str, str]]:
        """(id, department) of every employee, in id order."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT id, department FROM employees ORDER BY id").fetchall()
        return [(r[0], r[1]) for r in rows]

    def service(self, name: str, module: str, extra: dict[str, str]) -> Service:
        service = Service.python_module(name, module, {**self.variables(), **extra}, self.log_dir)
        if module in self.profiled:
            # Under cProfile, written when the process ends (SIGTERM); slower, so a run with
            # --cprofile says where the time goes, never how long it takes.
            output = self.log_dir / f"{name}.prof"
            service.argv = [sys.executable, "-m", "bench.profiled", str(output), module]
        self.services.append(service)
        return service

    def notifier(self, name: str, share: str = "all") -> tuple[Service, int]:
        """A notifier process reading the partitions of `share` (docs/decisions/0078)."""
        port = free_port()
        service = self.service(
            name,
            "herald_notifier",
            {
                "HERALD_NOTIFIER_PORT": str(port),
                "HERALD_NOTIFIER_REPLICA_ID": name,
                "HERALD_NOTIFIER_PARTITION_SHARE": share,
            },
        )
        return service, port

    def channels(self, name: str) -> tuple[Service, int]:
        """A channels replica (the Pusher protocol) with this run's app key and secret."""
        port = free_port()
        service = self.service(
            name,
            "herald_channels",
            {
                "HERALD_CHANNELS_PORT": str(port),
                "HERALD_CHANNELS_REPLICA_ID": name,
                "HERALD_CHANNELS_APP_KEY": PUSHER_KEY,
                "HERALD_CHANNELS_APP_SECRET": self.auth_secret,
                "HERALD_CHANNELS_MAX_CONNECTIONS": "100000",
                "HERALD_DATABASE_POOL_MAX_SIZE": "20",
            },
        )
        return service, port

    def baseline(self, name: str) -> tuple[Service, int]:
        """The plain FastAPI + sse-starlette hub (bench/baseline_notifier.py)."""
        return self._bench_hub(name, "bench.baseline_notifier")

    def floor(self, name: str) -> tuple[Service, int]:
        """The least a notifier on this stack does per delivery (bench/floor_notifier.py)."""
        return self._bench_hub(name, "bench.floor_notifier")

    def floor_opens(self, name: str, *, asgi: bool = False) -> tuple[Service, int]:
        """The least a stream server on this stack does per open (bench/floor_opens.py),
        or the same behind uvicorn (bench/floor_opens_asgi.py)."""
        port = free_port()
        module = "bench.floor_opens_asgi" if asgi else "bench.floor_opens"
        service = self.service(name, module, {})
        service.argv += ["--port", str(port)]
        return service, port

    def _bench_hub(self, name: str, module: str) -> tuple[Service, int]:
        port = free_port()
        topics = self.topics
        service = self.service(name, module, {})
        service.argv += [
            "--port",
            str(port),
            "--bootstrap",
            self.infra.kafka_bootstrap,
            "--topic",
            topics.voucher_allocated,
            "--partitions",
            str(topics.partitions(VOUCHER_ALLOCATED_TOPIC)),
        ]
        return service, port

    def stop_services(self) -> None:
        for other in self.sized.values():
            other.stop_services()
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    async def destroy(self) -> None:
        for other in self.sized.values():
            await other.destroy()
        self.stop_services()
        for topics in (self.topics, *self.extra_topics):
            await delete_topics(self.kafka, topics)
        if self.database_url:
            with psycopg.connect(self.infra.database_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )


# -- what the report records about the machine and the software -------------------------


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
                break
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_bytes": memory,
        "kernel": platform.release(),
        "load_average_at_start": list(os.getloadavg()),
    }


_PACKAGES = (
    "aiokafka",
    "psycopg",
    "psycopg-pool",
    "fastapi",
    "starlette",
    "sse-starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "faust-streaming",
    "pydantic",
)


def versions(database_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        found["postgresql"] = row[0] if row else None
    pom = (REPO / "deploy" / "local" / "kafka" / "pom.xml").read_text()
    for key, label in (
        ("kafka.version", "kafka_local_stack"),
        ("kafka.tools.version", "kafka_tools"),
    ):
        match = re.search(rf"<{re.escape(key)}>([^<]+)</", pom)
        found[label] = match.group(1) if match else None
    java = shutil.which("java")
    if java:
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        found["java"] = out.splitlines()[0] if out else None
    git = shutil.which("git")
    if git:
        head = subprocess.run(
            [git, "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip()
        dirty = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=REPO,
        ).stdout.strip()
        found["herald_commit"] = head + ("-dirty" if dirty else "")
    return found
