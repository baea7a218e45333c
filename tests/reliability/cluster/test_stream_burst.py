"""The busiest partition's leader SIGKILLed while the notifier delivers to open streams.

10,000 streams do not fit beside three brokers and the services on this suite's two-core
machine within its time (the single-broker suite holds 500; each stream costs the test's
own client and the notifier a socket and a task, and opening them alone would take
minutes): BURST_STREAMS are opened, the number is printed with the figures.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.reliability.cluster.outcome import Clock
from tests.reliability.workload import (
    Database,
    all_opened,
    allocate,
    departments,
    everyone_has,
    push,
    seed_employees,
    swarm_clients,
    until,
)
from tests.support.kafka_cluster import partition_leaders
from tests.support.sse_swarm import Swarm
from tests.support.topic_reader import HighWatermarks, high_watermarks

pytestmark = [pytest.mark.reliability, pytest.mark.cluster, pytest.mark.timeout(600)]

BURST_STREAMS = 1_000
WHY_FEWER = "10,000 SSE clients plus 3 brokers do not fit the 2-core box in the matrix's time"
# A push before, the allocation the kill falls in, a push after.
SENT_TO_EACH = 3


async def test_busiest_leader_killed_during_a_stream_burst(
    cluster_services, cluster_env, cluster_stack, figures
):
    names = departments("Burst", 5)
    seed_employees(cluster_env, "B", names, BURST_STREAMS // len(names))
    employees = [f"B{n:06d}" for n in range(1, BURST_STREAMS + 1)]
    db = Database(cluster_env.database_url)
    api = cluster_services.allocation_url
    topic = cluster_env.topics.voucher_allocated
    clients = swarm_clients(cluster_env, employees)

    async with Swarm("127.0.0.1", cluster_services.notifier_port, clients):
        opened = await until(all_opened(clients), 180, "streams open")
        await push(cluster_env, api, employees, "Before the kill")
        await until(everyone_has(db, clients, 1), 120, "the first push delivered")
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
        figures.update(streams=BURST_STREAMS, why_not_10000=WHY_FEWER, killed_node=leader)
        figures.update(partition=busiest, open_seconds=round(opened, 1))
        try:
            await push(cluster_env, api, employees, "After the kill")
            caught_up = await until(
                everyone_has(db, clients, SENT_TO_EACH), 300, "every client has everything"
            )
            await asyncio.sleep(1)  # anything sent twice would have arrived by now
            figures["all_delivered_seconds_after_kill"] = clock()
            figures["caught_up_seconds"] = round(caught_up, 1)
        finally:
            # Printed however it ends: what each client missed, by kind, says where it stuck.
            sent = await db.notifications_of(employees)
            kinds = dict(
                await db.fetch(
                    "SELECT id, kind FROM notifications WHERE employee_id = ANY(%s)", (employees,)
                )
            )
            missing = [n for c in clients for n in set(sent[c.employee]) - set(c.ids)]
            figures.update(
                notifications_written=sum(len(ids) for ids in sent.values()),
                delivered=sum(len(c.ids) for c in clients),
                lost=len(missing),
                lost_by_kind={
                    k: sum(1 for n in missing if kinds[n] == k) for k in set(kinds.values())
                },
                duplicates=sum(c.duplicates for c in clients),
                unexpected=sum(len(set(c.ids) - set(sent[c.employee])) for c in clients),
                clients_out_of_order=sum(1 for c in clients if not c.in_order),
            )

    assert all(len(ids) == SENT_TO_EACH for ids in sent.values())
    assert figures["lost"] == 0
    assert figures["duplicates"] == 0
    assert figures["unexpected"] == 0
    assert figures["clients_out_of_order"] == 0
    assert figures["delivered"] == BURST_STREAMS * SENT_TO_EACH
