"""Run a service with a record of its pauses: collector passes and event-loop stalls.

    python -m bench.probe OUTPUT.json MODULE [ARGS...]

Runs MODULE as `python -m MODULE` would, with a `gc.callbacks` hook timing every collector
pass (wall clock at its start, its generation, its wall and CPU time) and, once uvicorn's
server has started, a task that sleeps 5 ms at a time and records each wake-up that came
more than 2 ms late (what else held the loop: a long callback, a pass, the scheduler).
Both are written to OUTPUT.json once the server has shut down (uvicorn then re-raises the
signal that stopped it, so no exit hook would run), for the latency scenario to set beside
its slowest seconds. Every 20th pass of each generation also counts the objects it walks
by type (before its timing starts), to show what fills the collector.
Only the benchmark uses this; the service is unchanged.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import runpy
import sys
import threading
import time
import traceback
from typing import Any

import uvicorn

# A loop wake-up later than this is recorded as a stall.
_PROBE_SECONDS = 0.005
_LATE_SECONDS = 0.002


class Pauses:
    def __init__(self) -> None:
        # [wall clock at the start, generation, wall seconds, CPU seconds, objects collected]
        self.passes: list[list[float]] = []
        # [wall clock when the late wake-up came, seconds late, CPU seconds of this thread
        # meanwhile (about as much as late: work held the loop; much less: the scheduler)]
        self.stalls: list[list[float]] = []
        self._started = (0.0, 0.0, 0.0)
        # [wall clock, generation, {type name: objects of it in the generations walked}]
        self.census: list[list[Any]] = []
        # [wall clock, the main thread's innermost frames] during a stall (see sample_stalls)
        self.stacks: list[list[Any]] = []
        self._beat = 0.0
        self._seen = [0, 0, 0]

    def on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            generation = info["generation"]
            self._seen[generation] += 1
            if self._seen[generation] % 20 == 1:
                self.count_types(generation)
            self._started = (time.time(), time.perf_counter(), time.thread_time())
            return
        wall, begun, cpu = self._started
        self.passes.append(
            [
                wall,
                info["generation"],
                time.perf_counter() - begun,
                time.thread_time() - cpu,
                info["collected"],
            ]
        )

    def count_types(self, generation: int) -> None:
        walked = [o for g in range(generation + 1) for o in gc.get_objects(g)]
        counts: dict[str, int] = {}
        for obj in walked:
            name = type(obj).__qualname__
            counts[name] = counts.get(name, 0) + 1
        top = dict(sorted(counts.items(), key=lambda item: -item[1])[:25])
        self.census.append([time.time(), generation, len(walked), top])

    def sample_stalls(self, main: int) -> None:
        """From a thread: the main thread's stack whenever the loop probe is overdue.

        Only with HERALD_BENCH_STALL_STACKS=1 (a thread asking for the GIL every 2 ms
        disturbs what it watches): to find which code holds the loop, not for figures.
        """
        sampled_for = 0.0
        while True:
            time.sleep(0.002)
            beat = self._beat
            if beat and time.perf_counter() - beat > 0.010 and beat != sampled_for:
                sampled_for = beat
                frame = sys._current_frames().get(main)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-14:]
                    self.stacks.append(
                        [
                            time.time(),
                            [f"{f.filename.split('/')[-1]}:{f.lineno} {f.name}" for f in stack],
                        ]
                    )

    async def watch_loop(self) -> None:
        clock, cpu = time.perf_counter, time.thread_time
        if os.environ.get("HERALD_BENCH_STALL_STACKS") == "1":
            threading.Thread(
                target=self.sample_stalls, args=(threading.get_ident(),), daemon=True
            ).start()
        while True:
            self._beat = clock()
            due, cpu_before = clock() + _PROBE_SECONDS, cpu()
            await asyncio.sleep(_PROBE_SECONDS)
            late = clock() - due
            if late > _LATE_SECONDS:
                self.stalls.append([time.time(), late, cpu() - cpu_before])

    def write(self, path: str) -> None:
        with open(path, "w") as out:
            json.dump(
                {
                    "passes": self.passes,
                    "stalls": self.stalls,
                    "census": self.census,
                    "stacks": self.stacks,
                },
                out,
            )


def main() -> None:
    output, module, *args = sys.argv[1:]
    pauses = Pauses()
    gc.callbacks.append(pauses.on_collection)
    tasks: set[asyncio.Task[None]] = set()
    startup, shutdown = uvicorn.Server.startup, uvicorn.Server.shutdown

    async def startup_watched(self: uvicorn.Server, *a: Any, **kw: Any) -> None:
        await startup(self, *a, **kw)
        tasks.add(asyncio.get_running_loop().create_task(pauses.watch_loop()))

    async def shutdown_written(self: uvicorn.Server, *a: Any, **kw: Any) -> None:
        await shutdown(self, *a, **kw)
        pauses.write(output)

    uvicorn.Server.startup = startup_watched  # type: ignore[method-assign]
    uvicorn.Server.shutdown = shutdown_written  # type: ignore[method-assign]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
