"""Sizes of each scenario: the full benchmark, and the smoke version the tests run."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

SCENARIOS = (
    "copy",
    "publish",
    "e2e",
    "fanout",
    "broadcast",
    "wsfanout",
    "latency",
    "memory",
    "opens",
    "reconnect",
    "million",
    "pushduring",
)


@dataclass(frozen=True)
class BenchConfig:
    employees: int = 100_000
    # e2e: streams held open while one allocation targets every employee
    e2e_streams: int = 10_000
    e2e_runs: int = 3
    # copy: rounds of "the inserter writes an allocation of every employee, psql \copy
    # writes the same rows"; the rows are as many as there are employees
    copy_rounds: int = 3
    # publish: events per run, and runs of each publisher
    publish_events: int = 100_000
    publish_runs: int = 3
    # fanout: connections, events each, and how many notifier processes share them
    fanout_connections: int = 10_000
    fanout_events_per_connection: int = 10
    fanout_processes: tuple[int, ...] = (1, 2)
    # bursts of one Herald process and of the floor, in turn (bench/scenarios/fanout.py)
    fanout_rounds: int = 3
    # broadcast: department watchers (one channel), and the events each receives
    broadcast_connections: int = 10_000
    broadcast_events: int = 10
    # before reading PostgreSQL's transaction counts: its backends report them when idle, at
    # most once a second, and an idle one at the latest after 10 s
    broadcast_settle_seconds: float = 11.0
    # latency: a steady rate of committed notifications, with these connections open
    latency_connections: int = 10_000
    latency_rate: int = 1_000
    latency_seconds: float = 60.0
    latency_tick_seconds: float = 0.01
    # the same writes, unmeasured, before Herald's run (bench/scenarios/latency.py)
    latency_warmup_seconds: float = 150.0
    # the notifier under bench.probe (its collector passes, its loop's stalls): diagnosis
    latency_probe: bool = False
    # memory: idle connections held against one process
    memory_connections: int = 15_000
    # before each RSS reading, with and without the connections
    memory_settle_seconds: float = 3.0
    # the idle connections' CPU is read over this long from their opening: a ping round and
    # more (Herald's notifier and the baseline ping a quiet stream every 15 s, and the
    # notifier's Heartbeat looks at each stream once a second)
    memory_idle_seconds: float = 17.0
    # how long to wait for deliveries before calling a run incomplete
    deliveries_timeout_seconds: float = 120.0
    # opens: clients connecting at once (Bearer, cookie and ticket in turn)
    opens_connections: int = 10_000
    # opens: rounds of Herald, the floor and the floor behind uvicorn (medians reported)
    opens_rounds: int = 3
    # reconnect: streams on a replica that drains, all coming back on the other
    reconnect_streams: int = 10_000
    # million and pushduring: a database of their own seeded with this many employees, one
    # allocation to all of them, with streams open for some of them
    million_employees: int = 1_000_000
    million_streams: int = 10_000
    # employees whose inbox is polled (evenly spread, the first and the last included)
    million_inbox_sample: int = 100
    million_timeout_seconds: float = 600.0

    def with_overrides(self, **values: Any) -> BenchConfig:
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in values.items() if k in known and v is not None})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FULL = BenchConfig()

# What `make test` runs: every code path of every scenario, in seconds, with no timing
# asserted anywhere.
SMOKE = BenchConfig(
    employees=200,
    e2e_streams=20,
    e2e_runs=1,
    copy_rounds=1,
    publish_events=200,
    publish_runs=1,
    fanout_connections=20,
    fanout_events_per_connection=10,
    fanout_rounds=2,
    broadcast_connections=20,
    broadcast_events=10,
    broadcast_settle_seconds=1.0,
    latency_connections=20,
    latency_rate=50,
    latency_seconds=2.0,
    latency_tick_seconds=0.02,
    latency_warmup_seconds=0.5,
    latency_probe=True,
    memory_connections=20,
    memory_settle_seconds=0.5,
    memory_idle_seconds=1.0,
    opens_connections=30,
    opens_rounds=1,
    reconnect_streams=30,
    deliveries_timeout_seconds=30.0,
    million_employees=2_000,
    million_streams=20,
    million_inbox_sample=10,
    million_timeout_seconds=60.0,
)

PROFILES = {"full": FULL, "smoke": SMOKE}
