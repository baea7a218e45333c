"""PostgreSQL's primary moves to another address (docs/decisions/0064): a primary and a
streaming replica made with pg_basebackup, both on loopback; the services are configured
with both in one multi-host URL (`target_session_attrs=read-write`). The primary dies, the
replica is promoted, and the services go on writing there without a restart or a change of
configuration, with notification ids still increasing.

The two servers are this test's own (Debian's PostgreSQL binaries, as stack.sh finds them),
so stopping one disturbs nobody.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from herald_common.migrate import apply_migrations
from herald_common.topics import delete_topics, ensure_topics
from tests.conftest import HeraldEnv, allocation_process, inserter_process
from tests.reliability.workload import Database, allocate, completed, departments, seed_employees
from tests.support.processes import free_port
from tests.support.stack import Infrastructure

pytestmark = [pytest.mark.reliability, pytest.mark.failover, pytest.mark.timeout(300)]

# stack.sh runs PostgreSQL as this account when started as root (PostgreSQL refuses root).
PG_OS_USER = "herald"
EMPLOYEES = 2_000
FAILOVER_DEPARTMENTS = departments("Failover", 2)


def pg_bindir() -> Path:
    if "HERALD_PG_BINDIR" in os.environ:
        return Path(os.environ["HERALD_PG_BINDIR"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    assert found, "no PostgreSQL under /usr/lib/postgresql (stack.sh installs it)"
    return found[-1]


class Server:
    """One PostgreSQL server of this test: a data directory, a port, its log."""

    def __init__(self, root: Path, name: str) -> None:
        self.data = root / name
        self.port = free_port()
        self.log = root / f"{name}.log"
        self.sockets = root

    def run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        subprocess.run(command, check=True, cwd="/", capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
        self.run(
            pg_bindir() / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self.run(pg_bindir() / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def promote(self) -> None:
        self.run(pg_bindir() / "pg_ctl", "-D", self.data, "-w", "promote")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def primary_and_replica() -> Iterator[tuple[Server, Server]]:
    root = Path(tempfile.mkdtemp(prefix="herald-failover-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, PG_OS_USER)
    primary, replica = Server(root, "primary"), Server(root, "replica")
    try:
        primary.run(
            pg_bindir() / "initdb", "-D", primary.data, "-U", "herald", "--auth=trust", "-E", "UTF8"
        )
        (primary.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
            "local replication all trust\nhost replication all 127.0.0.1/32 trust\n"
        )
        primary.start()
        with psycopg.connect(
            f"postgresql://herald@127.0.0.1:{primary.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE herald")
        apply_migrations(f"postgresql://herald@127.0.0.1:{primary.port}/herald")
        # The replica: a base backup that streams from the primary (-R writes the settings).
        replica.run(
            pg_bindir() / "pg_basebackup",
            "-h", "127.0.0.1", "-p", primary.port, "-U", "herald",
            "-D", replica.data, "-R", "-X", "stream",
        )  # fmt: skip
        replica.start()
        yield primary, replica
    finally:
        for server in (replica, primary):
            if server.running:
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


async def test_services_write_to_the_promoted_replica_through_configuration(
    primary_and_replica: tuple[Server, Server],
    infra: Infrastructure,
    tmp_path: Path,
    figures,
):
    primary, replica = primary_and_replica
    # One URL for both: libpq tries the hosts in order and keeps the one that takes writes.
    url = (
        f"postgresql://herald@127.0.0.1:{primary.port},127.0.0.1:{replica.port}/herald"
        "?target_session_attrs=read-write&connect_timeout=3"
    )
    env = HeraldEnv(
        infra=Infrastructure(infra.kafka_bootstrap, url),
        database_url=url,
        topic_prefix=f"test-failover-{secrets.token_hex(4)}.",
        log_dir=tmp_path,
        auth_secret=secrets.token_urlsafe(32),
        channel_auth_secret=secrets.token_urlsafe(32),
    )
    await ensure_topics(env.kafka, env.topics)
    seed_employees(env, "FO", FAILOVER_DEPARTMENTS, EMPLOYEES // len(FAILOVER_DEPARTMENTS))
    api_port, inserter_port = free_port(), free_port()
    api = allocation_process(env, api_port).start()
    worker = inserter_process(env, inserter_port).start()
    db = Database(url)
    try:
        api.wait_http(f"http://127.0.0.1:{api_port}/readyz")
        worker.wait_http(f"http://127.0.0.1:{inserter_port}/healthz")
        api_url = f"http://127.0.0.1:{api_port}"
        before = await allocate(env, api_url, FAILOVER_DEPARTMENTS, "Before the failover")
        await completed(db, before, 120)
        ids_before = await db.notification_ids(before)

        # The primary crashes; the replica is promoted (what Patroni or a managed service does).
        primary.stop("immediate")
        failed_at = time.monotonic()
        replica.promote()
        promoted = time.monotonic() - failed_at

        async def writes() -> str | None:
            async with httpx.AsyncClient(base_url=api_url, timeout=10, headers=env.admin) as c:
                ready = await c.get("/readyz")
            if ready.status_code != 200:
                return None
            return await allocate(env, api_url, FAILOVER_DEPARTMENTS, "After the failover")

        after = None
        deadline = time.monotonic() + 90
        while after is None:
            assert time.monotonic() < deadline, "no write reached the promoted replica in 90 s"
            try:
                after = await writes()
            except (httpx.HTTPError, AssertionError):
                after = None
            if after is None:
                await asyncio.sleep(0.5)
        first_write = time.monotonic() - failed_at
        await completed(db, after, 120)
        recovered = time.monotonic() - failed_at
        ids_after = await db.notification_ids(after)
    finally:
        worker.stop()
        api.stop()
        await delete_topics(env.kafka, env.topics)

    figures.update(
        employees=EMPLOYEES,
        promote_seconds=round(promoted, 1),
        first_write_seconds=round(first_write, 1),
        allocation_done_seconds=round(recovered, 1),
        id_gap=min(ids_after) - max(ids_before),
    )
    assert len(ids_before) == len(ids_after) == EMPLOYEES
    # Ids go on increasing on the new primary (a sequence may skip ahead, never back).
    assert min(ids_after) > max(ids_before)
