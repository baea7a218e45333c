"""The allocation service: FastAPI app factory and lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from herald_common.db import create_pool
from herald_common.kafka import create_producer
from herald_common.logs import configure_logging

from herald_allocation.api import allocations, employees, health
from herald_allocation.domain.allocations import AllocationService
from herald_allocation.metrics import AllocationMetrics
from herald_allocation.runtime import AllocationRuntime
from herald_allocation.settings import AllocationSettings, load_settings


def create_app(settings: AllocationSettings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = create_pool(settings.database, name="herald-allocation")
        producer = create_producer(settings.kafka, client_id="herald-allocation")
        async with contextlib.AsyncExitStack() as resources:
            await pool.open(wait=True)
            resources.push_async_callback(pool.close)
            await producer.start()
            resources.push_async_callback(producer.stop)
            app.state.runtime = AllocationRuntime(
                settings,
                AllocationMetrics(),
                pool,
                AllocationService(pool, producer, settings.topics.allocation_requested),
            )
            yield

    app = FastAPI(title="Herald allocation API", version="0.1.0", lifespan=lifespan)
    app.include_router(allocations.router)
    app.include_router(employees.router)
    app.include_router(health.router)
    return app


def serve() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # Our JSON logging, not uvicorn's own handlers and formats.
        log_config=None,
    )
