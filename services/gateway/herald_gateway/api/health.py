"""Probes and metrics: liveness is cheap, readiness means "the console is built"."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald_gateway.runtime import get_runtime


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    # The services have probes of their own; the gateway answers 502 while one is down.
    if get_runtime(request).site.built():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "reason": "web console not built"}, 503)


async def metrics(request: Request) -> Response:
    registry = get_runtime(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
