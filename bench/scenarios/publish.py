"""publish: the inserter's publisher against two baselines, in the same run.

- herald: `EventPublisher.publish_notifications` (the inserter's own code) on a producer
  from `herald_common.kafka.create_producer`, timed from the call until it returns, which
  is when Kafka acknowledged every record (acks=all). Encoding is included.
- naive: the same events, each envelope built by `notification_event` from the payload
  dict, one `await producer.send()` per record on an identical producer, then waiting for
  every acknowledgement.
- kafka-producer-perf-test: Kafka's own ProducerPerformance from the local stack's jars
  (`deploy/local/stack.sh kafka-class`), same record count, record size = the average size
  of the encoded events, acks=all, the tool's other defaults.
Each writes its own topic with the partition count of `herald.voucher.allocated`. The three
run in turn, round after round; each figure is the median over the rounds.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.config import BenchConfig
from bench.environment import STACK_SCRIPT, BenchRun
from bench.workload import median, notifications
from herald_common.catalogue import VOUCHER_ALLOCATED_TOPIC
from herald_common.events import CONTENT_TYPE, SOURCE_INSERTER, VOUCHER_ALLOCATED
from herald_common.kafka import connection_options, create_producer
from herald_common.notifications import notification_event
from herald_inserter.domain.inbox_writer import IssuedNotification
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.transactions import TransactionalProducer

_HEADERS = [("content-type", CONTENT_TYPE.encode())]
_PERF_SUMMARY = re.compile(
    r"(\d+) records sent, ([0-9.]+) records/sec \(([0-9.]+) MB/sec\),"
    r" ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency"
)


async def _create_topics(run: BenchRun, names: list[str], partitions: int) -> None:
    """Create the topics and wait until every partition has a leader."""
    admin = AIOKafkaAdminClient(**connection_options(run.kafka), client_id="herald-bench")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
        for _ in range(150):
            described = await admin.describe_topics(names)
            led = [
                p
                for t in described
                if t["error_code"] == 0
                for p in t["partitions"]
                if p["error_code"] == 0 and p["leader"] >= 0
            ]
            if len(led) == partitions * len(names):
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def _delete_topics(run: BenchRun, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(**connection_options(run.kafka), client_id="herald-bench")
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


async def _naive(
    producer: Any,
    topic: str,
    events: list[IssuedNotification],
    payloads: list[dict[str, Any]],
    created_at: datetime,
) -> int:
    """The obvious way: build each event's envelope, await one send() per event."""
    deliveries = []
    for n, payload in zip(events, payloads, strict=True):
        value = notification_event(
            notification_id=n.notification_id,
            kind=VOUCHER_ALLOCATED,
            source=SOURCE_INSERTER,
            employee_id=n.employee_id,
            created_at=created_at,
            payload=payload,
        )
        deliveries.append(
            await producer.send(topic, key=n.department.encode(), value=value, headers=_HEADERS)
        )
    await asyncio.gather(*deliveries)
    return len(deliveries)


async def _producer_performance(
    bootstrap: str, topic: str, records: int, record_size: int
) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        str(STACK_SCRIPT),
        "kafka-class",
        "org.apache.kafka.tools.ProducerPerformance",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--command-property",
        "acks=all",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 600)
    lines = [m for m in _PERF_SUMMARY.finditer(out.decode())]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"ProducerPerformance failed: {out.decode()[-2000:]}{err.decode()}")
    last = lines[-1]  # the final summary follows the periodic progress lines
    return {
        "records": int(last.group(1)),
        "events_per_second": float(last.group(2)),
        "mb_per_second": float(last.group(3)),
        "avg_latency_ms": float(last.group(4)),
        "max_latency_ms": float(last.group(5)),
    }


async def run(run: BenchRun, config: BenchConfig) -> dict[str, Any]:
    count = config.publish_events
    employees = run.employee_ids()
    allocation_id = uuid4()
    events = notifications(employees, count, 1_000_000_000, allocation_id)
    created_at = datetime.now(UTC)
    # The naive loop starts from the payloads as dicts, as code without templates would.
    payloads = [json.loads(n.payload_json) for n in events]
    sizes = [
        len(
            notification_event(
                notification_id=n.notification_id,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                employee_id=n.employee_id,
                created_at=created_at,
                payload=payload,
            )
        )
        for n, payload in zip(events, payloads, strict=True)
    ]
    record_size = round(sum(sizes) / len(sizes))
    prefix = run.topics.prefix
    herald_topic, naive_topic, perf_topic = (
        f"{prefix}bench.publish.{name}" for name in ("herald", "naive", "perf")
    )
    topics = [herald_topic, naive_topic, perf_topic]
    await _create_topics(run, topics, run.topics.partitions(VOUCHER_ALLOCATED_TOPIC))
    producer = create_producer(run.kafka, client_id="herald-bench-publish")
    await producer.start()
    # The inserter publishes inside Kafka transactions; so does the benchmark, with the
    # commit inside the timed part (that is when the events become visible).
    transactional = TransactionalProducer(
        lambda: create_producer(
            run.kafka,
            client_id="herald-bench-publish-tx",
            transactional_id=f"{prefix}bench-publish-{uuid4().hex[:8]}",
        ),
        timeout_seconds=60,
    )
    await transactional.start()
    herald_runs: list[float] = []
    naive_runs: list[float] = []
    perf_runs: list[dict[str, Any]] = []
    try:
        publisher = EventPublisher(
            transactional,
            completed_topic=run.topics.allocation_completed,
            progress_producer=producer,
        )
        warm_up = events[: min(1000, count)]
        async with publisher.transaction():
            await publisher.publish_notifications(
                herald_topic,
                warm_up,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                created_at=created_at,
            )
        await _naive(producer, naive_topic, warm_up, payloads[: len(warm_up)], created_at)
        for _ in range(config.publish_runs):
            started = time.perf_counter()
            async with publisher.transaction():
                sent = await publisher.publish_notifications(
                    herald_topic,
                    events,
                    kind=VOUCHER_ALLOCATED,
                    source=SOURCE_INSERTER,
                    created_at=created_at,
                )
            herald_runs.append(sent / (time.perf_counter() - started))
            started = time.perf_counter()
            sent = await _naive(producer, naive_topic, events, payloads, created_at)
            naive_runs.append(sent / (time.perf_counter() - started))
            perf_runs.append(
                await _producer_performance(
                    run.infra.kafka_bootstrap, perf_topic, count, record_size
                )
            )
    finally:
        await transactional.stop()
        await producer.stop()
        await _delete_topics(run, topics)
    herald = median(herald_runs)
    naive = median(naive_runs)
    perf = median([p["events_per_second"] for p in perf_runs])
    return {
        "events": count,
        "record_size_bytes": record_size,
        "partitions": run.topics.partitions(VOUCHER_ALLOCATED_TOPIC),
        "herald": {"events_per_second": herald, "runs": herald_runs},
        "naive_send_loop": {"events_per_second": naive, "runs": naive_runs},
        "producer_performance": {"events_per_second": perf, "runs": perf_runs},
        "ratio_vs_naive": herald / naive if herald and naive else None,
        "ratio_vs_producer_performance": herald / perf if herald and perf else None,
    }
