"""Probes and metrics: liveness is cheap, readiness checks PostgreSQL."""

from __future__ import annotations

from starlette.requests import Request

from herald_allocation.runtime import get_runtime
from herald_web.health import Probes, database


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)
    return Probes(runtime.metrics.registry, [database(runtime.pool)])
