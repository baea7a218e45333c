"""The notifier: FastAPI app factory and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from herald_common.db import create_pool
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.kafka import create_consumer, create_producer
from herald_common.logs import configure_logging

from herald_notifier.api import health, stream
from herald_notifier.domain.consumer import EventConsumer
from herald_notifier.domain.inbox import Inbox
from herald_notifier.domain.registry import Registry
from herald_notifier.drain import Drain, DrainingServer
from herald_notifier.metrics import NotifierMetrics
from herald_notifier.runtime import NotifierRuntime
from herald_notifier.settings import NotifierSettings, load_settings

logger = logging.getLogger(__name__)


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    drain = Drain(settings.retry_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = NotifierMetrics()
        registry = Registry(on_cut_off=lambda _: metrics.cut_offs.inc())
        pool = create_pool(settings.database, name="herald-notifier")
        producer = create_producer(
            settings.kafka, client_id=f"herald-notifier-{settings.replica_id}"
        )
        kafka_consumer = create_consumer(
            settings.kafka,
            client_id=f"herald-notifier-{settings.replica_id}",
            group_id=None,
            auto_offset_reset="latest",
        )
        consumer = EventConsumer(
            kafka_consumer,
            [settings.topics.voucher_allocated],
            registry,
            DeadLetterPublisher(producer),
            metrics,
        )
        async with contextlib.AsyncExitStack() as resources:
            await pool.open(wait=True)
            resources.push_async_callback(pool.close)
            await producer.start()
            resources.push_async_callback(producer.stop)
            resources.push_async_callback(consumer.stop)
            await consumer.start(producer.partitions_for)
            consume_task = asyncio.create_task(consumer.run(), name="notifier-consumer")
            consume_task.add_done_callback(_log_crash)
            resources.push_async_callback(_cancel, consume_task)
            resources.callback(registry.close_all)
            drain.attach(registry)
            app.state.runtime = NotifierRuntime(
                settings, metrics, registry, Inbox(pool, settings.replay_page_size), consumer, drain
            )
            yield

    app = FastAPI(title="Herald notifier", version="0.1.0", lifespan=lifespan)
    app.state.drain = drain
    app.include_router(stream.router)
    app.include_router(health.router)
    return app


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("consumer stopped", exc_info=task.exception())


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # Our JSON logging, not uvicorn's own handlers and formats.
        log_config=None,
        # Longer than the streams' grace, so sse-starlette ends them before uvicorn has to.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds) + 2,
    )
    DrainingServer(config, app.state.drain).run()
