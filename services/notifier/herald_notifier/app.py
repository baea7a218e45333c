"""The notifier: FastAPI app factory and lifespan."""

from __future__ import annotations

import contextlib
import functools
import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald_common.db import create_pool
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.dead_letter_claims import ClaimedDeadLetters
from herald_common.gc_tuning import SurvivorsFrozen
from herald_common.kafka import create_consumer, create_producer
from herald_common.lifespan import open_pool_and_producer
from herald_common.supervisor import Supervisor
from herald_notifier import compat
from herald_notifier.api import channel_auth, health, session, stream
from herald_notifier.domain.consumer import EventConsumer, Feed
from herald_notifier.domain.delivered_marks import DeliveredMarks
from herald_notifier.domain.gap_reads import GapReads
from herald_notifier.domain.heartbeat import Heartbeat
from herald_notifier.domain.inbox import Inbox
from herald_notifier.domain.inbox_listener import listen_for_read_marks
from herald_notifier.domain.opening import Openings
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.stream_context import StreamContext
from herald_notifier.domain.tickets import TicketStore
from herald_notifier.domain.unread import UnreadCounter
from herald_notifier.drain import Drain
from herald_notifier.metrics import NotifierMetrics
from herald_notifier.runtime import NotifierRuntime
from herald_notifier.server import notifier_server
from herald_notifier.settings import NotifierSettings, load_settings
from herald_web.auth import Authenticator
from herald_web.cors import allow_origins
from herald_web.docs import serve_docs
from herald_web.health import health_routes
from herald_web.limits import BodySizeLimit
from herald_web.serve import serve

# How much of one partition a fetch brings: a burst's events of one department in one fetch,
# so each of its streams writes them in one write (aiokafka's 1 MiB split the largest
# department's share of a 100,000-event allocation over two fetches, and its streams' writes
# in two: docs/decisions/0073). The fetch as a whole stays within aiokafka's 50 MiB.
PARTITION_FETCH_BYTES = 8 * 1024 * 1024


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    drain = Drain(settings.retry_ms)
    # Which private APIs this process may use: checked once, logged (docs/decisions/0042).
    internals = compat.Internals.choose(settings.compat)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = NotifierMetrics()
        registry = Registry(on_cut_off=lambda _: metrics.cut_offs.inc())
        # Every statement here stands alone: reads, and idempotent writes (docs/decisions/0092).
        pool = create_pool(settings.database, name="herald-notifier", autocommit=True)
        inbox = Inbox(pool, settings.replay_page_size)
        unread = UnreadCounter(inbox, registry)
        tally = DeliveryTally(registry, settings.replica_id, settings.delivered_interval_seconds)
        marks = DeliveredMarks(pool, registry, settings.delivered_interval_seconds)
        heartbeat = Heartbeat(
            registry,
            ping_seconds=settings.ping_seconds,
            send_timeout_seconds=settings.send_timeout_seconds,
        )
        client_id = f"herald-notifier-{settings.replica_id}"
        producer = create_producer(settings.kafka, client_id=client_id)
        topics = settings.topics
        employee_topics = topics.employee_topics()
        # A consumer for each topic (docs/decisions/0095).
        feeds = []
        for topic in (*employee_topics, topics.allocation_completed):
            kafka_consumer = create_consumer(
                settings.kafka,
                client_id=client_id,
                group_id=None,
                auto_offset_reset="latest",
                max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
            )
            feeds.append(
                Feed(kafka_consumer, compat.record_reader(kafka_consumer, internals), (topic,))
            )
        consumer = EventConsumer(
            feeds,
            employee_topics=employee_topics,
            progress_topic=topics.allocation_completed,
            registry=registry,
            # Named apart from any other process, even one on the same host.
            dead_letters=ClaimedDeadLetters(
                DeadLetterPublisher(producer, settings.kafka.max_record_bytes),
                pool,
                f"{client_id}/{secrets.token_hex(4)}",
            ),
            metrics=metrics,
            max_record_bytes=settings.kafka.max_record_bytes,
            tally=tally,
            marks=marks,
            share=settings.share,
        )
        async with contextlib.AsyncExitStack() as resources:
            # Young passes of a few thousand objects, nothing older walked again until it
            # grows by a quarter: passes of milliseconds, not tens (docs/decisions/0075).
            collector = SurvivorsFrozen()
            collector.install()
            resources.callback(collector.uninstall)
            await open_pool_and_producer(resources, pool, producer)
            resources.push_async_callback(consumer.stop)
            await consumer.start(producer.partitions_for)
            conninfo = settings.database.url.get_secret_value()
            tasks = Supervisor(resources, metrics.task_restarts)
            for name, work in (
                ("consumer", consumer.run),
                ("unread-counter", unread.run),
                ("delivered-tally", tally.run),
                ("delivered-marks", marks.run),
                ("heartbeat", heartbeat.run),
                ("collector", collector.run),
                (
                    "inbox-listener",
                    functools.partial(listen_for_read_marks, conninfo, unread, registry),
                ),
            ):
                tasks.start(f"notifier-{name}", work)
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
                    openings=Openings(pool, settings.replay_limit),
                    registry=registry,
                    metrics=metrics,
                    tally=tally,
                    retry_ms=settings.retry_ms,
                    replay_limit=settings.replay_limit,
                    gap_reads=GapReads(inbox, metrics),
                    recount=unread.mark,
                ),
                tasks=tasks,
                share=settings.share,
            )
            yield

    app = FastAPI(
        title="Herald notifier",
        version="0.1.0",
        description="Server-Sent Events with replay, stream tickets and channel authorization.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    serve_docs(app)
    app.add_middleware(BodySizeLimit, limit_for=lambda _: settings.max_body_bytes)
    app.state.drain = drain
    app.state.compat = internals  # for the server and the streams' disconnect watch
    allow_origins(app, settings.cors_origins)
    for module in (stream, session, channel_auth):
        app.include_router(module.router)
    app.router.routes.extend(health_routes(health.probes))
    return app


def main() -> None:
    settings = load_settings()
    serve(
        create_app,
        settings,
        # Longer than the streams' grace, so drained streams end before uvicorn cuts them.
        graceful_shutdown_seconds=math.ceil(settings.shutdown_grace_seconds) + 2,
        server=functools.partial(notifier_server, cors=bool(settings.cors_origins)),
    )
