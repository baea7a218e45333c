"""wsfanout: Pusher WebSocket fan-out from one channels process, beside SSE's fanout.

A WebSocket load generator (bench/ws_loadgen.py) holds one Pusher socket per employee,
each subscribed to its `private-employee-<id>` channel as pusher-js would be. Memory per
idle socket = (the server's RSS with every socket subscribed - its RSS before) / open
sockets, after a settle. Then, as in fanout, one warm-up event per socket, and `events`
per socket in one Kafka transaction; deliveries/s = received / (last receipt - commit
sent), and the server's CPU per delivery = its user+system time over that window (from
/proc/<pid>/stat) / deliveries. The server also confirms every delivery with a ping and the
client's pong advances the channel's watermark (0057): that PostgreSQL write is included.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.config import BenchConfig
from bench.environment import PUSHER_KEY, BenchRun
from bench.processes import WsLoadGeneratorProcess, cpu_seconds
from bench.scenarios.fanout import FIRST_ID, _inject
from bench.scenarios.memory import _rss


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    service, port = run.channels("wsfanout-channels")
    employees = run.employee_ids()[: config.fanout_connections]
    loadgen: WsLoadGeneratorProcess | None = None
    try:
        service.start()
        await service.wait_http(f"http://127.0.0.1:{port}/readyz")
        await asyncio.sleep(config.memory_settle_seconds)
        before = await _rss(service)
        loadgen = WsLoadGeneratorProcess(
            port=port,
            key=PUSHER_KEY,
            secret=run.auth_secret,
            employees=[employee for employee, _ in employees],
            work_dir=run.work_dir / "wsfanout",
            name="ws-loadgen",
        )
        connected = await loadgen.start()
        await asyncio.sleep(config.memory_settle_seconds)
        after = await _rss(service)
        still_open = (await loadgen.stats())["open"]
        timeout = config.deliveries_timeout_seconds
        await loadgen.arm(per_stream=1)
        await _inject(run, "wsfanout-warm-up", employees, 1, FIRST_ID)
        warm_up = await loadgen.wait(timeout)
        per_socket = config.fanout_events_per_connection
        await loadgen.arm(per_stream=per_socket)
        cpu_before, wall_before = cpu_seconds(service.pid), time.time()
        commit_sent, _, sent = await _inject(
            run, "wsfanout", employees, per_socket, FIRST_ID + len(employees)
        )
        result = await loadgen.wait(timeout)
        server_cpu = cpu_seconds(service.pid) - cpu_before
        last = result["last"]
        seconds = last - commit_sent if last else None
        deliveries = result["received"]
        return {
            "connections": len(employees),
            "connected": connected,
            "open_at_measurement": still_open,
            "rss_before_bytes": before,
            "rss_idle_bytes": after,
            "bytes_per_idle_socket": (after - before) / still_open if still_open else None,
            "kib_per_idle_socket": (after - before) / still_open / 1024 if still_open else None,
            "events_per_connection": per_socket,
            "events_published": sent,
            "deliveries_expected": len(employees) * per_socket,
            "deliveries": deliveries,
            "complete": result["complete"],
            "warm_up_complete": warm_up["complete"],
            "seconds": seconds,
            "deliveries_per_second": deliveries / seconds if seconds else None,
            "server_cpu_seconds": server_cpu,
            "server_cpu_window_seconds": time.time() - wall_before,
            "server_cpu_us_per_delivery": server_cpu / deliveries * 1e6 if deliveries else None,
            "sockets_closed_by_server": result["closed_while_open"],
            "loadgen_cpu_seconds": result["cpu_seconds"],
            "server_rss_bytes": service.rss(),
        }
    finally:
        if loadgen is not None:
            await loadgen.stop()
        service.stop()
