"""The allocation path as processes (allocation API, inserter, notifier) and how scenarios
drive it: POST an allocation or a push, read the allocation's marks, split the time.

Shared by e2e, million and pushduring. Marks, read from one clock (the machine's real-time
clock: the benchmark, PostgreSQL and the load generator alike):

    post        the benchmark sends the POST
    inserting   allocations.inserting_at: the inserter's write transaction began
    resolved    min(notifications.created_at): taken by the inserter once the employees
                (of the first write, when it writes in several) are resolved
    inserted    allocations.inserted_at: the rows are written (clock_timestamp(), before commit)
    published   allocations.published_at: set once the Kafka transaction committed (the
                events themselves are sent while the COPY runs, decision 0033)
    consumed    the notifier's herald_notifier_events_consumed_total has grown by the
                allocation's events (polled every 50 ms, so late by up to one poll)
    delivered   the load generator received the event on the last of the streams
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from psycopg import AsyncConnection

from bench.environment import BenchRun
from bench.processes import LoadGeneratorProcess, Service, free_port
from bench.prometheus import samples, scrape
from bench.workload import VOUCHER
from herald_common.events import VOUCHER_ALLOCATED

POLL_SECONDS = 0.05
PHASES = ("request", "resolve", "copy", "publish", "consume", "fanout")
# The inserter's connections name themselves so (herald_common.db.create_pool).
INSERTER_APPLICATION = "herald-inserter"


@dataclass(frozen=True)
class AllocationStack:
    """The three processes of one scenario, ready, with their addresses."""

    allocation: Service
    inserter: Service
    notifier: Service
    api: str
    notifier_port: int
    notifier_metrics: str
    inserter_metrics: str

    def pids(self) -> dict[str, int]:
        return {
            "allocation": self.allocation.pid,
            "inserter": self.inserter.pid,
            "notifier": self.notifier.pid,
        }


async def start_stack(
    run: BenchRun,
    prefix: str,
    inserter_env: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> AllocationStack:
    """The three services on `run`'s database; `env` goes to all three (other topics)."""
    api_port, notifier_port, inserter_port = free_port(), free_port(), free_port()
    common = env or {}
    allocation = run.service(
        f"{prefix}-allocation",
        "herald_allocation",
        {**common, "HERALD_ALLOCATION_PORT": str(api_port)},
    ).start()
    inserter = run.service(
        f"{prefix}-inserter",
        "herald_inserter",
        {**common, "HERALD_INSERTER_WEB_PORT": str(inserter_port), **(inserter_env or {})},
    ).start()
    notifier = run.service(
        f"{prefix}-notifier",
        "herald_notifier",
        {
            **common,
            "HERALD_NOTIFIER_PORT": str(notifier_port),
            "HERALD_NOTIFIER_REPLICA_ID": f"{prefix}-notifier",
        },
    ).start()
    stack = AllocationStack(
        allocation,
        inserter,
        notifier,
        api=f"http://127.0.0.1:{api_port}",
        notifier_port=notifier_port,
        notifier_metrics=f"http://127.0.0.1:{notifier_port}/metrics",
        inserter_metrics=f"http://127.0.0.1:{inserter_port}/metrics",
    )
    await asyncio.gather(
        allocation.wait_http(f"{stack.api}/readyz"),
        notifier.wait_http(f"http://127.0.0.1:{notifier_port}/readyz"),
        inserter.wait_http(f"http://127.0.0.1:{inserter_port}/healthz"),
    )
    return stack


def stream_loadgen(
    run: BenchRun, stack: AllocationStack, employee_ids: list[str], kind: str, name: str
) -> LoadGeneratorProcess:
    """A load generator holding these employees' streams on the stack's notifier."""
    return LoadGeneratorProcess(
        host="127.0.0.1",
        streams=[(stack.notifier_port, run.token(e, ["employee"])) for e in employee_ids],
        kinds=[kind],
        work_dir=run.work_dir / name,
    )


@dataclass(frozen=True)
class Session:
    """Streams open on the stack's notifier, and an hr-admin's client."""

    client: httpx.AsyncClient
    loadgen: LoadGeneratorProcess
    stack: AllocationStack
    admin: str  # an hr-admin's token
    connected: dict[str, Any]


@asynccontextmanager
async def session(
    run: BenchRun,
    stack: AllocationStack,
    employees: list[tuple[str, str]],
    streams: list[str],
    kind: str,
    name: str,
) -> AsyncIterator[Session]:
    """The streams of `streams` open (counting events of `kind`), after a warm-up allocation."""
    loadgen = stream_loadgen(run, stack, streams, kind, name)
    try:
        connected = await loadgen.start()
        admin = run.token("bench-hr-admin", ["hr-admin"])
        async with httpx.AsyncClient() as client:
            await warm_up(client, run, stack.api, admin, employees, f"bench-{run.run_id}-{name}-w")
            yield Session(client, loadgen, stack, admin, connected)
    finally:
        await loadgen.stop()


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


async def consumed(client: httpx.AsyncClient, metrics_url: str) -> float:
    text = await scrape(client, metrics_url)
    return sum(samples(text, "herald_notifier_events_consumed_total").values())


async def lag(client: httpx.AsyncClient, metrics_url: str) -> float:
    text = await scrape(client, metrics_url)
    return sum(samples(text, "herald_notifier_consumer_lag_records").values())


