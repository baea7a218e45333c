"""The busiest partition's leader SIGKILLed while the notifier delivers to 10,000 open streams.

The streams are held by the benchmark's load generator in a process of its own
(stream_load.py): the test process itself could not hold 10,000 next to three brokers and
the services on this suite's two-core machine. Opening them, and both processes' CPU while
they open, are printed with the figures.
"""

from __future__ import annotations

import pytest

from tests.reliability.cluster.outcome import Clock
from tests.reliability.cluster.stream_load import StreamLoad, assert_delivered_whole
from tests.reliability.workload import (
    Database,
    allocate,
    departments,
    push,
    seed_employees,
    until,
)
from tests.support.kafka_cluster import partition_leaders
from tests.support.topic_reader import HighWatermarks, high_watermarks

pytestmark = [pytest.mark.reliability, pytest.mark.cluster, pytest.mark.timeout(600)]

BURST_STREAMS = 10_000
# A push before, the allocation the kill falls in, a push after.
SENT_TO_EACH = 3


async def test_busiest_leader_killed_during_a_stream_burst(
    cluster_services, cluster_env, cluster_stack, figures, tmp_path
):
    names = departments("Burst", 5)
    seed_employees(cluster_env, "B", names, BURST_STREAMS // len(names))
    employees = [f"B{n:06d}" for n in range(1, BURST_STREAMS + 1)]
    db = Database(cluster_env.database_url)
    api = cluster_services.allocation_url
    topic = cluster_env.topics.voucher_allocated
    notifier = cluster_services.notifier.process
    assert notifier is not None
    streams = StreamLoad(
        cluster_env, cluster_services.notifier_port, employees, tmp_path, "burst-loadgen"
    )
    try:
        figures.update(streams=BURST_STREAMS, **await streams.open(notifier.pid))
        (before,) = (await db.fetch("SELECT coalesce(max(id), 0) FROM notifications"))[0]
        await streams.arm(SENT_TO_EACH)
        await push(cluster_env, api, employees, "Before the kill")

        async def first_push_delivered() -> bool:
            return await streams.received() >= BURST_STREAMS

        await until(first_push_delivered, 120, "the first push delivered", interval=0.2)
        since = await high_watermarks(cluster_env.kafka, topic)
        await allocate(cluster_env, api, names, "Burst")

        async def records_flowing() -> bool:
            async with HighWatermarks(cluster_env.kafka, topic) as marks:
                now = await marks.by_partition()
            return sum(now.values()) - sum(since.values()) >= BURST_STREAMS // 4

        await until(records_flowing, 120, "the burst under way", interval=0.02)
        async with HighWatermarks(cluster_env.kafka, topic) as marks:
            now = await marks.by_partition()
        busiest = max(now, key=lambda p: now[p] - since.get(p, 0))
        leader = (await partition_leaders(cluster_env.kafka, topic))[busiest]["leader"]
        assert isinstance(leader, int)
        clock = Clock()
        cluster_stack.cluster.kill_node(cluster_stack.cluster.node(leader))
        figures.update(killed_node=leader, partition=busiest)
        await push(cluster_env, api, employees, "After the kill")
        caught_up = await until(streams.everyone_has_them, 300, "every stream has everything")
        figures["all_delivered_seconds_after_kill"] = clock()
        figures["caught_up_seconds"] = round(caught_up, 1)
        outcome = await streams.outcome(db, before)
        figures.update(outcome)
    finally:
        await streams.close()

    assert_delivered_whole(outcome, BURST_STREAMS, SENT_TO_EACH)
