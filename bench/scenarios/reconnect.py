"""reconnect: a replica holding the streams drains, and every client comes back on the other.

Two notifier processes run; the clients (Bearer, cookie and ticket in turn, as in `opens`)
all open their streams on the first. Then it gets SIGTERM, as Kubernetes sends it once the
pod left the Service's endpoints: the drain tells every stream to reconnect (with a
`retry:` spread over 0.5-1.5x the configured delay) and ends it. Each client waits its
`retry:`, then opens again on the other replica with Last-Event-ID (a ticket client first
fetches a new ticket there), as EventSource does.

The figure is the time from the SIGTERM until every client is live again (its opening
arrived: the replay, then the unread count). The retry spread is part of it, so the report
gives the longest retry too, and the other replica's CPU per reopen (from /proc).
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from bench.config import BenchConfig
from bench.environment import BenchRun
from bench.processes import LoadGeneratorProcess
from bench.scenarios.opens import clients, per_unit_ms
from bench.server_cpu import POSTGRESQL, ServerCpu
from herald_common.events import VOUCHER_ALLOCATED


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    (draining, port), (other, other_port) = (
        run.notifier("reconnect-draining"),
        run.notifier("reconnect-other"),
    )
    for service in (draining, other):
        service.start()
    loadgen: LoadGeneratorProcess | None = None
    try:
        await asyncio.gather(
            draining.wait_http(f"http://127.0.0.1:{port}/readyz"),
            other.wait_http(f"http://127.0.0.1:{other_port}/readyz"),
        )
        loadgen = LoadGeneratorProcess(
            host="127.0.0.1",
            streams=clients(run, port, config.reconnect_streams),
            kinds=[VOUCHER_ALLOCATED],
            work_dir=run.work_dir / "reconnect",
            name="loadgen-reconnect",
            concurrency=1000,
            ready_on_live=True,
            reconnect_port=other_port,
            # A try that hangs (its connection lost in a full accept queue) is given up and
            # made again after the retry delay. Not sooner: a browser waits for its
            # EventSource, and a try given up early still cost the server its work.
            connect_timeout=30.0,
        )
        connected = await loadgen.start()
        await asyncio.sleep(config.memory_settle_seconds)
        cpu = ServerCpu({"other": other.pid}, run.database_url)
        await cpu.start()
        signalled = time.time()
        assert draining.process is not None
        draining.process.send_signal(signal.SIGTERM)
        timeout = config.deliveries_timeout_seconds
        storm = await loadgen.command(timeout + 30, cmd="storm", timeout=timeout)
        spent = await cpu.stop()
    finally:
        if loadgen is not None:
            await loadgen.stop()
        draining.stop()
        other.stop()
    back = storm["live_again"]
    last = storm["last_live_again"]
    first_closed = storm["first_closed"]
    return {
        "streams": connected["live"],
        "by_auth": connected["by_auth"],
        **{k: v for k, v in storm.items() if k != "cpu_seconds"},
        "seconds_to_all_live": last - signalled if storm["complete"] and last else None,
        "seconds_to_first_closed": first_closed - signalled if first_closed else None,
        "reopens_per_second": (
            back / (last - storm["first_live_again"])
            if last and storm["first_live_again"] and last > storm["first_live_again"]
            else None
        ),
        "other_cpu_ms_per_reopen": per_unit_ms(spent["other"], back),
        "postgresql_cpu_ms_per_reopen": per_unit_ms(spent[POSTGRESQL], back),
    }