async def settle(client: httpx.AsyncClient, metrics_url: str) -> None:
    """Start from a quiet system: nothing left for the notifier to read."""
    for _ in range(100):
        if await lag(client, metrics_url) == 0:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)


async def watch_consumed(
    client: httpx.AsyncClient, metrics_url: str, target: float, deadline: float
) -> float | None:
    """When the notifier's consumed count first reached `target` (time of the answer)."""
    while time.time() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if await consumed(client, metrics_url) >= target:
                return time.time()
        await asyncio.sleep(POLL_SECONDS)
    return None


async def allocation_row(url: str, allocation_id: UUID, timeout: float) -> dict[str, Any]:
    """The allocation's timings once it completed (or failed), with its notifications' time;
    past `timeout`, as far as it got (`completed` None)."""
    deadline = time.time() + timeout
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            row = await (
                await conn.execute(
                    "SELECT status, matched_count, inserting_at, inserted_at, published_at,"
                    " completed_at FROM allocations WHERE id = %s",
                    (allocation_id,),
                )
            ).fetchone()
            if row is None:
                raise RuntimeError(f"allocation {allocation_id} has no row")
            if row[5] is not None or time.time() > deadline:
                break
            await asyncio.sleep(0.1)
        created = await (
            await conn.execute(
                "SELECT min(created_at), max(created_at), count(*) FROM notifications"
                " WHERE allocation_id = %s AND kind = %s",
                (allocation_id, VOUCHER_ALLOCATED),
            )
        ).fetchone()
    assert created is not None
    return {
        "status": row[0],
        "matched": row[1],
        "inserting": _ts(row[2]),
        "inserted": _ts(row[3]),
        "published": _ts(row[4]),
        "completed": _ts(row[5]),
        "resolved": _ts(created[0]),
        "notifications": int(created[2]),
    }


async def writing_began(
    url: str, allocation_id: UUID, since: float, timeout: float
) -> float | None:
    """When the inserter's first write transaction since `since` began (its `xact_start`),
    seen as it runs (polled every 10 ms); None if the allocation completed first.

    The allocation's own row cannot say so: the inserter sets `inserting_at` in the same
    transaction as the rows, invisible until its commit. A transaction of the inserter's
    (application_name) that has written (it has an xid) is visible in pg_stat_activity.
    """
    deadline = time.time() + timeout
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        while time.time() < deadline:
            row = await (
                await conn.execute(
                    "SELECT (SELECT extract(epoch FROM min(xact_start)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = %s"
                    " AND backend_xid IS NOT NULL AND xact_start >= to_timestamp(%s)),"
                    " (SELECT completed_at FROM allocations WHERE id = %s)",
                    (INSERTER_APPLICATION, since, allocation_id),
                )
            ).fetchone()
            if row is not None and row[0] is not None:
                return float(row[0])
            if row is not None and row[1] is not None:
                return None
            await asyncio.sleep(0.01)
    return None


def allocation_body(name: str, criteria: dict[str, Any], recipients: int) -> dict[str, Any]:
    """A request as the console sends it: the reviewed recipient count confirmed."""
    return {
        "voucher": {
            "name": name,
            "amount": str(VOUCHER.amount),
            "currency": VOUCHER.currency,
            "expires_on": VOUCHER.expires_on.isoformat(),
            "code_prefix": VOUCHER.code_prefix,
        },
        "criteria": criteria,
        "confirmed_recipients": recipients,
    }


async def post(
    client: httpx.AsyncClient, url: str, admin: str, body: dict[str, Any], key: str
) -> UUID:
    """POST an allocation or a push as an hr-admin; the accepted request's id."""
    response = await client.post(
        url,
        json=body,
        headers={"Authorization": f"Bearer {admin}", "Idempotency-Key": key},
        timeout=30,
    )
    if response.status_code != 202:
        raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text}")
    return UUID(response.json()["id"])


async def post_allocation(
    client: httpx.AsyncClient, api: str, admin: str, body: dict[str, Any], key: str
) -> UUID:
    return await post(client, f"{api}/v1/allocations", admin, body, key)


async def warm_up(
    client: httpx.AsyncClient,
    run: BenchRun,
    api: str,
    admin: str,
    employees: list[tuple[str, str]],
    key: str,
) -> None:
    """A small allocation (the smallest department): the agent, pools and producers warm up."""
    smallest, size = Counter(d for _, d in employees).most_common()[-1]
    warm = await post_allocation(
        client, api, admin, allocation_body("Warm-up", {"departments": [smallest]}, size), key
    )
    await allocation_row(run.database_url, warm, 300)


def phases(marks: dict[str, float | None]) -> dict[str, float]:
    """Gaps between consecutive marks, each clamped between the previous one and delivery.

    Clamping keeps the phases adding up to the total when stages overlap: the last stream
    can have its event before the inserter recorded `published` (the notifier delivers
    while the last acknowledgements are on their way), or before the notifier read the
    allocation's last record (one meant for someone without a stream). Polling can also
    see `consumed` late.
    """
    names = ("inserting", "resolved", "inserted", "published", "consumed")
    start, delivered = marks["post"], marks["delivered"]
    if start is None or delivered is None or any(marks[n] is None for n in names[:-1]):
        return {}
    found = {}
    previous = start
    for phase, name in zip(PHASES[:-1], names, strict=True):
        mark = marks[name]
        at = min(max(mark if mark is not None else previous, previous), delivered)
        found[phase] = at - previous
        previous = at
    found["fanout"] = delivered - previous
    return found
