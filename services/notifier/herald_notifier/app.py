"""The notifier: FastAPI app factory and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, cast

import uvicorn
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from herald_common.db import create_pool
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.events import NOTIFICATION_PUSHED, VOUCHER_ALLOCATED
from herald_common.gc_tuning import relax_garbage_collection
from herald_common.kafka import create_consumer, create_producer
from herald_common.logs import configure_logging
from herald_notifier.api import channel_auth, health, session, stream
from herald_notifier.api.fast_path import StreamFastPath
from herald_notifier.api.protocol import LeanHttpToolsProtocol
from herald_notifier.domain.consumer import EventConsumer
from herald_notifier.domain.heartbeat import Heartbeat
from herald_notifier.domain.inbox import Inbox
from herald_notifier.domain.inbox_listener import listen_for_read_marks
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.stream_session import StreamContext
from herald_notifier.domain.tickets import TicketStore
from herald_notifier.domain.unread import UnreadCounter
from herald_notifier.drain import Drain, DrainingServer
from herald_notifier.metrics import NotifierMetrics
from herald_notifier.runtime import NotifierRuntime
from herald_notifier.settings import NotifierSettings, load_settings
from herald_web.auth import Authenticator
from herald_web.cors import allow_origins
from herald_web.limits import BodySizeLimit

logger = logging.getLogger(__name__)


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    drain = Drain(settings.retry_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = NotifierMetrics()
        registry = Registry(on_cut_off=lambda _: metrics.cut_offs.inc())
        pool = create_pool(settings.database, name="herald-notifier")
        inbox = Inbox(pool, settings.replay_page_size)
        unread = UnreadCounter(inbox, registry)
        tally = DeliveryTally(registry, settings.replica_id, settings.delivered_interval_seconds)
        heartbeat = Heartbeat(
            registry,
            ping_seconds=settings.ping_seconds,
            send_timeout_seconds=settings.send_timeout_seconds,
        )
        client_id = f"herald-notifier-{settings.replica_id}"
        producer = create_producer(settings.kafka, client_id=client_id)
        kafka_consumer = create_consumer(
            settings.kafka, client_id=client_id, group_id=None, auto_offset_reset="latest"
        )
        topics = settings.topics
        consumer = EventConsumer(
            kafka_consumer,
            employee_topics={
                topics.voucher_allocated: VOUCHER_ALLOCATED,
                topics.notification_pushed: NOTIFICATION_PUSHED,
            },
            progress_topic=topics.allocation_completed,
            registry=registry,
            unread=unread,
            dead_letters=DeadLetterPublisher(producer),
            metrics=metrics,
            tally=tally,
        )
        async with contextlib.AsyncExitStack() as resources:
            await pool.open(wait=True)
            resources.push_async_callback(pool.close)
            await producer.start()
            resources.push_async_callback(producer.stop)
            resources.push_async_callback(consumer.stop)
            await consumer.start(producer.partitions_for)
            conninfo = settings.database.url.get_secret_value()
            for name, work in (
                ("consumer", consumer.run()),
                ("unread-counter", unread.run()),
                ("delivered-tally", tally.run()),
                ("heartbeat", heartbeat.run()),
                ("inbox-listener", listen_for_read_marks(conninfo, unread)),
            ):
                resources.push_async_callback(_cancel, _background(name, work))
            resources.callback(registry.close_all)
            drain.attach(registry)
            app.state.authenticator = Authenticator(settings.auth)
            app.state.runtime = NotifierRuntime(
                settings=settings,
                metrics=metrics,
                registry=registry,
                inbox=inbox,
                consumer=consumer,
                tickets=TicketStore(pool, settings.ticket_ttl_seconds),
                drain=drain,
                streams=StreamContext(
                    inbox=inbox,
                    registry=registry,
                    metrics=metrics,
                    tally=tally,
                    retry_ms=settings.retry_ms,
                    replay_limit=settings.replay_limit,
                ),
            )
            yield

    app = FastAPI(
        title="Herald notifier",
        version="0.1.0",
        description="Server-Sent Events with replay, stream tickets and channel authorization.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, limit_for=lambda _: settings.max_body_bytes)
    app.state.drain = drain
    allow_origins(app, settings.cors_origins)
    for module in (stream, session, channel_auth, health):
        app.include_router(module.router)
    return app


def _background(name: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    task = asyncio.create_task(work, name=f"notifier-{name}")
    task.add_done_callback(_log_crash)
    return task


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s stopped", task.get_name(), exc_info=task.exception())


def main() -> None:
    relax_garbage_collection()
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    fast_path = StreamFastPath(app, cors=bool(settings.cors_origins))
    config = uvicorn.Config(
        fast_path,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # Our JSON logging, not uvicorn's own handlers and formats.
        log_config=None,
        # Longer than the streams' grace, so drained streams end before uvicorn cuts them.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds) + 2,
        # Applied behind the fast path instead (see fast_path), with uvicorn's trusted hosts.
        proxy_headers=False,
        http=LeanHttpToolsProtocol,
    )
    # uvicorn and starlette spell the same ASGI types differently.
    proxied = ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=config.forwarded_allow_ips)
    fast_path.others = cast(Any, proxied)
    DrainingServer(config, app.state.drain).run()
