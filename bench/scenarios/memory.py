"""memory: resident memory per idle SSE connection, Herald's notifier and the baseline.

Both processes start fresh (together; each idles until its turn) and settle; the measured
one's RSS (from /proc) is sampled. The load generator then opens the connections, which
stay idle (nothing is published); once every stream answered and the server had a few
seconds to settle, RSS is sampled again. Per
connection = (RSS with the connections - RSS before) / open connections. Each RSS is the
median of three samples half a second apart. KB here are 1,024 bytes.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.processes import LoadGeneratorProcess, Service, cpu_seconds
from herald_common.events import VOUCHER_ALLOCATED


async def _rss(service: Service) -> int:
    values = []
    for i in range(3):
        if i:
            await asyncio.sleep(0.5)
        values.append(service.rss())
    return int(statistics.median(values))


async def measure(
    run: BenchRun, config: BenchConfig, service: Service, tokens: list[str], port: int
) -> dict[str, Any]:
    loadgen: LoadGeneratorProcess | None = None
    try:
        await asyncio.sleep(config.memory_settle_seconds)
        before = await _rss(service)
        loadgen = LoadGeneratorProcess(
            host="127.0.0.1",
            streams=[(port, token) for token in tokens],
            kinds=[VOUCHER_ALLOCATED],
            work_dir=run.work_dir / "memory",
            name=f"loadgen-{service.name}",
        )
        cpu_before = cpu_seconds(service.pid)
        connected = await loadgen.start()
        cpu_opened, opened_at = cpu_seconds(service.pid), time.monotonic()
        await asyncio.sleep(config.memory_settle_seconds)
        after = await _rss(service)
        # Idle streams cost CPU too: the once-a-second sweep over every stream, and a ping
        # to each every 15 s, which the window takes in (`memory_idle_seconds`).
        await asyncio.sleep(max(0.0, opened_at + config.memory_idle_seconds - time.monotonic()))
        idle_cpu = cpu_seconds(service.pid) - cpu_opened
        idle_seconds = time.monotonic() - opened_at
        still_open = (await loadgen.stats())["open"]
        per_connection = (after - before) / still_open if still_open else None
        return {
            "connections": len(tokens),
            "connected": connected,
            "open_at_measurement": still_open,
            "rss_before_bytes": before,
            "rss_after_bytes": after,
            "bytes_per_connection": per_connection,
            "kib_per_connection": per_connection / 1024 if per_connection else None,
            # No deliveries here: the server's CPU per stream opened, and per idle stream
            # and second.
            "server_cpu_us_per_open": (
                (cpu_opened - cpu_before) / len(tokens) * 1e6 if tokens else None
            ),
            "idle_seconds": idle_seconds,
            "server_cpu_us_per_idle_stream_second": (
                idle_cpu / still_open / idle_seconds * 1e6 if still_open else None
            ),
        }
    finally:
        if loadgen is not None:
            await loadgen.stop()
        service.stop()


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    employees = [emp for emp, _ in run.employee_ids()[: config.memory_connections]]
    tokens = [run.token(emp, ["employee"]) for emp in employees]
    # Both start together and idle until their turn; each is measured alone.
    herald, herald_port = run.notifier("memory-notifier")
    baseline, baseline_port = run.baseline("memory-baseline")
    for service in (herald, baseline):
        service.start()
    try:
        await asyncio.gather(
            herald.wait_http(f"http://127.0.0.1:{herald_port}/readyz"),
            baseline.wait_http(f"http://127.0.0.1:{baseline_port}/readyz"),
        )
        mine = await measure(run, config, herald, tokens, herald_port)
        theirs = await measure(run, config, baseline, tokens, baseline_port)
    finally:
        herald.stop()
        baseline.stop()
    ours, base = mine["bytes_per_connection"], theirs["bytes_per_connection"]
    return {
        "herald": mine,
        "baseline": theirs,
        "ratio_vs_baseline": ours / base if ours and base else None,
    }
