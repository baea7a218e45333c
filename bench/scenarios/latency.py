"""latency: from database commit to receipt by the client, at a steady rate.

A notifier runs with the connections open. Events fall due at the steady rate, one tick's
worth (10 ms by default) at a time; the benchmark writes the events due the way the
inserter does (decision 0033): a Kafka transaction opens, the rows are written (writer
lock, ids drawn in the transaction, previous ids, `copy_notifications`) and their events
sent with the inserter's `EventPublisher` (acks=all), the database commits, then Kafka.
A write that takes longer than a tick takes everything due by then in the next, so the
rate holds. Each event goes to one connected employee, round-robin.

Commit time of a notification = the benchmark's clock read right after its `COMMIT`
returned: from then on the row is durable and visible to every reader. Latency = the load
generator's clock when the frame carrying that id arrived - that commit time. Both read
the same real-time clock of this machine. (The row's `created_at` is taken earlier, before
the COPY, so it would add the write itself; it is not used.) The same is reported from the
Kafka commit (the clock read once the transaction's commit returned), the moment a
read-committed consumer may first see the events: the issue's figure. Beside it, in the
same run: a bare consumer's (Kafka and the machine alone), and the fan-out floor's, which
goes on to the same load generator's streams (`_floor`): the least any notifier on this
stack adds.

With `latency_probe` (`--latency-probe`), the notifier runs under `bench.probe`, which
times its collector passes and its event loop's stalls; the report sets them beside the
run's slowest seconds. Not by default: the probe's 5 ms timer alone cost 18.4 ms of CPU a
second in an idle uvloop process (measured in isolation), and the floor carries no such
watcher, so Herald's figures would carry work that no deployment runs.

Before either is measured, the same writer runs at the same rate for
`latency_warmup_seconds`, with a bare consumer reading, to employees without a stream
(`_warm_up`). Herald is measured first and the floor second, and a broker whose JVM had not
yet compiled this traffic's paths spent more beside Herald: on a stack started minutes
before, the broker took 49% of a core during Herald's minute and 30% during the floor's, the
bare consumer's p99 was 10.4 ms beside Herald and 5.6 ms beside the floor; run again at
once, 24.7% and 23.8%, and 4.8 and 3.9 ms. The broker's CPU per event is reported beside
each (`broker_cpu_us_per_event`), so a run can show it was fair.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from psycopg import AsyncConnection

from bench.broker import Broker
from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.inserter_writes import write_and_publish
from bench.processes import KafkaWitnessProcess, LoadGeneratorProcess, Service, cpu_seconds
from bench.workload import median, percentile
from herald_common.events import VOUCHER_ALLOCATED
from herald_common.kafka import create_producer
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.transactions import TransactionalProducer


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    everyone = run.employee_ids()
    employees = everyone[: config.latency_connections]
    broker = Broker(run.infra.kafka_bootstrap)
    warmed = await _warm_up(run, config, everyone[config.latency_connections :] or employees)
    measured = await _herald(run, config, employees, broker)
    measured["warm_up"] = warmed
    measured["floor_from_kafka_commit"] = await _floor(run, config, employees, broker)
    return measured


async def _warm_up(
    run: BenchRun, config: BenchConfig, employees: list[tuple[str, str]]
) -> dict[str, Any]:
    """The run's writes at its rate, read by a bare consumer, for `latency_warmup_seconds`,
    measured by nobody: the broker's JVM compiles the paths this traffic takes (small
    transactions, read-committed fetches) before Herald's minute, not during it."""
    if config.latency_warmup_seconds <= 0:
        return {"seconds": 0.0, "sent": 0}
    witness = await _witness(run, "latency-warm-up")
    try:
        injected = await _inject(run, config, employees, None, config.latency_warmup_seconds)
    finally:
        await witness.stop()
    return {"seconds": injected["injection_seconds"], "sent": injected["sent"]}


