"""opens: how fast a burst of clients gets its streams, and what each open costs the notifier.

The clients connect at once (the load generator's concurrency is the whole burst), a third
each with a Bearer header, the session cookie and a single-use ticket, as browsers and API
clients do. Ticket clients fetch their ticket first (`POST /v1/stream-tickets`), all of them
before the streams open, so the tickets and the opens are measured apart; the report gives
both, and the CPU per open with the tickets' share added.

A stream counts as open once it is live: its opening (the `id:` of the newest notification,
then the unread count) arrived. Opens/s = live streams / (last one live - the burst's
start). CPU is the notifier process's time on a CPU from /proc over the burst, and
PostgreSQL's backends of the run's database beside it (`server_cpu`). The load generator's
own CPU per open is reported too: it runs on the same cores, so the notifier's, PostgreSQL's
and its CPU per open bound the opens/s this machine can show (`opens_per_second_ceiling`).
Handshakes the kernel dropped meanwhile (a listening socket's accept queue full: those
clients retry a second or more later) are counted beside (`bench.listen_drops`).

The same clients then open their streams on the floor (bench/floor_opens.py: a bare
protocol with the token check, one batched read and one write per open, nothing else), in
the same run: Herald's CPU per open beside the least this machine and these libraries allow.
Then on the same work behind uvicorn as the notifier is served (bench/floor_opens_asgi.py):
between the two floors lies what the server framework costs an open. The three run in
turn, `opens_rounds` times: the figures are the rounds' medians, and each ratio is taken
within a round (on a shared machine one burst's CPU per open drifts by a third).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.listen_drops import dropped_since, listen_overflows
from bench.processes import LoadGeneratorProcess, Service, cpu_seconds
from bench.server_cpu import POSTGRESQL, ServerCpu, ceiling
from herald_common.events import VOUCHER_ALLOCATED

AUTH_MIX = ("bearer", "cookie", "ticket")


def clients(run: BenchRun, port: int, count: int) -> list[tuple[int, str, str]]:
    """`count` employees' streams on `port`, the three ways of authenticating in turn."""
    employees = [emp for emp, _ in run.employee_ids()[:count]]
    return [
        (port, run.token(emp, ["employee"]), AUTH_MIX[i % len(AUTH_MIX)])
        for i, emp in enumerate(employees)
    ]


def per_unit_ms(seconds: float, units: int) -> float | None:
    return seconds / units * 1e3 if units else None


async def measure(
    run: BenchRun, config: BenchConfig, service: Service, port: int
) -> dict[str, Any]:
    targets = clients(run, port, config.opens_connections)
    loadgen = LoadGeneratorProcess(
        host="127.0.0.1",
        streams=targets,
        kinds=[VOUCHER_ALLOCATED],
        work_dir=run.work_dir / "opens",
        name="loadgen-opens",
        concurrency=len(targets),
        ready_on_live=True,
        tickets_first=True,
    )
    cpu = ServerCpu({"notifier": service.pid}, run.database_url)
    try:
        await cpu.start()
        tickets = await loadgen.start()
        ticket_cpu = await cpu.stop()
        await cpu.start()
        loadgen_before = cpu_seconds(loadgen.pid)
        overflows_before = listen_overflows()
        connected = await loadgen.go()
        dropped = dropped_since(overflows_before)
        loadgen_cpu = cpu_seconds(loadgen.pid) - loadgen_before
        open_cpu = await cpu.stop()
    finally:
        await loadgen.stop()
    opens = connected["live"]
    last = connected["last_live"]
    seconds = last - connected["started"] if last else None
    issued = tickets["tickets"]["fetched"]
    notifier, postgresql = open_cpu["notifier"], open_cpu[POSTGRESQL]
    return {
        "clients": len(targets),
        "by_auth": connected["by_auth"],
        "live": opens,
        "with_id": connected["with_id"],
        "failed": connected["failed"],
        "errors": connected["errors"],
        "seconds": seconds,
        "opens_per_second": opens / seconds if seconds else None,
        "notifier_cpu_seconds": notifier,
        "notifier_cpu_ms_per_open": per_unit_ms(notifier, opens),
        "postgresql_cpu_ms_per_open": per_unit_ms(postgresql, opens),
        "tickets": tickets["tickets"],
        "ticket_seconds": tickets["seconds"],
        "notifier_cpu_ms_per_ticket": per_unit_ms(ticket_cpu["notifier"], issued),
        "postgresql_cpu_ms_per_ticket": per_unit_ms(ticket_cpu[POSTGRESQL], issued),
        # Every open with the tickets its clients needed: what the burst cost in all.
        "notifier_cpu_ms_per_open_with_tickets": per_unit_ms(
            notifier + ticket_cpu["notifier"], opens
        ),
        # The clients share the machine's cores with the server: what one open costs them.
        "loadgen_cpu_ms_per_open": per_unit_ms(loadgen_cpu, opens),
        "opens_per_second_ceiling": ceiling(notifier + postgresql + loadgen_cpu, opens),
        # Clients whose handshake waited for a retry: the accept queue was full.
        "handshakes_dropped": dropped,
    }


