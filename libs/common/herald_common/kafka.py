"""Kafka clients with Herald's safe defaults.

aiokafka's defaults (acks=1, no idempotence, auto-commit, read_uncommitted) can lose or
expose uncommitted data, so every client is built here with each of them set explicitly.
Clients must be created inside a running event loop, i.e. from a lifespan.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.helpers import create_ssl_context

from herald_common.settings import KafkaSettings


def tls_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context SSL and SASL_SSL need (aiokafka refuses them without one)."""
    if not settings.security_protocol.upper().endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(cafile=settings.ssl_cafile)
    return context


def connection_options(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": settings.request_timeout_ms,
    }
    context = tls_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.sasl_mechanism:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        if settings.sasl_password is not None:
            options["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    return options


def create_producer(
    settings: KafkaSettings,
    *,
    client_id: str,
    transactional_id: str | None = None,
    transaction_timeout_ms: int = 60_000,
) -> AIOKafkaProducer:
    """An idempotent producer that waits for all in-sync replicas.

    With a `transactional_id` every send must happen inside a transaction; the broker
    aborts one that stays open longer than `transaction_timeout_ms`.
    """
    return AIOKafkaProducer(
        **connection_options(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        transactional_id=transactional_id,
        transaction_timeout_ms=transaction_timeout_ms,
        linger_ms=settings.linger_ms,
        # A transaction begun right after the previous commit is often told "concurrent
        # transactions" while the broker writes the markers; aiokafka's 100 ms backoff then
        # makes every transaction take over 100 ms. The Java client retries that after 20.
        retry_backoff_ms=20,
        max_batch_size=settings.max_batch_bytes,
        compression_type=None if settings.compression_type == "none" else settings.compression_type,
    )


# When a partition leader's broker dies, aiokafka's fetcher only retries that node
# (NodeNotReadyError) and asks for no new metadata: a consumer learns the new leader from
# the periodic refresh, 300 s by default. On the three-broker cluster a notifier stalled
# for those 300 s (tests/reliability/cluster/test_stream_burst.py); every 10 s bounds it.
METADATA_MAX_AGE_MS = 10_000


def create_consumer(
    settings: KafkaSettings,
    *topics: str,
    client_id: str,
    group_id: str | None,
    auto_offset_reset: str = "earliest",
    max_poll_interval_ms: int = 300_000,
    max_partition_fetch_bytes: int = 1024 * 1024,
) -> AIOKafkaConsumer:
    """A read_committed consumer whose offsets are committed by the caller after processing.

    Values are returned as raw bytes: a deserializer that raises would make aiokafka retry
    the same record forever, so decoding belongs to the handler and its dead-letter path.
    A group member that goes `max_poll_interval_ms` without polling leaves its group.
    `max_partition_fetch_bytes` is how much of one partition a fetch may bring (compressed).
    """
    return AIOKafkaConsumer(
        *topics,
        **connection_options(settings),
        client_id=client_id,
        group_id=group_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset=auto_offset_reset,
        max_poll_interval_ms=max_poll_interval_ms,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
    )


async def assign_from_end(
    consumer: AIOKafkaConsumer,
    topics: Iterable[str],
    partitions_for: Callable[[str], Awaitable[set[int]]],
    choose: Callable[[str, set[int]], Iterable[int]] | None = None,
) -> list[TopicPartition]:
    """Start `consumer` on every partition of `topics`, positioned at the end: live from here.

    For readers without a group that catch up elsewhere (the inbox). `partitions_for` is a
    producer's metadata lookup: it waits for a topic created moments ago, which the
    consumer's own metadata (tracking no topics) does not. `choose` picks, of a topic's
    partitions, those to read (all of them without it).
    """
    await consumer.start()
    assignment: list[TopicPartition] = []
    for topic in topics:
        partitions = await partitions_for(topic)
        chosen = sorted(partitions) if choose is None else choose(topic, partitions)
        assignment += [TopicPartition(topic, partition) for partition in chosen]
    consumer.assign(assignment)
    await consumer.seek_to_end(*assignment)
    for tp in assignment:
        await consumer.position(tp)
    return assignment
