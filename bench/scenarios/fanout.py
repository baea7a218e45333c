"""fanout: deliveries per second from notifier processes to open streams.

The load generator holds the connections. With several processes, process i reads share i
of n of the partitions (docs/decisions/0078) and each stream goes where the gateway would
send it: to the share of the department in its token's claim (herald_gateway's
`stream_share_of`, the function the gateway routes with), so the split follows the
departments' sizes, not an even deal. The benchmark
injects per-employee events on this run's `herald.voucher.allocated` with the inserter's
`EventPublisher`, inside one Kafka transaction: the notifiers read with read_committed, so
nothing is visible until the commit, and then every event is, at once. That is the burst
"as fast as possible": deliveries/s = events received by the load generator / (last
receipt - the moment the commit was sent).

A warm-up round of one event per connection runs first, also in a transaction.
One process of Herald and the floor take turns for `fanout_rounds` rounds, and the
median of each is reported beside every round's figures.
The same workload runs against Herald's notifier (1 process, then 2), against the plain
FastAPI + sse-starlette hub in bench/baseline_notifier.py, and against the floor in
bench/floor_notifier.py: fetch, route by header and write, nothing else.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.inserter_writes import inserter_publisher
from bench.processes import LoadGeneratorProcess, Service, cpu_seconds
from bench.server_cpu import ceiling
from bench.workload import median, notifications
from herald_common.events import SOURCE_INSERTER, VOUCHER_ALLOCATED
from herald_gateway.domain.stream_routing import stream_share_of

FIRST_ID = 10**12


async def _inject(
    run: BenchRun, name: str, employees: list[tuple[str, str]], rounds: int, first_id: int
) -> tuple[float, float, int]:
    """Publish `rounds` events per employee in one transaction; (commit sent, committed, count)."""
    async with inserter_publisher(run, name) as publisher:
        allocation_id = uuid4()
        events = notifications(employees, rounds * len(employees), first_id, allocation_id)
        async with publisher.transaction():
            sent = await publisher.publish_notifications(
                run.topics.voucher_allocated,
                events,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                created_at=datetime.now(UTC),
            )
            commit_sent = time.time()
        committed = time.time()
    return commit_sent, committed, sent


async def _start(services: list[tuple[Service, int]]) -> None:
    for service, _ in services:
        service.start()
    await asyncio.gather(
        *(service.wait_http(f"http://127.0.0.1:{port}/readyz") for service, port in services)
    )


async def measure(run: BenchRun, config: BenchConfig, kind: str, processes: int) -> dict[str, Any]:
    label = f"{kind}-{processes}"
    if kind == "herald":
        shares = [f"{i}/{processes}" if processes > 1 else "all" for i in range(processes)]
        services = [run.notifier(f"fanout-{label}-{i}", share) for i, share in enumerate(shares)]
    elif kind == "floor":
        services = [run.floor(f"fanout-{label}-{i}") for i in range(processes)]
    else:
        services = [run.baseline(f"fanout-{label}-{i}") for i in range(processes)]
    employees = run.employee_ids()[: config.fanout_connections]
    ports = [port for _, port in services]
    streams = []
    for i, (emp, department) in enumerate(employees):
        token = run.token(emp, ["employee"], department)
        if kind == "herald" and processes > 1:
            share = stream_share_of({}, f"Bearer {token}", None, processes)
            assert share is not None, "an employee's own stream has one share"
            streams.append((ports[share], token))
        else:
            streams.append((ports[i % len(ports)], token))
    loadgen: LoadGeneratorProcess | None = None
    try:
        await _start(services)
        loadgen = LoadGeneratorProcess(
            host="127.0.0.1",
            streams=streams,
            kinds=[VOUCHER_ALLOCATED],
            work_dir=run.work_dir / "fanout",
            name=f"loadgen-{label}",
        )
        connected = await loadgen.start()
        timeout = config.deliveries_timeout_seconds
        await loadgen.arm(per_stream=1)
        await _inject(run, f"{label}-warm-up", employees, 1, FIRST_ID)
        warm_up = await loadgen.wait(timeout)
        per_connection = config.fanout_events_per_connection
        await loadgen.arm(per_stream=per_connection)
        # The servers' own CPU over the burst (injection, delivery), from /proc: the figure a
        # shared machine does not distort (other work changes the rate, not this).
        cpu_before = [cpu_seconds(service.pid) for service, _ in services]
        commit_sent, committed, sent = await _inject(
            run, label, employees, per_connection, FIRST_ID + len(employees)
        )
        result = await loadgen.wait(timeout)
        cpu_per_process = [
            cpu_seconds(service.pid) - before
            for (service, _), before in zip(services, cpu_before, strict=True)
        ]
        server_cpu = sum(cpu_per_process)
        rss = [service.rss() for service, _ in services]
        last = result["last"]
        seconds = last - commit_sent if last else None
        rate = result["received"] / seconds if seconds else None
        return {
            "processes": processes,
            "connections": len(employees),
            "connected": connected,
            "events_per_connection": per_connection,
            "events_published": sent,
            "deliveries_expected": len(employees) * per_connection,
            "deliveries": result["received"],
            "complete": result["complete"],
            "warm_up_complete": warm_up["complete"],
            "seconds": seconds,
            "commit_seconds": committed - commit_sent,
            "first_delivery_seconds": result["first"] - commit_sent if result["first"] else None,
            "deliveries_per_second": rate,
            "deliveries_per_second_per_process": rate / processes if rate else None,
            # Streams per process, as the departments' shares split them.
            "streams_per_process": [sum(1 for p, _ in streams if p == port) for port in ports],
            "server_cpu_seconds": server_cpu,
            # The busiest process's CPU: the burst's length were each on a core of its own.
            "server_cpu_seconds_per_process": cpu_per_process,
            "server_cpu_us_per_delivery": (
                server_cpu / result["received"] * 1e6 if result["received"] else None
            ),
            "streams_closed_by_server": result["closed_while_open"],
            "loadgen_cpu_seconds": result["cpu_seconds"],
            "server_rss_bytes": rss,
        }
    finally:
        if loadgen is not None:
            await loadgen.stop()
        for service, _ in services:
            service.stop()


def scaling_ceiling(one: dict[str, Any] | None, two: dict[str, Any] | None) -> float | None:
    """The most 2 processes could deliver over what 1 did, on this machine's cores.

    The processes and the load generator share the cores: 2 processes deliver at most
    cores / (their CPU + the load generator's, per delivery), and no faster than the busiest
    of them can on a core of its own. Kafka and the injecting client are left out, so the
    ceiling is generous. A 2-vs-1 ratio above it cannot be measured here.
    """
    if not one or not two or not one["deliveries_per_second"] or not two["deliveries"]:
        return None
    deliveries = two["deliveries"]
    shared = ceiling(two["server_cpu_seconds"] + two["loadgen_cpu_seconds"], deliveries)
    busiest = max(two["server_cpu_seconds_per_process"])
    if shared is None or busiest <= 0:
        return None
    best = min(shared, deliveries / busiest)
    return float(best / one["deliveries_per_second"])


def _median_round(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose CPU per delivery is the median (the lower middle of an even count):
    a burst that was measured, not figures mixed from several."""
    ranked = sorted(measured, key=lambda m: m["server_cpu_us_per_delivery"] or 0.0)
    return ranked[(len(ranked) - 1) // 2]


async def _rounds_beside_the_floor(
    run: BenchRun, config: BenchConfig
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """One process of Herald's notifier and the floor, one burst each in turn, for
    `fanout_rounds` rounds: the median of each, and each round's figures.

    In turn, because the machine drifts: across four runs of this scenario the floor's CPU
    per delivery moved by 27%, so a Herald burst and a floor burst minutes apart measured
    the machine as much as the code."""
    heralds, floors, rounds = [], [], []
    for _ in range(config.fanout_rounds):
        herald = await measure(run, config, "herald", 1)
        floor = await measure(run, config, "floor", 1)
        heralds.append(herald)
        floors.append(floor)
        herald_cpu = herald["server_cpu_us_per_delivery"]
        floor_cpu = floor["server_cpu_us_per_delivery"]
        rounds.append(
            {
                "herald_cpu_us_per_delivery": herald_cpu,
                "floor_cpu_us_per_delivery": floor_cpu,
                "cpu_vs_floor": herald_cpu / floor_cpu if herald_cpu and floor_cpu else None,
                "herald_deliveries_per_second": herald["deliveries_per_second"],
                "floor_deliveries_per_second": floor["deliveries_per_second"],
            }
        )
    return _median_round(heralds), _median_round(floors), rounds


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    results: dict[str, Any] = {}
    herald_1, floor, rounds = await _rounds_beside_the_floor(run, config)
    results["herald_1"] = herald_1
    for processes in config.fanout_processes:
        if processes != 1:
            results[f"herald_{processes}"] = await measure(run, config, "herald", processes)
    results["baseline"] = await measure(run, config, "baseline", 1)
    results["floor"] = floor
    results["rounds"] = rounds
    one = results.get("herald_1", {}).get("deliveries_per_second")
    two = results.get("herald_2", {}).get("deliveries_per_second")
    baseline = results["baseline"]["deliveries_per_second"]
    results["ratio_vs_baseline"] = one / baseline if one and baseline else None
    results["scaling_2_vs_1"] = two / one if one and two else None
    # Herald's CPU per delivery over the floor's, in the same run: what Herald's checks,
    # inbox tallies, counts and cut-offs cost above fetching and writing.
    herald_cpu = results.get("herald_1", {}).get("server_cpu_us_per_delivery")
    floor_cpu = results["floor"]["server_cpu_us_per_delivery"]
    results["cpu_vs_floor"] = herald_cpu / floor_cpu if herald_cpu and floor_cpu else None
    # The same, round by round (each Herald burst over the floor's right after it): the
    # median of those ratios.
    ratios = sorted(r["cpu_vs_floor"] for r in rounds if r["cpu_vs_floor"])
    results["cpu_vs_floor_by_round"] = median(ratios) if ratios else None
    # The same ratio from CPU alone: 1 process's CPU over the busiest of 2's, what the rates'
    # ratio would be with a core for each process (on a shared machine the rates also
    # measure who else was running).
    one_cpu = results.get("herald_1", {}).get("server_cpu_seconds_per_process")
    two_cpu = results.get("herald_2", {}).get("server_cpu_seconds_per_process")
    results["scaling_2_vs_1_by_cpu"] = (
        max(one_cpu) / max(two_cpu) if one_cpu and two_cpu and max(two_cpu) else None
    )
    results["scaling_2_vs_1_ceiling"] = scaling_ceiling(
        results.get("herald_1"), results.get("herald_2")
    )
    return results