async def _floor(
    run: BenchRun, config: BenchConfig, employees: list[tuple[str, str]], broker: Broker
) -> dict[str, Any]:
    """The same steady events through the fan-out floor (bench/floor_notifier.py: fetch,
    route by header, one write per stream), to the same load generator's streams.

    The bare consumer above stops at the notifier's fetch; this goes on to the client, as
    Herald's figure does: the socket write, the client's read and a second process to wake
    on these shared cores. What this machine and these libraries allow from the Kafka
    commit to the client, measured in the same run as Herald's.
    """
    service, port = run.floor("latency-floor")
    loadgen: LoadGeneratorProcess | None = None
    witness: KafkaWitnessProcess | None = None
    try:
        loadgen = await _streams_on(run, service, port, employees, "latency-floor")
        await loadgen.start()
        # Beside it, as beside Herald's: the same processes wake at each commit.
        witness = await _witness(run, "latency-floor")
        cpu_before = cpu_seconds(service.pid)
        broker.start()
        injected = await _inject(run, config, employees, loadgen, config.latency_seconds)
        result = await loadgen.wait(config.deliveries_timeout_seconds, total=injected["sent"])
        floor_cpu = cpu_seconds(service.pid) - cpu_before
        broker_cpu = broker.cpu_us_per_event(injected["sent"])
        witnessed = await witness.wait(config.deliveries_timeout_seconds, total=injected["sent"])
        from_kafka = _since(injected["kafka_commit_at"], result["ids"])
        bare = _since(injected["kafka_commit_at"], witnessed["ids"])
        return {
            "sent": injected["sent"],
            "received": len(from_kafka),
            **_quantiles(from_kafka),
            "cpu_us_per_delivery": floor_cpu / len(from_kafka) * 1e6 if from_kafka else None,
            "broker_cpu_us_per_event": broker_cpu,
            "broker_pauses": _broker_pauses(broker, injected["kafka_commit_at"], result["ids"]),
            "bare_consumer_from_kafka_commit": {"received": len(bare), **_quantiles(bare)},
        }
    finally:
        if witness is not None:
            await witness.stop()
        if loadgen is not None:
            await loadgen.stop()
        service.stop()


async def _witness(run: BenchRun, name: str) -> KafkaWitnessProcess:
    """A bare consumer of the events (bench/kafka_witness.py), started: the part of the
    latency that is Kafka's and the machine's, with no notifier in it."""
    witness = KafkaWitnessProcess(
        bootstrap=run.infra.kafka_bootstrap,
        topic=run.topics.voucher_allocated,
        work_dir=run.work_dir / name,
    )
    await witness.start()
    return witness


async def _streams_on(
    run: BenchRun, service: Service, port: int, employees: list[tuple[str, str]], name: str
) -> LoadGeneratorProcess:
    """Start `service` and, once it is ready, a load generator for the employees' streams
    on it (started by the caller)."""
    service.start()
    await service.wait_http(f"http://127.0.0.1:{port}/readyz")
    return LoadGeneratorProcess(
        host="127.0.0.1",
        streams=[(port, run.token(emp, ["employee"])) for emp, _ in employees],
        kinds=[VOUCHER_ALLOCATED],
        work_dir=run.work_dir / name,
    )


async def _herald(
    run: BenchRun, config: BenchConfig, employees: list[tuple[str, str]], broker: Broker
) -> dict[str, Any]:
    service, port = run.notifier("latency-notifier")
    # Where the probe writes what it saw; None when the notifier runs without it.
    pauses_path: Path | None = None
    if config.latency_probe:
        pauses_path = run.work_dir / "latency" / "notifier-pauses.json"
        pauses_path.parent.mkdir(parents=True, exist_ok=True)
        service.argv = probed(service.argv, pauses_path)
    loadgen: LoadGeneratorProcess | None = None
    witness: KafkaWitnessProcess | None = None
    try:
        loadgen = await _streams_on(run, service, port, employees, "latency")
        connected = await loadgen.start()
        witness = await _witness(run, "latency")
        # The notifier's own CPU over the run (from /proc), per event delivered.
        cpu_before = cpu_seconds(service.pid)
        broker.start()
        injected = await _inject(run, config, employees, loadgen, config.latency_seconds)
        result = await loadgen.wait(config.deliveries_timeout_seconds, total=injected["sent"])
        server_cpu = cpu_seconds(service.pid) - cpu_before
        broker_cpu = broker.cpu_us_per_event(injected["sent"])
        witnessed = await witness.wait(config.deliveries_timeout_seconds, total=injected["sent"])
        commit_at: dict[int, float] = injected.pop("commit_at")
        kafka_commit_at: dict[int, float] = injected.pop("kafka_commit_at")
        pairs = [
            (commit_at[int(event_id)], at - commit_at[int(event_id)])
            for event_id, at in result["ids"]
            if int(event_id) in commit_at
        ]
        latencies = sorted(latency for _, latency in pairs)
        from_kafka = _since(kafka_commit_at, result["ids"])
        # The same events, read by a bare consumer (bench/kafka_witness.py): the part of
        # the latency that is Kafka's and the machine's, with no notifier in it.
        bare = _since(kafka_commit_at, witnessed["ids"])
        # Where the tail sits in time: the worst latency of each second of the run, worst
        # first (periodic pauses show as evenly spaced seconds).
        begun = min((committed for committed, _ in pairs), default=0.0)
        worst: dict[int, float] = {}
        for committed, latency in pairs:
            second = int(committed - begun)
            worst[second] = max(worst.get(second, 0.0), latency)
        slowest = sorted(worst.items(), key=lambda item: -item[1])[:10]
        rss = service.rss()
        service.stop()  # the probe writes what it saw as the notifier exits
        ended = max((committed + latency for committed, latency in pairs), default=begun)
        pauses = (
            _pauses(pauses_path, begun, ended, [second for second, _ in slowest])
            if pauses_path is not None
            else None
        )
        return {
            "connections": len(employees),
            "connected": connected,
            "rate_target": config.latency_rate,
            "seconds_target": config.latency_seconds,
            **injected,
            "received": len(latencies),
            "missing": injected["sent"] - len(latencies),
            "p50_seconds": percentile(latencies, 0.50),
            "p99_seconds": percentile(latencies, 0.99),
            "max_seconds": latencies[-1] if latencies else None,
            "from_kafka_commit": _quantiles(from_kafka),
            "bare_consumer_from_kafka_commit": {"received": len(bare), **_quantiles(bare)},
            "slowest_seconds_of_run": [[second, round(latency, 4)] for second, latency in slowest],
            "server_cpu_seconds": server_cpu,
            "server_cpu_us_per_delivery": (
                server_cpu / len(latencies) * 1e6 if latencies else None
            ),
            "loadgen_cpu_seconds": result["cpu_seconds"],
            "broker_cpu_us_per_event": broker_cpu,
            "broker_pauses": _broker_pauses(broker, kafka_commit_at, result["ids"]),
            "notifier_rss_bytes": rss,
            "commit_time": "clock read right after COMMIT returned in the writer",
            "notifier_pauses": pauses,
        }
    finally:
        if witness is not None:
            await witness.stop()
        if loadgen is not None:
            await loadgen.stop()
        service.stop()


