"""The mailer: FastAPI app factory and lifespan (consumer task, preferences API, probes)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from herald_common.db import create_pool
from herald_common.dead_letter import DeadLetterPublisher
from herald_common.dead_letter_claims import ClaimedDeadLetters
from herald_common.kafka import create_consumer, create_producer
from herald_common.lifespan import open_pool_and_producer
from herald_common.retry import RetryPolicy
from herald_common.supervisor import Supervisor
from herald_mailer.api import health, preferences
from herald_mailer.domain.compose import Templates
from herald_mailer.domain.consumer import CompletionConsumer
from herald_mailer.domain.preferences import PreferenceStore
from herald_mailer.domain.processor import CompletionProcessor, EmailSettings
from herald_mailer.domain.publisher import SummaryPublisher
from herald_mailer.domain.revocation_summaries import RevocationSummaryStore
from herald_mailer.domain.smtp import SmtpSender
from herald_mailer.domain.store import SummaryStore
from herald_mailer.metrics import MailerMetrics
from herald_mailer.runtime import MailerRuntime
from herald_mailer.settings import MailerSettings, load_settings
from herald_web.auth import Authenticator
from herald_web.docs import serve_docs
from herald_web.health import health_routes
from herald_web.serve import serve


def create_app(settings: MailerSettings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = MailerMetrics()
        client_id = f"herald-mailer-{settings.replica_id}"
        pool = create_pool(settings.database, name="herald-mailer")
        producer = create_producer(settings.kafka, client_id=client_id)
        processor = CompletionProcessor(
            SummaryStore(pool, settings.public_base_url),
            SummaryPublisher(producer, settings.topics.notification_pushed),
            SmtpSender(settings),
            Templates(),
            DeadLetterPublisher(producer, settings.kafka.max_record_bytes),
            # Named apart from any other process, even one on the same host.
            ClaimedDeadLetters(
                DeadLetterPublisher(producer, settings.kafka.max_record_bytes),
                pool,
                f"{client_id}/{secrets.token_hex(4)}",
            ),
            metrics,
            EmailSettings(
                sender=settings.smtp_from,
                envelope_sender=settings.envelope_sender,
                public_base_url=settings.public_base_url,
                max_listed_members=settings.max_listed_members,
            ),
            RetryPolicy(
                settings.max_attempts, settings.retry_initial_seconds, settings.retry_max_seconds
            ),
            settings.kafka.max_record_bytes,
            revocations=RevocationSummaryStore(pool, settings.public_base_url),
        )
        consumer = CompletionConsumer(
            create_consumer(
                settings.kafka,
                client_id=client_id,
                group_id=settings.group_id,
                auto_offset_reset=settings.auto_offset_reset,
                max_poll_interval_ms=int(settings.max_poll_interval_seconds * 1000),
            ),
            settings.topics.allocation_completed,
            processor,
        )
        async with contextlib.AsyncExitStack() as resources:
            await open_pool_and_producer(resources, pool, producer)
            resources.push_async_callback(consumer.stop)
            await consumer.start()
            tasks = Supervisor(resources, metrics.task_restarts)
            tasks.start("mailer-consumer", consumer.run)
            app.state.authenticator = Authenticator(settings.auth)
            app.state.runtime = MailerRuntime(
                settings, metrics, pool, PreferenceStore(pool), consumer, tasks
            )
            yield

    app = FastAPI(
        title="Herald mailer", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    serve_docs(app)
    app.include_router(preferences.router)
    app.router.routes.extend(health_routes(health.probes))
    return app


def main() -> None:
    serve(create_app, load_settings(), graceful_shutdown_seconds=5)
