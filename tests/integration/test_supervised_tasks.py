"""A background task that fails is restarted, and readiness says so while it is down.

The failure is a real one: a dead-letter send that cannot complete. Each test runs its
service on topics of its own, created without the dead-letter topic of
`herald.allocation.completed` (the broker does not create topics by itself), so the
service's producer waits for it, gives up after the request timeout and raises from the
consumer loop, as it would with the broker away. Creating the topic then is the broker
coming back.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from herald_common.settings import TopicSettings
from herald_common.topics import delete_topics, ensure_topics, topic_specs
from tests.conftest import HeraldEnv
from tests.support.dead_letters import dead_letters
from tests.support.processes import ServiceProcess, free_port
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

ADMIN = ("SUP-ADMIN", "Supervised Admin", "Supervised-HR", "G6", date(2015, 1, 1))
# The services give up on a send after this long, so the failure comes within seconds.
REQUEST_TIMEOUT_MS = "3000"


@pytest.fixture
def topics(herald_env: HeraldEnv) -> Iterator[TopicSettings]:
    """Topics of this test alone; the completed topic's dead-letter topic is left out."""
    own = TopicSettings(prefix=f"test-supervised-{secrets.token_hex(4)}.")
    missing = TopicSettings.dead_letter(own.allocation_completed)
    asyncio.run(_create(herald_env, [s for s in topic_specs(own) if s.name != missing]))
    yield own
    asyncio.run(delete_topics(herald_env.kafka, own))


async def _create(env: HeraldEnv, specs: list) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=env.infra.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(s.name, s.partitions, 1) for s in specs])
    finally:
        await admin.close()


@asynccontextmanager
async def running(
    env: HeraldEnv, name: str, module: str, port_variable: str, topics: TopicSettings
) -> AsyncIterator[str]:
    port = free_port()
    variables = {
        **env.variables(),
        port_variable: str(port),
        "HERALD_TOPICS_PREFIX": topics.prefix,
        "HERALD_KAFKA_REQUEST_TIMEOUT_MS": REQUEST_TIMEOUT_MS,
    }
    process = ServiceProcess(name, module, variables, env.log_dir).start()
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(process.wait_http, f"{url}/readyz")
        yield url
    finally:
        process.stop()


async def readiness(url: str, status: int, timeout: float = 60) -> httpx.Response:
    """The first /readyz answer with `status`; fails with the last answer after `timeout`."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            response = await client.get(f"{url}/readyz")
            if response.status_code == status:
                return response
            assert time.monotonic() < deadline, (
                f"/readyz answered {response.status_code} {response.text} for {timeout}s,"
                f" never {status}"
            )
            await asyncio.sleep(0.1)


async def send(env: HeraldEnv, topic: str, *values: bytes, key: bytes | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=env.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def progress(allocation_id: uuid.UUID, published: int) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/tests/supervised",
            "type": "herald.allocation.progress",
            "time": datetime.now(UTC).isoformat(),
            "data": {
                "allocation_id": str(allocation_id),
                "phase": "published",
                "matched": 10,
                "inserted": 10,
                "published": published,
            },
        }
    ).encode()


async def until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def restarts(metrics: str, task: str) -> float:
    prefix = f'_task_restarts_total{{task="{task}"}} '
    found = [line for line in metrics.splitlines() if prefix in line]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


async def test_the_notifier_consumer_is_restarted_and_not_ready_meanwhile(
    herald_env: HeraldEnv, topics: TopicSettings
) -> None:
    with psycopg.connect(herald_env.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO employees (id, name, email, department, grade, hired_on)"
            " VALUES (%s, %s, 'sup-admin@example.com', %s, %s, %s) ON CONFLICT DO NOTHING",
            ADMIN,
        )
    allocation_id = uuid.uuid4()
    completed = topics.allocation_completed
    async with (
        running(
            herald_env, "notifier-supervised", "herald_notifier", "HERALD_NOTIFIER_PORT", topics
        ) as url,
        httpx.AsyncClient(timeout=None) as sse,
    ):
        watcher = await StreamRecorder(
            sse,
            f"{url}/v1/stream",
            {"channels": f"private-allocation-{allocation_id}"},
            headers=herald_env.bearer(ADMIN[0], ["employee", "hr-admin"]),
        ).open()

        def published() -> list[int]:
            return [
                f.json()["data"]["published"]
                for f in watcher.events
                if f.event == "herald.allocation.progress"
            ]

        try:
            await send(herald_env, completed, progress(allocation_id, 1))
            await until(lambda: published() == [1])

            # Not an event: the consumer dead-letters it, and the dead-letter topic is missing.
            await send(herald_env, completed, b"not an event")
            down = await readiness(url, 503)
            assert "notifier-consumer" in down.json()["reason"]

            await ensure_topics(herald_env.kafka, topics)  # the broker takes it again
            await readiness(url, 200)
            await send(herald_env, completed, progress(allocation_id, 2))
            await until(lambda: published() == [1, 2])
        finally:
            await watcher.close()

        # The record the failed send was for is not lost: it was dead-lettered on restart.
        found = await dead_letters(
            herald_env.infra.kafka_bootstrap, completed, 1, lambda r: r.value == b"not an event"
        )
        assert [r.value for r in found] == [b"not an event"]
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{url}/metrics")).text
        assert restarts(metrics, "notifier-consumer") >= 1


async def test_the_mailer_consumer_is_restarted_from_its_first_unfinished_record(
    herald_env: HeraldEnv, topics: TopicSettings
) -> None:
    completed = topics.allocation_completed
    async with running(
        herald_env, "mailer-supervised", "herald_mailer", "HERALD_MAILER_PORT", topics
    ) as url:
        # Two records the mailer rejects, fetched together: the first one's dead-letter send
        # fails, so the consumer stops with both read from Kafka and neither committed.
        await send(herald_env, completed, b"first", b"second", key=b"one partition")
        down = await readiness(url, 503)
        assert "mailer-consumer" in down.json()["reason"]

        await ensure_topics(herald_env.kafka, topics)
        await readiness(url, 200)
        # Restarted where it had not finished: both are handled, neither skipped.
        found = await dead_letters(
            herald_env.infra.kafka_bootstrap,
            completed,
            2,
            lambda r: r.value in (b"first", b"second"),
        )
        assert sorted(r.value for r in found) == [b"first", b"second"]
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{url}/metrics")).text
        assert restarts(metrics, "mailer-consumer") >= 1