def _since(committed_at: dict[int, float], arrivals: list[list[Any]]) -> list[float]:
    """Each arrival's time since its event's commit, sorted (events not committed here,
    none in this scenario, are left out)."""
    return sorted(
        at - committed_at[int(event_id)]
        for event_id, at in arrivals
        if int(event_id) in committed_at
    )


def _broker_pauses(
    broker: Broker,
    committed_at: dict[int, float],
    arrivals: list[list[Any]],
    slowest: int = 10,
) -> dict[str, Any] | None:
    """The broker's collector pauses over the run, and how many of its `slowest` deliveries
    (from the Kafka commit) waited through one: a record committed before a pause ended
    and received after it began. None without the broker's collector log."""
    spans = sorted(
        (
            (at - committed_at[int(event_id)], committed_at[int(event_id)], at)
            for event_id, at in arrivals
            if int(event_id) in committed_at
        ),
        reverse=True,
    )
    if not spans:
        return None
    pauses = broker.pauses(min(s[1] for s in spans), max(s[2] for s in spans))
    if pauses is None:
        return None
    worst = spans[:slowest]
    return {
        "count": len(pauses),
        "longest_seconds": max((p.end - p.start for p in pauses), default=0.0),
        "total_seconds": sum(p.end - p.start for p in pauses),
        "slowest": len(worst),
        "slowest_through_a_pause": sum(
            1 for _, sent, at in worst if any(p.start < at and p.end > sent for p in pauses)
        ),
    }


def _quantiles(latencies: list[float]) -> dict[str, float | None]:
    """p50, p99 and the maximum of sorted latencies."""
    return {
        "p50_seconds": percentile(latencies, 0.50),
        "p99_seconds": percentile(latencies, 0.99),
        "max_seconds": latencies[-1] if latencies else None,
    }