async def _measured(
    run: BenchRun, config: BenchConfig, server: tuple[Service, int]
) -> dict[str, Any]:
    service, port = server
    service.start()
    try:
        await service.wait_http(f"http://127.0.0.1:{port}/readyz")
        await asyncio.sleep(config.memory_settle_seconds)
        return await measure(run, config, service, port)
    finally:
        service.stop()


def _over(herald: float | None, floor: float | None) -> float | None:
    return herald / floor if herald and floor else None


# Figures of a round that the result gives as their median over the rounds.
_MEDIANS = (
    "seconds",
    "opens_per_second",
    "notifier_cpu_seconds",
    "notifier_cpu_ms_per_open",
    "postgresql_cpu_ms_per_open",
    "ticket_seconds",
    "notifier_cpu_ms_per_ticket",
    "postgresql_cpu_ms_per_ticket",
    "notifier_cpu_ms_per_open_with_tickets",
    "loadgen_cpu_ms_per_open",
    "opens_per_second_ceiling",
)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds in one: `live` the fewest of any round, `failed` and the handshakes
    dropped their sums, each figure of `_MEDIANS` the median of the rounds' (the ceiling
    too, each round's own), everything else (clients, errors, the tickets' counts) the last
    round's, and every round as it was."""
    summary = {**rounds[-1], "rounds": rounds}
    summary["live"] = min(r["live"] for r in rounds)
    summary["failed"] = sum(r["failed"] for r in rounds)
    # Summed like the failures: one round's drops must not hide behind the others' none.
    dropped = [r.get("handshakes_dropped") for r in rounds]
    summary["handshakes_dropped"] = None if None in dropped else sum(dropped)
    for key in _MEDIANS:
        summary[key] = _median([r.get(key) for r in rounds])
    return summary


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    """`opens_rounds` rounds, each Herald's notifier, then the floor, then the floor behind
    uvicorn, each with a process of its own: the machine's drift between rounds reaches
    all three alike, and the ratios are taken within each round."""
    herald: list[dict[str, Any]] = []
    floor: list[dict[str, Any]] = []
    behind_uvicorn: list[dict[str, Any]] = []
    for i in range(config.opens_rounds):
        herald.append(await _measured(run, config, run.notifier(f"opens-notifier-{i}")))
        floor.append(await _measured(run, config, run.floor_opens(f"opens-floor-{i}")))
        server = run.floor_opens(f"opens-floor-asgi-{i}", asgi=True)
        behind_uvicorn.append(await _measured(run, config, server))
    results = _summary(herald)
    results["floor"], results["floor_asgi"] = _summary(floor), _summary(behind_uvicorn)
    # Herald's CPU per open over each floor's, within each round: what Herald's framework,
    # checks and bookkeeping cost beyond the least an open takes here, and what its checks
    # and bookkeeping alone cost beyond the same least behind uvicorn.
    per_open = "notifier_cpu_ms_per_open"
    results["cpu_vs_floor"] = _median(
        [_over(h[per_open], f[per_open]) for h, f in zip(herald, floor, strict=True)]
    )
    results["cpu_vs_floor_asgi"] = _median(
        [_over(h[per_open], f[per_open]) for h, f in zip(herald, behind_uvicorn, strict=True)]
    )
    return results
