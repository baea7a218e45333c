"""The allocation service: FastAPI app factory and lifespan."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald_allocation.api import (
    allocation_deliveries,
    allocations,
    dev,
    employees,
    health,
    inbox,
    pushes,
    revocations,
)
from herald_allocation.domain.allocations import AllocationService
from herald_allocation.domain.deliveries import AllocationDeliveries
from herald_allocation.domain.inbox import Inbox
from herald_allocation.domain.lifecycle import Lifecycle
from herald_allocation.domain.outbox import Outbox
from herald_allocation.domain.pushes import PushService
from herald_allocation.domain.revocations import RevocationService
from herald_allocation.domain.steps import AllocationWrites
from herald_allocation.domain.worker_watch import watch_workers
from herald_allocation.metrics import AllocationMetrics
from herald_allocation.runtime import AllocationRuntime
from herald_allocation.settings import AllocationSettings, load_settings
from herald_common.db import create_pool
from herald_common.kafka import create_producer
from herald_common.lifespan import open_pool_and_producer
from herald_common.supervisor import Supervisor
from herald_web.auth import Authenticator
from herald_web.cors import allow_origins
from herald_web.docs import serve_docs
from herald_web.health import health_routes
from herald_web.limits import BodySizeLimit, RateLimiter
from herald_web.serve import serve

IMPORT_PATH = "/v1/employees:import"


def create_app(settings: AllocationSettings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = create_pool(settings.database, name="herald-allocation")
        producer = create_producer(settings.kafka, client_id="herald-allocation")
        async with contextlib.AsyncExitStack() as resources:
            await open_pool_and_producer(resources, pool, producer)
            topics = settings.topics
            metrics = AllocationMetrics()
            outbox = Outbox(pool, producer)
            tasks = Supervisor(resources, metrics.task_restarts)
            writes = AllocationWrites(
                pool, outbox, topics.allocation_requested, topics.allocation_completed
            )
            lifecycle = Lifecycle(writes)
            app.state.authenticator = Authenticator(settings.auth)
            app.state.runtime = AllocationRuntime(
                settings=settings,
                metrics=metrics,
                pool=pool,
                allocations=AllocationService(
                    writes,
                    typed_confirmation_above=settings.typed_confirmation_above,
                    approval=settings.approval,
                ),
                lifecycle=lifecycle,
                pushes=PushService(pool, outbox, topics.notification_requested),
                revocations=RevocationService(pool, outbox, topics.revocation_requested),
                inbox=Inbox(pool),
                deliveries=AllocationDeliveries(pool),
                allocation_limiter=RateLimiter(settings.allocations_per_minute),
                push_limiter=RateLimiter(settings.pushes_per_minute),
                tasks=tasks,
            )
            relay = functools.partial(outbox.run_relay, settings.outbox_relay_interval_seconds)
            tasks.start("outbox-relay", relay)
            watch = functools.partial(
                watch_workers,
                pool,
                metrics,
                worker_wait_seconds=settings.worker_wait_seconds,
                interval=settings.watch_interval_seconds,
            )
            tasks.start("worker-watch", watch)
            schedule = functools.partial(lifecycle.run, settings.schedule_interval_seconds)
            tasks.start("allocation-schedule", schedule)
            yield

    app = FastAPI(
        title="Herald API",
        version="0.1.0",
        description="Allocations, the employee directory, generic pushes and the inbox.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    serve_docs(app)
    app.add_middleware(
        BodySizeLimit,
        limit_for=lambda path: (
            settings.max_import_bytes if path == IMPORT_PATH else settings.max_body_bytes
        ),
    )
    allow_origins(app, settings.cors_origins)
    for module in (allocations, revocations, allocation_deliveries, employees, pushes, inbox):
        app.include_router(module.router)
    app.router.routes.extend(health_routes(health.probes))
    if settings.auth.dev_mode:
        app.include_router(dev.router)
    return app


def main() -> None:
    # Requests in flight get 10 s after SIGTERM (an accepted allocation waits at most 5 s
    # for Kafka before the outbox takes it over); the grace is in deploy/k8s/README.md.
    serve(create_app, load_settings(), graceful_shutdown_seconds=10)
