"""Probes and metrics: liveness is cheap, readiness means "the console is built"."""

from __future__ import annotations

from starlette.requests import Request

from herald_gateway.runtime import get_runtime
from herald_web.health import NotReady, Probes


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)

    # The services have probes of their own; the gateway answers 502 while one is down.
    async def console_built() -> None:
        if not runtime.site.built():
            raise NotReady("unavailable", "web console not built")

    return Probes(runtime.metrics.registry, [console_built])