async def _inject(
    run: BenchRun,
    config: BenchConfig,
    employees: list[tuple[str, str]],
    loadgen: LoadGeneratorProcess | None,
    seconds: float,
) -> dict[str, Any]:
    """Write and publish `rate` events per second for `seconds`, then wait for the acks;
    `loadgen` records what arrives from the first write on.

    Events fall due at a steady pace, `rate * tick` per tick. Each commit writes every
    event due by then: one tick's worth while the writer keeps up, more after a slow
    commit, so the rate holds however long one transaction takes.
    """
    tick = config.latency_tick_seconds
    per_tick = max(1, round(config.latency_rate * tick))
    total = max(1, round(config.latency_rate * seconds))
    allocation_id = uuid4()
    commit_at: dict[int, float] = {}
    kafka_commit_at: dict[int, float] = {}
    published = 0
    commits = 0
    largest_commit = 0

    producer = create_producer(run.kafka, client_id="herald-bench-latency")
    await producer.start()
    # As in the inserter, each write's events go out in a Kafka transaction of their own.
    transactional = TransactionalProducer(
        lambda: create_producer(
            run.kafka,
            client_id="herald-bench-latency-tx",
            transactional_id=f"{run.topics.prefix}bench-latency-{uuid4().hex[:8]}",
        ),
        timeout_seconds=60,
    )
    await transactional.start()
    transactions: list[float] = []
    publisher = EventPublisher(
        transactional,
        completed_topic=run.topics.allocation_completed,
        progress_producer=producer,
    )
    try:
        async with await AsyncConnection.connect(run.database_url, autocommit=True) as conn:
            if loadgen is not None:
                await loadgen.arm(record=True)
            sent = 0
            started = time.monotonic()
            while sent < total:
                elapsed = time.monotonic() - started
                due = min(total, (int(elapsed / tick) + 1) * per_tick)
                if due <= sent:
                    await asyncio.sleep(
                        started + (int(elapsed / tick) + 1) * tick - time.monotonic()
                    )
                    continue
                batch = [employees[(sent + i) % len(employees)] for i in range(due - sent)]
                begun = time.monotonic()
                # As the inserter does (decision 0033): the Kafka transaction opens first, the
                # events are sent while the rows are written, the database commits and Kafka
                # commits right after it.
                async with publisher.transaction():
                    async with conn.transaction():
                        rows, published_now = await write_and_publish(
                            conn,
                            publisher,
                            run.topics.voucher_allocated,
                            [emp for emp, _ in batch],
                            allocation_id,
                            sent,
                        )
                        published += published_now
                    committed = time.time()
                    for row in rows:
                        commit_at[row.notification_id] = committed
                kafka_committed = time.time()
                for row in rows:
                    kafka_commit_at[row.notification_id] = kafka_committed
                transactions.append(time.monotonic() - begun)
                sent += len(batch)
                commits += 1
                largest_commit = max(largest_commit, len(batch))
            injection_seconds = time.monotonic() - started
    finally:
        await transactional.stop()
        await producer.stop()
    return {
        "sent": len(commit_at),
        "published": published,
        "injection_seconds": injection_seconds,
        "rate_achieved": len(commit_at) / injection_seconds if injection_seconds else None,
        "tick_seconds": tick,
        "commits": commits,
        "events_per_commit_mean": len(commit_at) / commits if commits else None,
        "events_per_commit_max": largest_commit,
        "kafka_transactions": len(transactions),
        # Each spans the whole write: Kafka's begin, the database transaction, the commits.
        "kafka_transaction_seconds_median": median(transactions),
        "kafka_transaction_seconds_max": max(transactions, default=None),
        "commit_at": commit_at,
        "kafka_commit_at": kafka_commit_at,
    }


def probed(argv: list[str], output: Path) -> list[str]:
    """The service's command, run under `bench.probe` (`python -m MODULE ...` only)."""
    index = argv.index("-m")
    return [*argv[: index + 1], "bench.probe", str(output), *argv[index + 1 :]]


def _pauses(path: Path, begun: float, ended: float, slowest: list[int]) -> dict[str, Any]:
    """The notifier's collector passes and loop stalls during the run: by generation, and
    the longest of each within the run's slowest seconds."""
    try:
        seen = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"error": f"no probe output at {path}"}
    passes = [p for p in seen["passes"] if begun <= p[0] <= ended]
    stalls = [s for s in seen["stalls"] if begun <= s[0] <= ended]
    generations: dict[str, Any] = {}
    for generation in (0, 1, 2):
        walls = sorted(p[2] for p in passes if p[1] == generation)
        cpus = [p[3] for p in passes if p[1] == generation]
        generations[str(generation)] = {
            "passes": len(walls),
            "wall_seconds_median": median(walls) if walls else None,
            "wall_seconds_max": walls[-1] if walls else None,
            "cpu_seconds_total": sum(cpus),
        }
    lateness = sorted(s[1] for s in stalls)
    # A stall in which the notifier ran for less than half of it was mostly the scheduler.
    descheduled = sum(1 for s in stalls if s[1] > 0.005 and s[2] < (s[1] + 0.005) / 2)
    near = []
    for second in slowest:
        start, end = begun + second, begun + second + 1.1
        near.append(
            {
                "second": second,
                "longest_pass_seconds": max(
                    (p[2] for p in passes if start <= p[0] < end), default=0.0
                ),
                "longest_stall_seconds": max(
                    (s[1] for s in stalls if start <= s[0] < end), default=0.0
                ),
            }
        )
    return {
        "collector": generations,
        "loop_stalls": {
            "over_2ms": len(lateness),
            "over_5ms": sum(1 for late in lateness if late > 0.005),
            "over_20ms": sum(1 for late in lateness if late > 0.020),
            "over_5ms_mostly_descheduled": descheduled,
            "longest_seconds": lateness[-3:][::-1],
        },
        "slowest_seconds": near,
        "census": [c for c in seen.get("census", []) if begun <= c[0] <= ended],
    }
