"""Probes and metrics, served the same way by every HTTP service.

`/healthz` answers as long as the process serves requests (liveness). `/readyz` runs the
service's readiness checks in order and answers 503 with the first that fails. `/metrics`
is the Prometheus exposition of the service's registry. What "ready" means belongs to
each service: its `api/health.py` says which checks, over the resources its lifespan
built, so the probes are read per request from the runtime. A service with background
tasks checks them too (`tasks`): one that failed is down until it is restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from herald_common.supervisor import Supervisor

Check = Callable[[], Awaitable[Mapping[str, object] | None]]
"""A readiness check: raises NotReady, or returns fields to add to the ready answer."""


class NotReady(Exception):
    """A check's verdict that the service must not take traffic yet (503)."""

    def __init__(self, status: str, reason: str | None = None) -> None:
        super().__init__(reason or status)
        self.status = status
        self.reason = reason

    def answer(self) -> dict[str, object]:
        if self.reason is None:
            return {"status": self.status}
        return {"status": self.status, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Probes:
    """What a service's probes look at: its metrics registry and its readiness checks."""

    registry: CollectorRegistry
    checks: Sequence[Check] = ()


def health_routes(probes: Callable[[Request], Probes]) -> list[BaseRoute]:
    """`/healthz`, `/readyz` and `/metrics`, for the probes `probes` finds for a request."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        answer: dict[str, object] = {"status": "ready"}
        try:
            for check in probes(request).checks:
                answer.update(await check() or {})
        except NotReady as exc:
            return JSONResponse(exc.answer(), status_code=503)
        return JSONResponse(answer)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(probes(request).registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route(path, endpoint, methods=["GET"], include_in_schema=False)
        for path, endpoint in (("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics))
    ]


def database(pool: AsyncConnectionPool[AsyncConnection]) -> Check:
    """Ready while PostgreSQL answers a query within two seconds."""

    async def check() -> None:
        try:
            async with pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:
            raise NotReady("unavailable", str(exc)) from exc

    return check


def started(event: asyncio.Event) -> Check:
    """Ready once `event` is set (a consumer in its group, or positioned); "starting" before."""

    async def check() -> None:
        if not event.is_set():
            raise NotReady("starting")

    return check


def tasks(supervisor: Supervisor) -> Check:
    """Ready while every background task runs; "unavailable", naming the first task that
    failed, while it waits to be restarted."""

    async def check() -> None:
        for name, reason in supervisor.down.items():
            raise NotReady("unavailable", f"background task {name} failed, restarting: {reason}")

    return check
