"""million: one allocation to a million employees, with 10,000 of them holding streams.

A database of its own is seeded with `herald demo seed --employees 1000000`; the allocation
API, the inserter and a notifier run on it as processes, and the load generator holds the
streams of employees spread evenly over the directory. After a small warm-up allocation,
one allocation to everyone is POSTed and measured:

- the first and the last notification in the inbox (`InboxProbe`: a sample of inboxes,
  the first and the last employee included, polled every 50 ms);
- the first and the last stream's event;
- the marks and phases of e2e (bench/scenarios/allocation_stack.py);
- the inserter's peak RSS (VmHWM, which includes its start and the warm-up);
- WAL bytes (pg_current_wal_lsn before and after: the whole server's, so other databases'
  writes in the meantime count too), the database's growth and each table's;
- server CPU (the three services and PostgreSQL's backends of this database) per employee.

A run that does not finish in `million_timeout_seconds` still reports how far it got.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.scenarios.allocation_stack import session, settle
from bench.scenarios.e2e import one_allocation
from bench.scenarios.million_run import (
    INSERTER_ENV,
    InboxProbe,
    database_state,
    inbox_sample,
    large_setup,
    written,
)
from bench.workload import spread
from herald_common.events import VOUCHER_ALLOCATED

# How long the inbox probe may go on once the allocation completed: its last notifications
# committed by then, and a poll under load takes ~1.5 s.
INBOX_SETTLE_SECONDS = 10.0


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    large = await large_setup(run, config, "million")
    big, employees, stack = large.run, large.employees, large.stack
    try:
        streams = [emp for emp, _ in spread(employees, config.million_streams)]
        async with session(big, stack, employees, streams, VOUCHER_ALLOCATED, "million") as open_:
            await settle(open_.client, stack.notifier_metrics)
            before = await database_state(big.database_url)
            rss_before = stack.inserter.rss()
            probe = InboxProbe(
                big.database_url,
                inbox_sample([e for e, _ in employees], config.million_inbox_sample),
                before["max_notification_id"],
            )
            probing = asyncio.create_task(probe.run())
            probe_backend = await probe.backend
            try:
                measured = await one_allocation(
                    big,
                    open_,
                    len(employees),
                    "A million",
                    f"bench-{big.run_id}-million",
                    config.million_timeout_seconds,
                    frozenset({probe_backend}),
                )
            except BaseException:
                probe.stop()
                await probing
                raise
            await probe.finish(probing, INBOX_SETTLE_SECONDS if measured["complete"] else 0)
            after = await database_state(big.database_url)
        post = measured["post_at"]
        peak = None
        with contextlib.suppress(OSError, RuntimeError):
            peak = stack.inserter.peak_rss()
        first_in_inbox, last_in_inbox = probe.first_at, probe.all_at
        return {
            "employees": len(employees),
            "streams": config.million_streams,
            "connected": open_.connected,
            "seed_seconds": large.seed_seconds,
            "inserter_environment": INSERTER_ENV,
            "complete": measured["complete"],
            "status": measured["status"],
            "notifications": measured["notifications"],
            "first_in_inbox_seconds": first_in_inbox - post if first_in_inbox else None,
            "last_in_inbox_seconds": last_in_inbox - post if last_in_inbox else None,
            "first_stream_seconds": measured["first_delivery_seconds"],
            "last_stream_seconds": measured["total_seconds"],
            "phases_seconds": measured["phases"],
            "marks_seconds": measured["marks"],
            "inserter_phase_seconds": measured["inserter_phase_seconds"],
            "inserter_rss_before_bytes": rss_before,
            "inserter_peak_rss_bytes": peak,
            **await written(big.database_url, before, after, measured["notifications"]),
            "server_cpu_seconds": measured["server_cpu_seconds"],
            "server_cpu_us_per_employee": measured["server_cpu_us_per_employee"],
            "inbox_sample": len(probe.sample),
            # PostgreSQL CPU of the probe's polls over the allocation (not in the server's).
            "inbox_probe_cpu_seconds": probe.cpu_seconds,
            "inbox_progress": [[t - post, n] for t, n in probe.progress],
            "run": measured,
        }
    finally:
        big.stop_services()
