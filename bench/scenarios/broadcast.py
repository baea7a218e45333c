"""broadcast: one department's events to every watcher of its channel.

One notifier holds the connections, each a department watcher: an hr-admin's stream with
`channels=private-department-<D>`, D being the largest department. The benchmark writes
each round's notifications the way the inserter does (decision 0033): writer lock, ids and
previous ids drawn in the transaction, `copy_notifications` with the department's
visibility, the events sent with the inserter's `EventPublisher` inside a Kafka transaction
that commits right after the database. So the inbox holds every event a watcher could
read there, as in production. A warm-up round of one event runs first; the measured burst
is `events` notifications to employees of D, each for every watcher.

Figures: deliveries/s (from the Kafka commit to the last receipt); the notifier's own CPU
per delivery (user + system from /proc over the burst: the figure a shared machine does not
distort); PostgreSQL's CPU over the burst (its backends of the run's database, the
benchmark's own write included: bench/server_cpu.py); the transactions PostgreSQL counted
on the run's database over the burst (`pg_stat_database`, every client's, the benchmark's
own write included; a query through a pool counts two, the pool's connection check and the
query); the notifier's gap reads (its
`herald_notifier_gap_reads_total`) and the inbox queries they made
(`herald_notifier_gap_queries_total`, where the notifier counts them); and whether every
watcher got every event once, in increasing id order.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any
from uuid import uuid4

import httpx
from psycopg import AsyncConnection

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.inserter_writes import inserter_publisher, write_and_publish
from bench.pg import fetch
from bench.processes import LoadGeneratorProcess
from bench.prometheus import samples, scrape
from bench.server_cpu import POSTGRESQL, ServerCpu
from herald_common.events import VOUCHER_ALLOCATED


async def _write_and_publish(
    run: BenchRun, recipients: list[str], serial: int
) -> tuple[float, list[int]]:
    """One round's notifications, written and published as the inserter does; the time the
    Kafka commit was sent and the ids."""
    async with (
        inserter_publisher(run, "broadcast") as publisher,
        await AsyncConnection.connect(run.database_url) as conn,
        publisher.transaction(),
    ):
        async with conn.transaction():
            rows, _ = await write_and_publish(
                conn,
                publisher,
                run.topics.voucher_allocated,
                recipients,
                uuid4(),
                serial,
                visibility="department",
            )
        # The database has committed; Kafka commits as the block ends.
        commit_sent = time.time()
    return commit_sent, [row.notification_id for row in rows]


async def _transactions(run: BenchRun) -> int:
    rows = await fetch(
        run.database_url,
        "SELECT xact_commit + xact_rollback FROM pg_stat_database"
        " WHERE datname = current_database()",
    )
    return int(rows[0][0])


async def _counters(client: httpx.AsyncClient, port: int) -> dict[str, float]:
    """The notifier's gap reads (streams that read) and gap queries (0 where not counted)."""
    text = await scrape(client, f"http://127.0.0.1:{port}/metrics")
    return {
        name: sum(samples(text, f"herald_notifier_{name}_total").values())
        for name in ("gap_reads", "gap_queries")
    }


def check_streams(by_stream: list[list[str]], ids: list[int]) -> dict[str, int]:
    """How many watchers got exactly `ids` in order, and how many missed, repeated or
    reordered some."""
    expected = [str(i) for i in ids]
    counts: Counter[str] = Counter()
    for got in by_stream:
        if got == expected:
            counts["exact"] += 1
        elif len(set(got)) < len(got):
            counts["duplicated"] += 1
        elif set(got) != set(expected):
            counts["missing"] += 1
        else:
            counts["out_of_order"] += 1
    return {key: counts[key] for key in ("exact", "missing", "duplicated", "out_of_order")}


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    everyone = run.employee_ids()
    sizes = Counter(dept for _, dept in everyone)
    department = sizes.most_common(1)[0][0]
    watchers = [emp for emp, _ in everyone[: config.broadcast_connections]]
    members = [emp for emp, dept in everyone if dept == department]
    events = config.broadcast_events
    service, port = run.notifier("broadcast-notifier")
    loadgen: LoadGeneratorProcess | None = None
    try:
        service.start()
        await service.wait_http(f"http://127.0.0.1:{port}/readyz")
        loadgen = LoadGeneratorProcess(
            host="127.0.0.1",
            streams=[(port, run.token(emp, ["employee", "hr-admin"])) for emp in watchers],
            kinds=[VOUCHER_ALLOCATED],
            work_dir=run.work_dir / "broadcast",
            path=f"/v1/stream?channels=private-department-{department}",
        )
        connected = await loadgen.start()
        timeout = config.deliveries_timeout_seconds
        await loadgen.arm(per_stream=1)
        await _write_and_publish(run, members[:1], 0)
        warm_up = await loadgen.wait(timeout)
        await asyncio.sleep(config.broadcast_settle_seconds)
        async with httpx.AsyncClient() as client:
            await loadgen.arm(per_stream=events, by_stream=True)
            counters_before = await _counters(client, port)
            transactions_before = await _transactions(run)
            cpu = ServerCpu({"notifier": service.pid}, run.database_url)
            await cpu.start()
            recipients = [members[i % len(members)] for i in range(events)]
            # One notification per recipient and round: a round's ids are one employee's each.
            commit_sent, ids = await _write_and_publish(run, recipients, 1)
            result = await loadgen.wait(timeout)
            spent = await cpu.stop()
            await asyncio.sleep(config.broadcast_settle_seconds)
            transactions = await _transactions(run) - transactions_before
            counters = await _counters(client, port)
        received = result["received"]
        last = result["last"]
        seconds = last - commit_sent if last else None
        return {
            "connections": len(watchers),
            "connected": connected,
            "department": department,
            "department_employees": len(members),
            "events": len(ids),
            "deliveries_expected": len(watchers) * len(ids),
            "deliveries": received,
            "complete": result["complete"],
            "warm_up_complete": warm_up["complete"],
            "watchers": check_streams(result["by_stream"], sorted(ids)),
            "seconds": seconds,
            "deliveries_per_second": received / seconds if seconds else None,
            "server_cpu_seconds": spent["notifier"],
            "server_cpu_us_per_delivery": spent["notifier"] / received * 1e6 if received else None,
            "postgresql_cpu_seconds": spent[POSTGRESQL],
            "database_transactions": transactions,
            "gap_reads": counters["gap_reads"] - counters_before["gap_reads"],
            "gap_queries": counters["gap_queries"] - counters_before["gap_queries"],
            "streams_closed_by_server": result["closed_while_open"],
            "loadgen_cpu_seconds": result["cpu_seconds"],
            "notifier_rss_bytes": service.rss(),
        }
    finally:
        if loadgen is not None:
            await loadgen.stop()
        service.stop()
