"""e2e: one allocation to every employee, while a separate process holds open streams.

The allocation API, the inserter and a notifier run as real processes on this run's
database and topics. The load generator opens the streams (Bearer JWTs) and waits, per run,
until every stream has received its voucher event. A run is timed from just before the
`POST /v1/allocations` is sent until the last stream got its event.

The time is split at the marks of bench/scenarios/allocation_stack.py. The first
notification is the time from the POST to the first stream's event. Phases are the gaps
between consecutive marks: request, resolve, copy, publish, consume, fan-out; they add up
to the total. The notifier consumes and delivers while the inserter is still publishing,
so `consume` and `fan-out` are only what remains after the previous mark (each mark is
clamped between the previous one and `delivered`); the overlapping spans (first delivery,
delivery span) are reported beside them. Server CPU (the three services and PostgreSQL's
backends of the run's database) is read over each run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.prometheus import phase_sums, scrape
from bench.scenarios.allocation_stack import (
    PHASES,
    Session,
    allocation_body,
    allocation_row,
    consumed,
    phases,
    post_allocation,
    session,
    settle,
    start_stack,
    watch_consumed,
)
from bench.server_cpu import ServerCpu, per_unit_us
from bench.workload import median, spread
from herald_common.events import VOUCHER_ALLOCATED


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    employees = run.employee_ids()
    stack = await start_stack(run, "e2e")
    try:
        streams = [emp for emp, _ in spread(employees, config.e2e_streams)]
        runs: list[dict[str, Any]] = []
        async with session(run, stack, employees, streams, VOUCHER_ALLOCATED, "e2e") as open_:
            for number in range(config.e2e_runs):
                await settle(open_.client, stack.notifier_metrics)
                runs.append(
                    await one_allocation(
                        run,
                        open_,
                        len(employees),
                        f"Benchmark run {number + 1}",
                        f"bench-{run.run_id}-run-{number}",
                        config.deliveries_timeout_seconds,
                    )
                )
        complete = [r for r in runs if r["complete"]]
        totals = [r["total_seconds"] for r in complete]
        return {
            "employees": len(employees),
            "streams": config.e2e_streams,
            "connected": open_.connected,
            "runs": runs,
            "complete_runs": len(totals),
            "median_seconds": median(totals) if len(totals) == len(runs) else None,
            "first_notification_median_seconds": median(
                [r["first_delivery_seconds"] for r in complete]
            ),
            "median_phases_seconds": {
                name: median([r["phases"][name] for r in complete if r["phases"]])
                for name in PHASES
            },
            "server_cpu_us_per_employee_median": median(
                [r["server_cpu_us_per_employee"] for r in complete]
            ),
            "notifier_rss_bytes": stack.notifier.rss(),
        }
    finally:
        run.stop_services()


async def one_allocation(
    run: BenchRun,
    open_: Session,
    employees: int,
    name: str,
    key: str,
    timeout: float,
    ignored_backends: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """One allocation to every employee, from the POST until every stream has its event.

    `ignored_backends`: the benchmark's own database connections, left out of the CPU."""
    client, loadgen, stack = open_.client, open_.loadgen, open_.stack
    phases_before = phase_sums(await scrape(client, stack.inserter_metrics))
    consumed_before = await consumed(client, stack.notifier_metrics)
    cpu = ServerCpu(stack.pids(), run.database_url, ignored_backends)
    await cpu.start()
    await loadgen.arm(per_stream=1)
    post = time.time()
    watcher = asyncio.create_task(
        watch_consumed(client, stack.notifier_metrics, consumed_before + employees, post + timeout)
    )
    try:
        allocation_id = await post_allocation(
            client,
            stack.api,
            open_.admin,
            allocation_body(name, {"all_employees": True}, employees),
            key,
        )
        accepted = time.time()
        received = await loadgen.wait(timeout)
        consumed_at = await watcher
    finally:
        watcher.cancel()
    row = await allocation_row(
        run.database_url, allocation_id, max(5.0, post + timeout - time.time())
    )
    server_cpu = await cpu.stop()
    phases_after = phase_sums(await scrape(client, stack.inserter_metrics))
    marks: dict[str, float | None] = {
        "post": post,
        "accepted": accepted,
        "inserting": row["inserting"],
        "resolved": row["resolved"],
        "inserted": row["inserted"],
        "published": row["published"],
        "consumed": consumed_at,
        "first_delivery": received["first"],
        "delivered": received["all_streams_at"],
        "completed": row["completed"],
    }
    complete = bool(received["complete"]) and row["status"] == "completed"
    delivered = received["all_streams_at"]
    return {
        "allocation_id": str(allocation_id),
        "status": row["status"],
        "matched": row["matched"],
        "notifications": row["notifications"],
        "complete": complete,
        "streams": received["streams"],
        "streams_with_event": received["complete_streams"],
        "events_received": received["received"],
        "post_at": post,
        "total_seconds": delivered - post if complete and delivered else None,
        "phases": phases(marks),
        "marks": {k: (v - post if v is not None else None) for k, v in marks.items()},
        "first_delivery_seconds": received["first"] - post if received["first"] else None,
        "delivery_span_seconds": (
            delivered - received["first"] if delivered and received["first"] else None
        ),
        "inserter_phase_seconds": {
            k: v - phases_before.get(k, 0.0) for k, v in phases_after.items()
        },
        "server_cpu_seconds": server_cpu,
        "server_cpu_us_per_employee": per_unit_us(server_cpu, row["matched"] or 0),
        # The inserter's share runs one chunk at a time: a floor under the write's time.
        "postgresql_cpu_by_application": cpu.postgresql_by_application(),
        "loadgen_cpu_seconds": received["cpu_seconds"],
    }
