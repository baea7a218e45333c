"""Probes and metrics: liveness is cheap, readiness means "positioned on Kafka".

The ready answer also counts the open streams. Draining needs no check of its own: on
SIGTERM uvicorn stops accepting connections as the drain starts (docs/decisions/0018).
"""

from __future__ import annotations

from starlette.requests import Request

from herald_notifier.runtime import get_runtime
from herald_web.health import Probes, started


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)

    async def open_streams() -> dict[str, object]:
        return {"streams": runtime.registry.size}

    return Probes(runtime.metrics.registry, [started(runtime.consumer.ready), open_streams])
