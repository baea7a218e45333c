"""Probes and metrics: liveness is cheap, readiness means "positioned on Kafka" and every
background task running (a failed consumer is down until it is restarted).

The ready answer also counts the open streams. Draining needs no check of its own: on
SIGTERM uvicorn stops accepting connections as the drain starts (docs/decisions/0018).
"""

from __future__ import annotations

from starlette.requests import Request

from herald_notifier.runtime import get_runtime
from herald_web.health import Probes, started, tasks


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)

    async def open_streams() -> dict[str, object]:
        return {"streams": runtime.registry.size}

    checks = [started(runtime.consumer.ready), tasks(runtime.tasks), open_streams]
    return Probes(runtime.metrics.registry, checks)
