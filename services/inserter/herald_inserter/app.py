"""The inserter: a faust-streaming worker built by a factory (no module-level app)."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faust
from aiokafka.errors import IllegalStateError
from faust.exceptions import ConsumerNotStarted
from prometheus_client import generate_latest

from herald_common.db import create_pool, ping
from herald_common.gc_tuning import relax_garbage_collection
from herald_common.kafka import (
    METADATA_MAX_AGE_MS,
    create_consumer,
    create_producer,
    tls_context,
)
from herald_common.logs import configure_logging
from herald_common.retry import RetryPolicy
from herald_common.settings import KafkaSettings
from herald_inserter import compat
from herald_inserter.api.committed_requests import CommittedRequests
from herald_inserter.api.requests_topic import SharedScope, register_requests_agent
from herald_inserter.domain.allocation_store import AllocationStore
from herald_inserter.domain.allocations import AllocationProcessor
from herald_inserter.domain.dispatcher import RequestDispatcher
from herald_inserter.domain.processing import AfterCommit
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.push_store import PushStore
from herald_inserter.domain.pushes import PushProcessor
from herald_inserter.domain.revocation_store import RevocationStore
from herald_inserter.domain.revocations import RevocationProcessor
from herald_inserter.domain.transactions import TransactionalProducer
from herald_inserter.metrics import InserterMetrics, PartitionProgress
from herald_inserter.settings import InserterSettings, load_settings

logger = logging.getLogger(__name__)


def broker_credentials(kafka: KafkaSettings) -> faust.auth.Credentials | None:
    """faust's own consumer and producer need the same security as our aiokafka clients."""
    context = tls_context(kafka)
    if kafka.sasl_mechanism:
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=password,
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def committed_requests(kafka: KafkaSettings) -> CommittedRequests:
    """The public path's check that a request was committed (see compat)."""
    return CommittedRequests(
        create_consumer(kafka, client_id="herald-inserter-committed", group_id=None)
    )


def create_app(settings: InserterSettings, *, after_commit: AfterCommit | None = None) -> faust.App:
    """The worker; `after_commit` is a test hook (see AllocationProcessor), None in production."""
    metrics = InserterMetrics()
    # Which private APIs this process may use: checked once, logged (docs/decisions/0042).
    internals = compat.Internals.choose(settings.compat)
    brokers = [f"kafka://{host}" for host in settings.kafka.bootstrap.split(",")]
    app = compat.app_class(internals)(
        settings.group_id,
        broker=brokers,
        broker_credentials=broker_credentials(settings.kafka),
        autodiscover=False,
        store="memory://",
        web_enabled=True,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_host=settings.web_host,
        consumer_auto_offset_reset="earliest",
        # Our topics are created explicitly; the leader topic is unused here.
        topic_disable_leader=True,
        topic_allow_declare=False,
        producer_acks=-1,
        stream_wait_empty=False,
        # Static membership under the worker's id: a worker that restarts within the
        # session timeout gets its partitions back at once, without a rebalance.
        consumer_group_instance_id=settings.transactional_id,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        # As every consumer of ours (herald_common.kafka): aiokafka retries a partition's
        # offset lookup on a stale leader (NotLeaderForPartition) without asking for new
        # metadata, so faust's default 300 s stalled the worker that long after a network
        # fault (tests/reliability/cluster/test_network_burst.py).
        consumer_metadata_max_age_ms=METADATA_MAX_AGE_MS,
    )

    topics = settings.topics

    @asynccontextmanager
    async def dispatcher_scope() -> AsyncIterator[RequestDispatcher]:
        pool = create_pool(settings.database, name="herald-inserter")
        producer = TransactionalProducer(
            lambda: create_producer(
                settings.kafka,
                client_id="herald-inserter",
                transactional_id=settings.transactional_id,
                # The broker's limit sits above ours, so ours is the one that fires.
                transaction_timeout_ms=int(settings.transaction_timeout_seconds * 1000) + 15_000,
            ),
            settings.transaction_timeout_seconds,
            database=lambda: ping(pool),
        )
        # Progress only informs watchers: it goes at once, outside any transaction.
        progress_producer = create_producer(settings.kafka, client_id="herald-inserter-progress")
        async with contextlib.AsyncExitStack() as resources:
            await pool.open(wait=True)
            resources.push_async_callback(pool.close)
            await producer.start()
            resources.push_async_callback(producer.stop)
            await progress_producer.start()
            resources.push_async_callback(progress_producer.stop)
            publisher = EventPublisher(
                producer,
                completed_topic=topics.allocation_completed,
                progress_producer=progress_producer,
            )
            retry = RetryPolicy(
                settings.max_attempts,
                settings.retry_initial_seconds,
                settings.retry_max_seconds,
            )
            yield RequestDispatcher(
                allocation_topic=topics.allocation_requested,
                push_topic=topics.notification_requested,
                revocation_topic=topics.revocation_requested,
                allocations=AllocationProcessor(
                    AllocationStore(
                        pool,
                        approval=settings.approval,
                        chunk_size=settings.chunk_employees,
                        first_chunk_size=settings.first_chunk_employees,
                    ),
                    publisher,
                    metrics,
                    topics.voucher_allocated,
                    retry,
                    after_commit=after_commit,
                ),
                pushes=PushProcessor(
                    PushStore(pool), publisher, metrics, topics.notification_pushed, retry
                ),
                revocations=RevocationProcessor(
                    RevocationStore(pool),
                    publisher,
                    metrics,
                    topics.voucher_revoked,
                    retry,
                    after_commit=after_commit,
                ),
                producer=producer,
                metrics=metrics,
                retry=retry,
                max_record_bytes=settings.kafka.max_record_bytes,
            )

    request_topics = [
        topics.allocation_requested,
        topics.notification_requested,
        topics.revocation_requested,
    ]
    progress = PartitionProgress(*request_topics)
    confirm = None
    if not internals.consumer_hooks:  # faust's own consumer reads uncommitted requests too
        confirm = functools.partial(committed_requests, settings.kafka)
    # Pushes have an agent of their own, so that one sent during a large allocation is
    # written and published between two of its chunks (docs/decisions/0068), not after it.
    # Revocations stay with allocations: a revocation follows the allocation it revokes.
    shared = SharedScope(dispatcher_scope)
    register_requests_agent(
        app,
        [topics.allocation_requested, topics.revocation_requested],
        shared,
        progress,
        confirm=confirm,
    )
    register_requests_agent(
        app, [topics.notification_requested], shared, progress, confirm=confirm, name="pushes"
    )

    async def report_lag() -> None:
        consumer = app.consumer
        try:
            lag = await progress.lag(consumer.assignment(), consumer.highwater, consumer.position)
        except (ConsumerNotStarted, AssertionError, IllegalStateError):
            # Not started yet, or a rebalance moved a partition mid-count (aiokafka asserts
            # on unassigned partitions): the next tick counts again.
            return
        metrics.consumer_lag.set(lag)

    app.timer(interval=5.0)(report_lag)

    @app.page("/healthz")
    async def healthz(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.json({"status": "ok"})

    @app.page("/metrics")
    async def metrics_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.bytes(
            generate_latest(metrics.registry), content_type="text/plain; version=0.0.4"
        )

    return app


def main(*, after_commit: AfterCommit | None = None) -> None:
    relax_garbage_collection()
    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings, after_commit=after_commit)
    worker = faust.Worker(app, loglevel=settings.log_level, override_logging=False)
    worker.execute_from_commandline()
