"""e2e: one allocation to every employee, while a separate process holds open streams.

The allocation API, the inserter and a notifier run as real processes on this run's
database and topics. The load generator opens the streams (Bearer JWTs) and waits, per run,
until every stream has received its voucher event. A run is timed from just before the
`POST /v1/allocations` is sent until the last stream got its event.

The time is split at marks that each come from one clock (the machine's real-time clock,
read by the benchmark, PostgreSQL and the load generator alike):

    post        the benchmark sends the POST
    inserting   allocations.inserting_at: the inserter's write transaction began
    resolved    notifications.created_at: taken by the inserter once the employees are resolved
    inserted    allocations.inserted_at: both COPYs done (clock_timestamp(), before commit)
    published   allocations.published_at: set once the Kafka transaction committed (the
                events themselves are sent while the COPY runs, decision 0033)
    consumed    the notifier's herald_notifier_events_consumed_total has grown by the
                allocation's events (polled every 50 ms, so late by up to one poll)
    delivered   the load generator received the event on the last of the streams

Phases are the gaps between consecutive marks: request, resolve, copy, publish, consume,
fan-out; they add up to the total. The notifier consumes and delivers while the inserter
is still publishing, so `consume` and `fan-out` are only what remains after the previous
mark (each mark is clamped between the previous one and `delivered`); the overlapping
spans (first delivery, delivery span) are reported beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from psycopg import AsyncConnection

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.processes import LoadGeneratorProcess, free_port
from bench.prometheus import phase_sums, samples, scrape
from bench.workload import VOUCHER, median, spread
from herald_common.events import VOUCHER_ALLOCATED

_POLL_SECONDS = 0.05


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


async def _consumed(client: httpx.AsyncClient, metrics_url: str) -> float:
    text = await scrape(client, metrics_url)
    return sum(samples(text, "herald_notifier_events_consumed_total").values())


async def _lag(client: httpx.AsyncClient, metrics_url: str) -> float:
    text = await scrape(client, metrics_url)
    return sum(samples(text, "herald_notifier_consumer_lag_records").values())


async def _watch_consumed(
    client: httpx.AsyncClient, metrics_url: str, target: float, deadline: float
) -> float | None:
    """When the notifier's consumed count first reached `target` (time of the answer)."""
    while time.time() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if await _consumed(client, metrics_url) >= target:
                return time.time()
        await asyncio.sleep(_POLL_SECONDS)
    return None


