"""The channels service: FastAPI app factory and lifespan."""

from __future__ import annotations

import contextlib
import functools
import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from starlette.middleware import Middleware

from herald_channels.api import channel_auth, health, pusher_http, websocket
from herald_channels.domain.broadcaster import KafkaBroadcaster
from herald_channels.domain.connection import ChannelsContext
from herald_channels.domain.consumer import ChannelsConsumer, UnreadCounts
from herald_channels.domain.hub import Hub
from herald_channels.domain.inbox import ChannelInbox
from herald_channels.domain.pg_directory import PgDirectory
from herald_channels.domain.replicas import keep_alive
from herald_channels.domain.trigger_publisher import TriggerPublisher
from herald_channels.metrics import ChannelsMetrics
from herald_channels.runtime import ChannelsRuntime
from herald_channels.settings import ChannelsSettings, load_settings
from herald_common.db import create_pool
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.dead_letter_claims import ClaimedDeadLetters
from herald_common.gc_tuning import relax_garbage_collection
from herald_common.kafka import create_consumer, create_producer
from herald_common.lifespan import open_pool_and_producer
from herald_common.supervisor import Supervisor
from herald_web.auth import Authenticator
from herald_web.cors import allow_origins
from herald_web.health import health_routes
from herald_web.limits import BodySizeLimit
from herald_web.serve import ServerOptions, serve


def create_app(settings: ChannelsSettings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = ChannelsMetrics()
        hub = Hub()
        pool = create_pool(settings.database, name="herald-channels")
        inbox = ChannelInbox(pool, settings.replay_page_size)
        # The directory names this process apart from any other, even on the same host.
        replica = f"{settings.replica_id}/{secrets.token_hex(4)}"
        directory = PgDirectory(pool, replica)
        client_id = f"herald-channels-{settings.replica_id}"
        producer = create_producer(settings.kafka, client_id=client_id)
        broadcaster = KafkaBroadcaster(producer, settings.topics.channel_broadcast)
        unread = UnreadCounts(hub, inbox)
        topics = settings.topics
        consumer = ChannelsConsumer(
            create_consumer(
                settings.kafka, client_id=client_id, group_id=None, auto_offset_reset="latest"
            ),
            broadcast_topic=topics.channel_broadcast,
            employee_topics=topics.employee_topics(),
            progress_topic=topics.allocation_completed,
            hub=hub,
            unread=unread,
            metrics=metrics,
            # Claimed under this process's name, apart from any other even on one host.
            dead_letters=ClaimedDeadLetters(
                DeadLetterPublisher(producer, settings.kafka.max_record_bytes),
                pool,
                f"herald-channels-{replica}",
            ),
            max_record_bytes=settings.kafka.max_record_bytes,
        )
        credentials = settings.credentials()
        context = ChannelsContext(
            app_key=settings.app_key,
            # Without a secret nothing verifies: private channels and sign-ins are refused.
            app_secret=credentials[1] if credentials else secrets.token_hex(32),
            activity_timeout=settings.activity_timeout_seconds,
            client_events=settings.client_events,
            client_events_per_second=settings.client_events_per_second,
            send_queue_size=settings.send_queue_size,
            hub=hub,
            directory=directory,
            broadcaster=broadcaster,
            inbox=inbox,
            metrics=metrics,
        )
        async with contextlib.AsyncExitStack() as resources:
            await open_pool_and_producer(resources, pool, producer)
            await directory.register()
            resources.push_async_callback(directory.deregister)
            resources.push_async_callback(consumer.stop)
            await consumer.start(producer.partitions_for)
            tasks = Supervisor(resources, metrics.task_restarts)
            tasks.start("channels-consumer", consumer.run)
            tasks.start("channels-unread", unread.run)
            tasks.start(
                "channels-directory",
                functools.partial(
                    keep_alive, directory, broadcaster, settings.replica_timeout_seconds
                ),
            )
            app.state.authenticator = Authenticator(settings.auth)
            if credentials is not None:
                # The Pusher HTTP API answers only where a secret can verify its signatures.
                app.state.pusher_app = pusher_http.PusherApp(
                    app_id=settings.app_id,
                    key=settings.app_key,
                    secret=credentials[1],
                    directory=directory,
                    broadcaster=broadcaster,
                    triggers=TriggerPublisher(
                        producer,
                        broadcaster,
                        requested_topic=topics.notification_requested,
                        app_id=settings.app_id,
                    ),
                )
            app.state.runtime = ChannelsRuntime(
                settings, metrics, pool, hub, directory, broadcaster, context, consumer, tasks
            )
            yield

    limit = Middleware(
        BodySizeLimit,
        # A batch of the HTTP API carries up to 10 events of 10 KB each.
        limit_for=lambda path: (
            max(pusher_http.MAX_BODY_BYTES, settings.max_body_bytes)
            if path.startswith("/apps/")
            else settings.max_body_bytes
        ),
    )
    app = FastAPI(
        title="Herald channels",
        version="0.1.0",
        description="The Pusher Channels protocol (version 7) with Herald's replay.",
        middleware=[limit],
        lifespan=lifespan,
    )
    allow_origins(app, settings.cors_origins)
    app.include_router(channel_auth.router)
    pusher_http.install(app)
    app.router.routes.extend([*websocket.routes, *health_routes(health.probes)])
    return app


def _server(app: FastAPI, options: ServerOptions) -> uvicorn.Server:
    # websockets' sans-I/O protocol; uvicorn's own WebSocket pings stay on as a keepalive
    # under the Pusher-level ones.
    return uvicorn.Server(options.config(app, ws="websockets-sansio"))


def main() -> None:
    # Thousands of idle sockets are long-lived objects: fewer full collections (as the notifier).
    relax_garbage_collection()
    settings = load_settings()
    grace = math.ceil(settings.shutdown_grace_seconds)
    serve(create_app, settings, graceful_shutdown_seconds=grace, server=_server)
