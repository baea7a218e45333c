"""Probes and metrics: liveness is cheap, readiness means "positioned on Kafka"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from herald_notifier.runtime import NotifierRuntime, get_runtime

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(runtime: Annotated[NotifierRuntime, Depends(get_runtime)]) -> Response:
    if runtime.consumer.ready.is_set():
        return JSONResponse({"status": "ready", "streams": runtime.registry.size})
    return JSONResponse({"status": "starting"}, status_code=503)


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: Annotated[NotifierRuntime, Depends(get_runtime)]) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