async def _allocation_row(url: str, allocation_id: UUID, timeout: float) -> dict[str, Any]:
    """The allocation's timings once it completed (or failed), with its notifications' time."""
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
            if row is not None and row[5] is not None:
                break
            if time.time() > deadline:
                raise TimeoutError(f"allocation {allocation_id} did not complete: {row}")
            await asyncio.sleep(0.1)
        created = await (
            await conn.execute(
                "SELECT min(created_at), max(created_at) FROM notifications"
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
    }


def _allocation_body(name: str, criteria: dict[str, Any], recipients: int) -> dict[str, Any]:
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


async def _post(
    client: httpx.AsyncClient, api: str, admin: str, body: dict[str, Any], key: str
) -> UUID:
    response = await client.post(
        f"{api}/v1/allocations",
        json=body,
        headers={"Authorization": f"Bearer {admin}", "Idempotency-Key": key},
        timeout=30,
    )
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/allocations answered {response.status_code}: {response.text}")
    return UUID(response.json()["id"])


def _phases(marks: dict[str, float | None]) -> dict[str, float]:
    """Gaps between consecutive marks, each clamped between the previous one and delivery.

    Clamping keeps the phases adding up to the total when stages overlap: the last stream
    can have its event before the inserter recorded `published` (the notifier delivers
    while the last acknowledgements are on their way), or before the notifier read the
    allocation's last record (one meant for someone without a stream). Polling can also
    see `consumed` late.
    """
    names = ("inserting", "resolved", "inserted", "published", "consumed")
    post, delivered = marks["post"], marks["delivered"]
    if post is None or delivered is None or any(marks[n] is None for n in names[:-1]):
        return {}
    phases = {}
    previous = post
    for phase, name in zip(
        ("request", "resolve", "copy", "publish", "consume"), names, strict=True
    ):
        mark = marks[name]
        at = min(max(mark if mark is not None else previous, previous), delivered)
        phases[phase] = at - previous
        previous = at
    phases["fanout"] = delivered - previous
    return phases


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    employees = run.employee_ids()
    api_port, notifier_port, inserter_port = free_port(), free_port(), free_port()
    allocation = run.service(
        "e2e-allocation",
        "herald_allocation",
        {
            "HERALD_ALLOCATION_PORT": str(api_port),
        },
    ).start()
    inserter = run.service(
        "e2e-inserter",
        "herald_inserter",
        {
            "HERALD_INSERTER_WEB_PORT": str(inserter_port),
        },
    ).start()
    notifier = run.service(
        "e2e-notifier",
        "herald_notifier",
        {
            "HERALD_NOTIFIER_PORT": str(notifier_port),
            "HERALD_NOTIFIER_REPLICA_ID": "e2e-notifier",
        },
    ).start()
    api = f"http://127.0.0.1:{api_port}"
    notifier_metrics = f"http://127.0.0.1:{notifier_port}/metrics"
    inserter_metrics = f"http://127.0.0.1:{inserter_port}/metrics"
    loadgen: LoadGeneratorProcess | None = None
    try:
        await asyncio.gather(
            allocation.wait_http(f"{api}/readyz"),
            notifier.wait_http(f"http://127.0.0.1:{notifier_port}/readyz"),
            inserter.wait_http(f"http://127.0.0.1:{inserter_port}/healthz"),
        )
        streams = spread(employees, config.e2e_streams)
        loadgen = LoadGeneratorProcess(
            host="127.0.0.1",
            streams=[(notifier_port, run.token(emp, ["employee"])) for emp, _ in streams],
            kinds=[VOUCHER_ALLOCATED],
            work_dir=run.work_dir / "e2e",
        )
        connected = await loadgen.start()
        admin = run.token("bench-hr-admin", ["hr-admin"])
        runs: list[dict[str, Any]] = []
        async with httpx.AsyncClient() as client:
            # A small allocation first: the inserter's agent, pools and producers warm up.
            smallest, size = Counter(d for _, d in employees).most_common()[-1]
            warm = await _post(
                client,
                api,
                admin,
                _allocation_body("Warm-up", {"departments": [smallest]}, size),
                f"bench-{run.run_id}-warm-up",
            )
            await _allocation_row(run.database_url, warm, 120)
            setup = Setup(
                client, loadgen, api, admin, notifier_metrics, inserter_metrics, len(employees)
            )
            for number in range(config.e2e_runs):
                runs.append(await _one_run(run, config, setup, number))
        totals = [r["total_seconds"] for r in runs if r["complete"]]
        phases = {
            name: median([r["phases"][name] for r in runs if r["complete"] and r["phases"]])
            for name in ("request", "resolve", "copy", "publish", "consume", "fanout")
        }
        return {
            "employees": len(employees),
            "streams": config.e2e_streams,
            "connected": connected,
            "runs": runs,
            "complete_runs": len(totals),
            "median_seconds": median(totals) if len(totals) == len(runs) else None,
            "median_phases_seconds": phases,
            "notifier_rss_bytes": notifier.rss(),
        }
    finally:
        if loadgen is not None:
            await loadgen.stop()
        run.stop_services()


@dataclass(frozen=True)
class Setup:
    client: httpx.AsyncClient
    loadgen: LoadGeneratorProcess
    api: str
    admin: str  # an hr-admin's token
    notifier_metrics: str
    inserter_metrics: str
    employees: int


async def _one_run(run: BenchRun, config: BenchConfig, setup: Setup, number: int) -> dict[str, Any]:
    client, loadgen, api, admin = setup.client, setup.loadgen, setup.api, setup.admin
    notifier_metrics, inserter_metrics = setup.notifier_metrics, setup.inserter_metrics
    # Start from a quiet system: nothing left for the notifier to read.
    for _ in range(100):
        if await _lag(client, notifier_metrics) == 0:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    phases_before = phase_sums(await scrape(client, inserter_metrics))
    consumed_before = await _consumed(client, notifier_metrics)
    await loadgen.arm(per_stream=1)
    timeout = config.deliveries_timeout_seconds
    post = time.time()
    watcher = asyncio.create_task(
        _watch_consumed(client, notifier_metrics, consumed_before + setup.employees, post + timeout)
    )
    try:
        allocation_id = await _post(
            client,
            api,
            admin,
            _allocation_body(
                f"Benchmark run {number + 1}", {"all_employees": True}, setup.employees
            ),
            f"bench-{run.run_id}-run-{number}",
        )
        accepted = time.time()
        received = await loadgen.wait(timeout)
        consumed = await watcher
    finally:
        watcher.cancel()
    row = await _allocation_row(run.database_url, allocation_id, timeout)
    phases_after = phase_sums(await scrape(client, inserter_metrics))
    marks: dict[str, float | None] = {
        "post": post,
        "accepted": accepted,
        "inserting": row["inserting"],
        "resolved": row["resolved"],
        "inserted": row["inserted"],
        "published": row["published"],
        "consumed": consumed,
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
        "complete": complete,
        "streams": received["streams"],
        "streams_with_event": received["complete_streams"],
        "events_received": received["received"],
        "total_seconds": delivered - post if complete and delivered else None,
        "phases": _phases(marks),
        "marks": {k: (v - post if v is not None else None) for k, v in marks.items()},
        "first_delivery_seconds": received["first"] - post if received["first"] else None,
        "delivery_span_seconds": (
            delivered - received["first"] if delivered and received["first"] else None
        ),
        "inserter_phase_seconds": {
            k: v - phases_before.get(k, 0.0) for k, v in phases_after.items()
        },
        "loadgen_cpu_seconds": received["cpu_seconds"],
    }
