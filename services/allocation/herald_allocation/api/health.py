"""Probes and metrics: liveness is cheap, readiness checks the background tasks (the outbox
relay, the worker watch: a failed one is down until it is restarted) and PostgreSQL."""

from __future__ import annotations

from starlette.requests import Request

from herald_allocation.runtime import get_runtime
from herald_web.health import Probes, database, tasks


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)
    return Probes(runtime.metrics.registry, [tasks(runtime.tasks), database(runtime.pool)])
