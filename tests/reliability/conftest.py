"""Fault-injection fixtures: a Kafka + PostgreSQL stack of the suite's own, and the services.

These tests SIGKILL the broker and restart PostgreSQL, so they never touch the stack other
tests (or a developer's `make run`) use: they start a second stack.sh stack under
`$HERALD_HOME/reliability` on ports of its own, share the first stack's Maven cache, and
stop it at the end. The ports follow from that directory, so clones on one machine can run
the suite at the same time. See tests/reliability/README.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    HeraldEnv,
    allocation_process,
    inserter_process,
    isolated_env,
    notifier_process,
)
from tests.support.processes import ServiceProcess, free_port
from tests.support.stack import Infrastructure, LocalStack, default_home

RELIABILITY_HOME = default_home() / "reliability"


def _port(variable: str, offset: int) -> int:
    """The environment's port, else one derived from RELIABILITY_HOME: the same for one
    directory every time (Kafka's storage remembers its controller port), different between
    clones."""
    if variable in os.environ:
        return int(os.environ[variable])
    slot = int(hashlib.sha256(str(RELIABILITY_HOME.resolve()).encode()).hexdigest(), 16) % 2000
    return 20_000 + 4 * slot + offset


KAFKA_PORT = _port("HERALD_RELIABILITY_KAFKA_PORT", 0)
KAFKA_CONTROLLER_PORT = _port("HERALD_RELIABILITY_KAFKA_CONTROLLER_PORT", 1)
POSTGRES_PORT = _port("HERALD_RELIABILITY_PG_PORT", 2)

# The inserter as the fault tests run it: a fixed worker id (so a restart fences the killed
# worker's transaction and reclaims its partitions at once) and short backoffs.
INSERTER_SETTINGS = {
    "HERALD_INSERTER_WORKER_ID": "fault-worker-1",
    "HERALD_INSERTER_SESSION_TIMEOUT_SECONDS": "10",
    "HERALD_INSERTER_RETRY_INITIAL_SECONDS": "0.2",
    "HERALD_INSERTER_RETRY_MAX_SECONDS": "1",
    "HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS": "60",
    # Allocations of 20,000 to 100,000 employees span two to ten chunks (0068).
    "HERALD_INSERTER_CHUNK_EMPLOYEES": "10000",
    # Equal chunks, the first included: the criteria here count whole chunks. The smaller
    # first chunk (0081) is tested where it is written (tests/integration).
    "HERALD_INSERTER_FIRST_CHUNK_EMPLOYEES": "10000",
}
NOTIFIER_SETTINGS = {"HERALD_NOTIFIER_RETRY_MS": "500"}

FIGURES: list[tuple[str, dict[str, Any]]] = []
# Each reliability scenario's wall time (setup, call and teardown), by node id, with the
# part of the matrix it belongs to (its -m marker).
DURATIONS: dict[str, list[Any]] = {}
PARTS = ("cluster", "network", "reliability")
PART_OF: dict[str, str] = {}


@dataclass(frozen=True)
class FaultStack:
    stack: LocalStack
    infra: Infrastructure

    def _kafka_pid(self) -> int:
        return int((self.stack.home / "kafka" / "kafka.pid").read_text())

    def kill_kafka(self) -> None:
        """SIGKILL the broker at once (stack.sh's kill-kafka would first start a shell), and
        wait until the process is gone, so that a new one can bind its ports."""
        pid = self._kafka_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists():
            assert time.monotonic() < deadline, f"broker {pid} survived SIGKILL"
            time.sleep(0.05)

    def start_kafka(self) -> None:
        self.stack.run("start-kafka")

    def pause_kafka(self) -> None:
        """SIGSTOP the broker: its clients wait, as for a broker that is slow to answer."""
        os.kill(self._kafka_pid(), signal.SIGSTOP)

    def resume_kafka(self) -> None:
        os.kill(self._kafka_pid(), signal.SIGCONT)

    def restart_postgres(self) -> None:
        self.stack.run("restart-postgres")

    def stop_postgres(self) -> None:
        self.stack.run("stop-postgres")

    def start_postgres(self) -> None:
        self.stack.run("start-postgres")

    def up(self) -> bool:
        try:
            self.stack.run("status")
        except subprocess.CalledProcessError:
            return False
        return True


@pytest.fixture(scope="session")
def reliability_postgres() -> Iterator[LocalStack]:
    """The reliability stack, its PostgreSQL started. Stopped last, after every fixture
    that has a database on it (the single broker's and the three-broker cluster's) is done."""
    stack = LocalStack(
        RELIABILITY_HOME,
        kafka_port=KAFKA_PORT,
        controller_port=KAFKA_CONTROLLER_PORT,
        postgres_port=POSTGRES_PORT,
        maven_repo=default_home() / "cache" / "m2",
    )
    stack.run("start-postgres")
    yield stack
    if not os.environ.get("HERALD_TEST_KEEP"):
        stack.run("stop-postgres")


@pytest.fixture(scope="session")
def fault_stack(reliability_postgres: LocalStack) -> Iterator[FaultStack]:
    stack = reliability_postgres
    # The broker's storage is tied to the controller port it was formatted for; this stack
    # holds nothing worth keeping, so storage from other ports is formatted afresh.
    formatted = RELIABILITY_HOME / "kafka" / "formatted-controller-port"
    if formatted.exists() and formatted.read_text().strip() != str(KAFKA_CONTROLLER_PORT):
        stack.run("stop")
        shutil.rmtree(RELIABILITY_HOME / "kafka" / "data")
        formatted.unlink()
    infra = stack.start()
    yield FaultStack(stack, infra)
    if not os.environ.get("HERALD_TEST_KEEP"):
        stack.run("stop-kafka")


@pytest.fixture(scope="session")
def fault_env(
    fault_stack: FaultStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeraldEnv]:
    with isolated_env(fault_stack.infra, tmp_path_factory.mktemp("reliability-logs")) as env:
        yield env


@dataclass
class FaultServices:
    env: HeraldEnv
    allocation: ServiceProcess
    inserter: ServiceProcess
    notifier: ServiceProcess
    allocation_port: int = field(default_factory=free_port)
    inserter_port: int = field(default_factory=free_port)
    notifier_port: int = field(default_factory=free_port)

    @property
    def allocation_url(self) -> str:
        return f"http://127.0.0.1:{self.allocation_port}"

    @property
    def notifier_url(self) -> str:
        return f"http://127.0.0.1:{self.notifier_port}"

    def start_inserter(self, *, module: str = "herald_inserter", **extra: str) -> ServiceProcess:
        """A new inserter process (same worker id and port), with `extra` settings.

        `module` is what `python -m` runs: a test build such as
        tests.support.crashing_inserter instead of the worker itself.
        """
        self.inserter.kill()
        self.inserter = inserter_process(
            self.env, self.inserter_port, {**INSERTER_SETTINGS, **extra}, module
        ).start()
        self.inserter.wait_http(f"http://127.0.0.1:{self.inserter_port}/healthz")
        return self.inserter

    def kill_inserter(self) -> None:
        self.inserter.kill(signal.SIGKILL)

    def kill_notifier(self) -> None:
        self.notifier.kill(signal.SIGKILL)

    def start_notifier(self) -> None:
        self.notifier.kill()
        self.notifier.start()
        self.notifier.wait_http(f"{self.notifier_url}/readyz")

    def ensure_running(self) -> None:
        if not _alive(self.allocation):
            self.allocation.start()
            self.allocation.wait_http(f"{self.allocation_url}/readyz")
        if not _alive(self.inserter):
            self.start_inserter()
        if not _alive(self.notifier):
            self.start_notifier()

    def stop(self) -> None:
        for service in (self.notifier, self.inserter, self.allocation):
            service.stop()


def _alive(service: ServiceProcess) -> bool:
    return service.process is not None and service.process.poll() is None


@contextmanager
def service_processes(
    env: HeraldEnv, inserter_settings: dict[str, str] = INSERTER_SETTINGS
) -> Iterator[FaultServices]:
    """The allocation API, the inserter and the notifier on `env`, running; stopped after."""
    allocation_port, inserter_port, notifier_port = free_port(), free_port(), free_port()
    services = FaultServices(
        env=env,
        allocation=allocation_process(env, allocation_port),
        inserter=inserter_process(env, inserter_port, inserter_settings),
        notifier=notifier_process(env, notifier_port, NOTIFIER_SETTINGS),
        allocation_port=allocation_port,
        inserter_port=inserter_port,
        notifier_port=notifier_port,
    )
    try:
        services.ensure_running()
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="session")
def fault_services(fault_env: HeraldEnv) -> Iterator[FaultServices]:
    with service_processes(fault_env) as services:
        yield services


@pytest.fixture(autouse=True)
def _restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, whatever it killed runs again, so the next test starts whole."""
    yield
    if "fault_stack" in request.fixturenames:
        stack: FaultStack = request.getfixturevalue("fault_stack")
        if not stack.up():
            stack.stack.run("start")
    if "fault_services" in request.fixturenames:
        request.getfixturevalue("fault_services").ensure_running()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A test's measured figures, printed in the run's summary."""
    values: dict[str, Any] = {}
    FIGURES.append((request.node.name, values))
    return values


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Which part each reliability scenario belongs to, from its markers (not its
    keywords, which hold its directories' names too)."""
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        part = next((name for name in PARTS if name in marks), None)
        if part is not None:
            PART_OF[item.nodeid] = part


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    part = PART_OF.get(report.nodeid)
    if part is None:
        return
    entry = DURATIONS.setdefault(report.nodeid, [part, 0.0, "passed"])
    entry[1] += report.duration
    if report.failed:
        entry[2] = "failed"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, values in FIGURES:
            shown = ", ".join(f"{key}={value}" for key, value in values.items())
            terminalreporter.write_line(f"{name}: {shown}")
    if DURATIONS:
        terminalreporter.section("reliability durations")
        totals: dict[str, float] = {}
        for nodeid, (part, seconds, outcome) in DURATIONS.items():
            totals[part] = totals.get(part, 0.0) + seconds
            terminalreporter.write_line(f"{seconds:7.1f} s  {part:11} {outcome:6}  {nodeid}")
        shown = ", ".join(f"{part} {seconds:.0f} s" for part, seconds in totals.items())
        terminalreporter.write_line(f"total: {shown}")
