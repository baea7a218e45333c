"""Probes and metrics: liveness is cheap; ready means in the consumer group, its consumer
running (a failed one is down until it is restarted) and PostgreSQL up."""

from __future__ import annotations

from starlette.requests import Request

from herald_mailer.runtime import get_runtime
from herald_web.health import Probes, database, started, tasks


def probes(request: Request) -> Probes:
    runtime = get_runtime(request)
    checks = [started(runtime.consumer.ready), tasks(runtime.tasks), database(runtime.pool)]
    return Probes(runtime.metrics.registry, checks)
