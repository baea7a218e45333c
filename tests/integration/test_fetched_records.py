"""The notifier's record readers against a real broker: what getmany would return, no more.

FetchedRecords reads aiokafka's fetch buffers directly (herald_notifier.compat); these
tests pin down that it skips aborted transactions and control batches, moves positions
like getmany, and raises fetch errors like it. Each test runs the public path's reader
(GetmanyRecords, domain/fetched_records.py) too: both readers return the same records.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import OffsetOutOfRangeError

from herald_common.kafka import connection_options
from herald_notifier.compat import FetchedRecords
from herald_notifier.domain.fetched_records import GetmanyRecords, RecordReader

pytestmark = pytest.mark.integration

PARTITIONS = 2
Reader = Callable[[AIOKafkaConsumer], RecordReader]


@pytest.fixture(params=[FetchedRecords, GetmanyRecords], ids=["fetch-buffers", "getmany"])
def reader(request: pytest.FixtureRequest) -> Reader:
    """Each of the notifier's readers: the default and the public path's."""
    return cast(Reader, request.param)


@pytest.fixture
async def topic(herald_env):
    name = f"{herald_env.topic_prefix}fetched-{secrets.token_hex(4)}"
    admin = AIOKafkaAdminClient(**connection_options(herald_env.kafka))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()


async def _produce(herald_env, topic: str) -> list[tuple[int, bytes]]:
    """Committed, aborted and plain records in both partitions; (partition, value) of those
    a read_committed reader must see, in order."""
    options = connection_options(herald_env.kafka)
    transactional = AIOKafkaProducer(
        **options,
        transactional_id=f"{topic}-writer",
        compression_type="zstd",
        max_batch_size=4096,  # several batches per transaction
    )
    plain = AIOKafkaProducer(**options, acks="all")
    await transactional.start()
    await plain.start()
    expected: list[tuple[int, bytes]] = []
    try:
        for round_ in range(3):
            async with transactional.transaction():
                for n in range(40):
                    partition = n % PARTITIONS
                    value = b"committed-%d-%d" % (round_, n)
                    headers = [("n", b"%d" % n)]
                    await transactional.send(
                        topic, value=value, key=b"k", partition=partition, headers=headers
                    )
                    expected.append((partition, value))
            await transactional.begin_transaction()
            for n in range(30):
                await transactional.send(topic, value=b"aborted", partition=n % PARTITIONS)
            await transactional.abort_transaction()
            for partition in range(PARTITIONS):
                value = b"plain-%d-%d" % (round_, partition)
                await plain.send_and_wait(topic, value=value, partition=partition)
                expected.append((partition, value))
    finally:
        await transactional.stop()
        await plain.stop()
    return expected


async def _reader(herald_env, topic: str, **extra: Any) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        **connection_options(herald_env.kafka),
        group_id=None,
        isolation_level="read_committed",
        enable_auto_commit=False,
        **extra,
    )
    await consumer.start()
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    return consumer


async def test_reads_exactly_what_getmany_reads(herald_env, topic, reader: Reader):
    expected = await _produce(herald_env, topic)
    by_partition = {p: [v for q, v in expected if q == p] for p in range(PARTITIONS)}

    consumer = await _reader(herald_env, topic)
    reference = await _reader(herald_env, topic)
    try:
        seen: dict[int, list[tuple[int, bytes | None, bytes | None, list[Any]]]] = {
            p: [] for p in range(PARTITIONS)
        }
        fetched = reader(consumer)
        while sum(map(len, seen.values())) < len(expected):
            for tp, records in await fetched.get(wait_seconds=5):
                seen[tp.partition] += [(r.offset, r.key, r.value, list(r.headers)) for r in records]
        assert {p: [v for _, _, v, _ in s] for p, s in seen.items()} == by_partition

        wanted: dict[int, list[tuple[int, bytes | None, bytes | None, list[Any]]]] = {
            p: [] for p in range(PARTITIONS)
        }
        while sum(map(len, wanted.values())) < len(expected):
            for tp, records in (await reference.getmany(timeout_ms=5000)).items():
                wanted[tp.partition] += [
                    (r.offset, r.key, r.value, list(r.headers)) for r in records
                ]
        assert seen == wanted  # offsets, keys, values and headers alike

        # Positions moved past everything, control markers included; nothing comes again.
        for p in range(PARTITIONS):
            tp = TopicPartition(topic, p)
            assert await consumer.position(tp) == await reference.position(tp)
            assert await consumer.position(tp) == consumer.last_stable_offset(tp)
        assert await fetched.get(wait_seconds=0.5) == []
    finally:
        await consumer.stop()
        await reference.stop()


async def test_reads_on_after_waiting_for_new_records(herald_env, topic, reader: Reader):
    consumer = await _reader(herald_env, topic)
    try:
        fetched = reader(consumer)
        assert await fetched.get(wait_seconds=0.3) == []
        waiting = asyncio.ensure_future(fetched.get(wait_seconds=30))
        producer = AIOKafkaProducer(**connection_options(herald_env.kafka), acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value=b"late", partition=1)
        finally:
            await producer.stop()
        got = await waiting
        assert [(tp.partition, [r.value for r in records]) for tp, records in got] == [
            (1, [b"late"])
        ]
    finally:
        await consumer.stop()


async def test_fetch_errors_are_raised_as_getmany_raises_them(herald_env, topic, reader: Reader):
    consumer = await _reader(herald_env, topic, auto_offset_reset="none")
    try:
        consumer.seek(TopicPartition(topic, 0), 1_000_000)
        fetched = reader(consumer)

        async def read_on() -> None:
            for _ in range(50):
                await fetched.get(wait_seconds=0.2)

        with pytest.raises(OffsetOutOfRangeError):
            await read_on()
    finally:
        await consumer.stop()
