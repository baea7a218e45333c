"""Thousands of open streams on the notifier, held by the benchmark's load generator.

The test process cannot hold 10,000 streams itself next to three brokers and the services
on two cores (tests/support/sse_swarm.py's clients cost a task and a StreamReader each):
bench/loadgen.py, a separate process on raw asyncio protocols, holds them and answers on
its control channel (bench/processes.py's LoadGeneratorProcess). A window armed
`by_stream` hands back each stream's event ids in arrival order, from which the figures
here say, per client, what was lost, duplicated, out of order or not the client's.

Unlike a browser it does not reconnect: a stream the notifier closed is counted
(`closed_streams`) and fails the scenario, since nothing in these faults should close one.
"""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.processes import LoadGeneratorProcess, cpu_seconds
from herald_common.events import NOTIFICATION_PUSHED, VOUCHER_ALLOCATED
from tests.conftest import HeraldEnv
from tests.reliability.workload import Database


class StreamLoad:
    """One open stream per employee on the notifier at `port`, in a load generator process."""

    def __init__(
        self, env: HeraldEnv, port: int, employees: list[str], work_dir: Path, name: str
    ) -> None:
        self.employees = employees
        tokens = [
            env.bearer(e, ["employee"])["Authorization"].removeprefix("Bearer ") for e in employees
        ]
        self._process = LoadGeneratorProcess(
            host="127.0.0.1",
            streams=[(port, token) for token in tokens],
            kinds=[VOUCHER_ALLOCATED, NOTIFICATION_PUSHED],
            work_dir=work_dir,
            name=name,
        )
        self.opened: dict[str, Any] = {}
        self._per_stream = 0

    async def open(self, notifier_pid: int) -> dict[str, Any]:
        """Opens every stream; figures of the opening (wall time, both processes' CPU)."""
        notifier_cpu = cpu_seconds(notifier_pid)
        started = time.monotonic()
        ready = await self._process.start(timeout=600)
        stats = await self._process.stats()
        self.opened = {
            "streams_open": ready["open"],
            "streams_failed": ready["failed"],
            "open_seconds": round(time.monotonic() - started, 1),
            "loadgen_cpu_seconds_opening": round(stats["cpu_seconds"], 1),
            "loadgen_rss_mb": round(stats["rss_bytes"] / 1e6),
            "notifier_cpu_seconds_opening": round(cpu_seconds(notifier_pid) - notifier_cpu, 1),
        }
        assert ready["open"] == len(self.employees), ready
        return self.opened

    async def arm(self, per_stream: int) -> None:
        """Counts from now on; complete once each stream has `per_stream` events."""
        self._per_stream = per_stream
        await self._process.command(cmd="arm", per_stream=per_stream, by_stream=True)

    async def received(self) -> int:
        """Events received since `arm`, in all (duplicates too: a progress mark)."""
        answer = await self._process.command(cmd="peek")
        received: int = answer["received"]
        return received

    async def everyone_has_them(self) -> bool:
        """A check for `until`: every stream has had its `per_stream` events."""
        answer = await self._process.command(cmd="peek")
        complete: int = answer["complete_streams"]
        return complete == len(self.employees)

    async def outcome(self, db: Database, after_id: int) -> dict[str, Any]:
        """Closes the window (after a second for anything sent twice) and compares each
        stream's ids with the notifications its employee has above `after_id`."""
        await asyncio.sleep(1)
        result = await self._process.wait(0)
        sent = {
            employee: [n for n in ids if n > after_id]
            for employee, ids in (await db.notifications_of(self.employees)).items()
        }
        got = {
            employee: [int(n) for n in ids]
            for employee, ids in zip(self.employees, result["by_stream"], strict=True)
        }
        return {
            "notifications_written": sum(len(ids) for ids in sent.values()),
            "delivered": sum(len(ids) for ids in got.values()),
            "lost": sum(len(set(sent[e]) - set(got[e])) for e in self.employees),
            "duplicates": sum(len(got[e]) - len(set(got[e])) for e in self.employees),
            "unexpected": sum(len(set(got[e]) - set(sent[e])) for e in self.employees),
            "clients_out_of_order": sum(
                1 for e in self.employees if any(a >= b for a, b in pairwise(got[e]))
            ),
            "clients_short": sum(1 for e in self.employees if len(sent[e]) != self._per_stream),
            "closed_streams": len(result["closed_streams"]),
            "loadgen_cpu_seconds_window": round(result["cpu_seconds"], 1),
        }

    async def close(self) -> None:
        await self._process.stop()


def assert_delivered_whole(outcome: dict[str, Any], streams: int, per_stream: int) -> None:
    """The pass criteria at the clients: every notification once, in order, to its own."""
    assert outcome["clients_short"] == 0
    assert outcome["lost"] == 0
    assert outcome["duplicates"] == 0
    assert outcome["unexpected"] == 0
    assert outcome["clients_out_of_order"] == 0
    assert outcome["closed_streams"] == 0
    assert outcome["delivered"] == streams * per_stream
