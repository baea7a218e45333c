"""pushduring: an hr-admin's push to one employee while a million-employee allocation is
being written.

On the million scenario's database (`million_run`), with the allocation API, the inserter
and a notifier as processes and one open stream, that of the employee in the middle of the
directory (who is also one of the allocation's recipients). After a warm-up allocation:

1. a push to that employee alone (`POST /v1/notifications`), timed from the POST to the
   event on the stream: the reference, with nothing else going on;
2. an allocation to everyone is POSTed; once a write transaction of the inserter's is
   seen in `pg_stat_activity` (polled every 10 ms), the same push is POSTed again and timed
   the same way. The allocation's marks say whether it was still being written when the push
   arrived (`allocation_completed_after_push_seconds` > 0).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import uuid4

import httpx

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.processes import LoadGeneratorProcess
from bench.scenarios.allocation_stack import (
    allocation_body,
    allocation_row,
    post,
    post_allocation,
    session,
    settle,
    writing_began,
)
from bench.scenarios.million_run import INSERTER_ENV, large_setup
from herald_common.events import NOTIFICATION_PUSHED


async def _timed_push(
    client: httpx.AsyncClient,
    api: str,
    admin: str,
    loadgen: LoadGeneratorProcess,
    employee: str,
    timeout: float,
) -> dict[str, Any]:
    """POST a push to one employee; (POST, receipt on the stream) on the real-time clock."""
    await loadgen.arm(per_stream=1)
    sent = time.time()
    push_id = await post(
        client,
        f"{api}/v1/notifications",
        admin,
        {
            "title": "Benchmark push",
            "body": "Sent while others wait",
            "target": {"employee_ids": [employee]},
        },
        f"bench-push-{uuid4().hex}",
    )
    received = await loadgen.wait(timeout)
    first = received["first"]
    return {
        "push_id": str(push_id),
        "sent": sent,
        "received": first,
        "seconds": first - sent if received["complete"] and first else None,
    }


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    large = await large_setup(run, config, "pushduring")
    big, employees, stack = large.run, large.employees, large.stack
    target = employees[len(employees) // 2][0]
    timeout = config.million_timeout_seconds
    try:
        async with session(
            big, stack, employees, [target], NOTIFICATION_PUSHED, "pushduring"
        ) as open_:
            client, admin, loadgen = open_.client, open_.admin, open_.loadgen
            await settle(client, stack.notifier_metrics)
            alone = await _timed_push(client, stack.api, admin, loadgen, target, timeout)
            await settle(client, stack.notifier_metrics)
            allocation_post = time.time()
            allocation_id = await post_allocation(
                client,
                stack.api,
                admin,
                allocation_body("A million, and a push", {"all_employees": True}, len(employees)),
                f"bench-{big.run_id}-pushduring",
            )
            began = await writing_began(big.database_url, allocation_id, allocation_post, timeout)
            during = await _timed_push(client, stack.api, admin, loadgen, target, timeout)
            row = await allocation_row(
                big.database_url, allocation_id, max(5.0, allocation_post + timeout - time.time())
            )
        received, completed = during["received"], row["completed"]
        return {
            "employees": len(employees),
            "stream_employee": target,
            "connected": open_.connected,
            "inserter_environment": INSERTER_ENV,
            "push_alone_seconds": alone["seconds"],
            "push_during_seconds": during["seconds"],
            "push_sent_after_allocation_post_seconds": during["sent"] - allocation_post,
            # None: the allocation was done before its write was seen (a small one).
            "allocation_writing_after_post_seconds": (
                began - allocation_post if began is not None else None
            ),
            "allocation_completed_after_push_seconds": (
                completed - received if completed is not None and received is not None else None
            ),
            "allocation_status": row["status"],
            "allocation_matched": row["matched"],
            "allocation_seconds": completed - allocation_post if completed is not None else None,
            "pushes": {"alone": alone, "during": during},
        }
    finally:
        big.stop_services()
