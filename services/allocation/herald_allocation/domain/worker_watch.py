"""Whether requests are being picked up: the "waiting for a worker" gauges.

An allocation that sits at `requested` says nothing by itself; with the inserter stopped
it would sit there for minutes. This watch counts the requests older than the wait limit
that no worker has started, and the outbox records not yet on Kafka, for the metrics
(and so for the alert rule next to the Grafana dashboard).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_allocation.metrics import AllocationMetrics
from herald_common.periodic import every

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backlog:
    waiting: int
    oldest_seconds: float
    outbox: int


async def read_backlog(
    pool: AsyncConnectionPool[AsyncConnection], worker_wait_seconds: float
) -> Backlog:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                # Sent when requested, approved, or its schedule came: whichever is last.
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(sent_at)), 0),"
                " (SELECT count(*) FROM outbox)"
                " FROM (SELECT greatest(requested_at, send_at, decided_at) AS sent_at"
                " FROM allocations WHERE status = 'requested') AS waiting"
                " WHERE sent_at < now() - make_interval(secs => %s)",
                (worker_wait_seconds,),
            )
        ).fetchone()
    assert row is not None
    return Backlog(waiting=int(row[0]), oldest_seconds=float(row[1]), outbox=int(row[2]))


async def watch_workers(
    pool: AsyncConnectionPool[AsyncConnection],
    metrics: AllocationMetrics,
    *,
    worker_wait_seconds: float,
    interval: float,
) -> None:
    """Refreshes the gauges until cancelled; a failed round is logged and tried again."""

    async def refresh() -> None:
        backlog = await read_backlog(pool, worker_wait_seconds)
        metrics.waiting_for_worker.set(backlog.waiting)
        metrics.oldest_waiting_seconds.set(backlog.oldest_seconds)
        metrics.outbox_pending.set(backlog.outbox)
        if backlog.waiting:
            logger.warning(
                "%d allocation(s) waiting for a worker, the oldest for %.0fs",
                backlog.waiting,
                backlog.oldest_seconds,
            )

    await every(interval, "worker watch", refresh)
