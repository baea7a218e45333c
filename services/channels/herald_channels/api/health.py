"""Probes and metrics: ready once the consumer is positioned, its tasks run and PostgreSQL
answers."""

from __future__ import annotations

from starlette.requests import Request

from herald_channels.runtime import get_runtime
from herald_web.health import Probes, database, started, tasks


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)
    checks = [started(runtime.consumer.ready), tasks(runtime.tasks), database(runtime.pool)]
    return Probes(runtime.metrics.registry, checks)
