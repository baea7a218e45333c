"""What million and pushduring share: the large database, its stack, and PostgreSQL readings.

The large database is this run's second one (`BenchRun.of_size`), seeded once with
`herald demo seed --employees N` and used by both scenarios; an allocation "to everyone"
there is one to N employees.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.pg import fetch
from bench.processes import cpu_seconds
from bench.scenarios.allocation_stack import AllocationStack, start_stack
from herald_common.events import VOUCHER_ALLOCATED

# One Kafka transaction may have to hold a whole allocation (while the inserter writes it
# in one): the budget is raised so that the scenario measures how long the write takes
# rather than the default budget of 60 s. The report records it.
INSERTER_ENV = {"HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS": "600"}


@dataclass(frozen=True)
class LargeSetup:
    run: BenchRun
    employees: list[tuple[str, str]]
    stack: AllocationStack
    seed_seconds: float | None


async def large_setup(run: BenchRun, config: BenchConfig, prefix: str) -> LargeSetup:
    big = await run.of_size(config.million_employees)
    employees = big.employee_ids()
    # Topics (and so consumer groups) of the scenario's own: a worker of the same group
    # that stopped a moment ago would still hold its static membership.
    stack = await start_stack(big, prefix, INSERTER_ENV, await big.own_topics(prefix))
    return LargeSetup(big, employees, stack, big.seed_seconds.get(config.million_employees))


async def database_state(url: str) -> dict[str, Any]:
    """WAL position, the database's size and each table's (with indexes and TOAST)."""
    ((lsn, size, newest),) = await fetch(
        url,
        "SELECT pg_current_wal_lsn()::text, pg_database_size(current_database()),"
        " (SELECT coalesce(max(id), 0) FROM notifications_per_employee)",
    )
    tables = await fetch(
        url,
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    )
    return {
        "wal_lsn": lsn,
        "database_bytes": int(size),
        "max_notification_id": int(newest),
        "tables": {str(name): int(size) for name, size in tables},
    }


async def wal_bytes(url: str, before: str, after: str) -> int:
    ((diff,),) = await fetch(url, "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (after, before))
    return int(diff)


async def written(
    url: str, before: dict[str, Any], after: dict[str, Any], rows: int
) -> dict[str, Any]:
    """Bytes the allocation added: WAL (the whole server's), the database, each table."""
    wal = await wal_bytes(url, before["wal_lsn"], after["wal_lsn"])
    growth = {
        name: size - before["tables"].get(name, 0)
        for name, size in after["tables"].items()
        if size != before["tables"].get(name, 0)
    }
    database = after["database_bytes"] - before["database_bytes"]
    return {
        "wal_bytes": wal,
        "wal_bytes_per_employee": wal / rows if rows else None,
        "database_bytes": database,
        "database_bytes_per_employee": database / rows if rows else None,
        "table_growth_bytes": growth,
    }


def inbox_sample(employee_ids: list[str], count: int) -> list[str]:
    """`count` employees evenly spread in id order, the first and the last included."""
    if count >= len(employee_ids):
        return list(employee_ids)
    step = (len(employee_ids) - 1) / max(count - 1, 1)
    return sorted({employee_ids[round(i * step)] for i in range(count)})


PROBE_APPLICATION = "herald-bench-inbox-probe"


@dataclass
class InboxProbe:
    """When the allocation's notifications become visible in a sample of inboxes.

    Polls, every 50 ms, how many of the sampled employees have a voucher notification above
    the newest id before the POST, the way the inbox reads them (by employee and id). The
    first sample that shows one is the first notification in the inbox; the first that
    shows all of them is the last, since the sample holds the first and the last employee
    in id order, the order in which the inserter draws ids.
    """

    url: str
    sample: list[str]
    after_id: int
    interval: float = 0.05
    progress: list[tuple[float, int]] = field(default_factory=list)
    stopped: bool = False
    # Its connection's backend, once connected: the benchmark's, not the server's, CPU.
    backend: asyncio.Future[int] = field(default_factory=asyncio.Future)
    # PostgreSQL CPU of its polls, once it ended (its backend ends with it).
    cpu_seconds: float | None = None

    @property
    def first_at(self) -> float | None:
        return next((t for t, n in self.progress if n > 0), None)

    @property
    def all_at(self) -> float | None:
        return next((t for t, n in self.progress if n >= len(self.sample)), None)

    def stop(self) -> None:
        self.stopped = True

    async def finish(self, running: asyncio.Task[None], timeout: float) -> None:
        """Let the probe see the last inboxes, then stop it.

        A poll takes up to ~1.5 s while the COPY holds both cores, so the allocation may
        complete while a poll that started before its last commit still runs; stopping
        then would report no last notification at all.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(running), timeout)
        self.stop()
        await running

    async def run(self) -> None:
        try:
            connecting = await AsyncConnection.connect(
                self.url, autocommit=True, application_name=PROBE_APPLICATION
            )
        except BaseException as failed:
            self.backend.set_exception(failed)  # whoever waits for it hears why
            raise
        async with connecting as conn:
            # The tables' statistics are those of before the allocation (nearly no
            # notifications), so the planner scanned them whole on every poll (683 ms a
            # poll with 280,000 rows written): 20 s of CPU in a run of 32, taken from the
            # allocation it measures. By the inbox's index, (employee_id, id), a poll
            # takes 0.4 ms.
            await conn.execute("SET enable_seqscan = off")
            self.backend.set_result(conn.info.backend_pid)
            cpu_before = cpu_seconds(conn.info.backend_pid)
            try:
                await self._poll(conn)
            finally:
                self.cpu_seconds = cpu_seconds(conn.info.backend_pid) - cpu_before

    async def _poll(self, conn: AsyncConnection[Any]) -> None:
        while not self.stopped:
            # The query sees what had committed when it started (autocommit: its own
            # snapshot), so that is when it saw it, however long it took to answer.
            started = time.time()
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM unnest(%(sample)s::text[]) AS e(id) WHERE EXISTS"
                    " (SELECT 1 FROM notifications_per_employee r WHERE r.employee_id = e.id"
                    " AND r.id > %(after)s AND r.content_id = ANY (ARRAY("
                    # The contents written since: a handful, looked up once per poll.
                    " SELECT c.id FROM notification_contents c"
                    " WHERE c.kind = %(kind)s AND c.id > %(after)s)))",
                    {"sample": self.sample, "after": self.after_id, "kind": VOUCHER_ALLOCATED},
                )
            ).fetchone()
            visible = int(row[0]) if row else 0
            if not self.progress or self.progress[-1][1] != visible:
                self.progress.append((started, visible))
            if visible >= len(self.sample):
                return
            await asyncio.sleep(self.interval)
