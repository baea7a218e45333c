"""Brokers of a three-node cluster killed, stopped and brought back while Herald works.

Each scenario holds the suite's pass criteria: 0 lost, 0 duplicated, each employee's ids
in order, every allocation completed, nothing the API accepted dropped.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from herald_common.kafka import connection_options
from herald_common.topics import topic_specs
from herald_inserter.settings import InserterSettings
from tests.reliability.cluster.conftest import ClusterStack
from tests.reliability.cluster.outcome import Clock, allocation_outcome
from tests.reliability.conftest import INSERTER_SETTINGS
from tests.reliability.workload import (
    Database,
    allocate,
    completed,
    departments,
    seed_employees,
    until,
)
from tests.support.kafka_cluster import MIN_INSYNC_REPLICAS, NODES, Node, partition_leaders
from tests.support.topic_reader import HighWatermarks, high_watermarks

pytestmark = [pytest.mark.reliability, pytest.mark.cluster, pytest.mark.timeout(600)]

LEADER_KILL_EMPLOYEES = 100_000
STOP_EMPLOYEES = 30_000
CONTROLLER_EMPLOYEES = 30_000


async def _configs(env, kind: ConfigResourceType, name: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**connection_options(env.kafka), client_id="reliability-configs")
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(kind, name)])
    finally:
        await admin.close()
    [resource] = response.resources
    return {entry[0]: entry[1] for entry in resource[4]}


async def test_herald_topics_and_transactions_are_replicated_three_ways(
    cluster_services, cluster_env, figures
):
    """Every Herald topic (and its dead-letter topic), the transaction state and the
    consumer offsets: 3 replicas, all in sync, min.insync.replicas=2; the inserter's
    transaction timeout within the brokers' maximum."""
    names = [spec.name for spec in topic_specs(cluster_env.topics)]
    internal = ["__transaction_state", "__consumer_offsets"]
    under_replicated, wrong_min_isr = [], []
    for name in names + internal:
        for partition, state in (await partition_leaders(cluster_env.kafka, name)).items():
            if len(state["replicas"]) != NODES or len(state["isr"]) != NODES:
                under_replicated.append((name, partition, state))
        if (await _configs(cluster_env, ConfigResourceType.TOPIC, name)).get(
            "min.insync.replicas"
        ) != str(MIN_INSYNC_REPLICAS):
            wrong_min_isr.append(name)
    broker = await _configs(cluster_env, ConfigResourceType.BROKER, "1")
    timeout_ms = int(float(INSERTER_SETTINGS["HERALD_INSERTER_TRANSACTION_TIMEOUT_SECONDS"]) * 1000)
    default_timeout_ms = int(InserterSettings().transaction_timeout_seconds * 1000)
    figures.update(
        topics=len(names) + len(internal),
        under_replicated=len(under_replicated),
        wrong_min_isr=wrong_min_isr,
        transaction_max_timeout_ms=broker["transaction.max.timeout.ms"],
        inserter_transaction_timeout_ms=timeout_ms,
        unclean_leader_election=broker["unclean.leader.election.enable"],
    )
    assert under_replicated == []
    assert wrong_min_isr == []
    assert broker["transaction.state.log.replication.factor"] == str(NODES)
    assert broker["transaction.state.log.min.isr"] == str(MIN_INSYNC_REPLICAS)
    assert broker["unclean.leader.election.enable"] == "false"
    # A longer timeout than the brokers allow makes InitProducerId fail at start-up.
    assert max(timeout_ms, default_timeout_ms) <= int(broker["transaction.max.timeout.ms"])


async def _busiest_leader(env, stack: ClusterStack, since: dict[int, int]) -> tuple[int, Node]:
    """The voucher topic's partition with the most records appended since `since`, and the
    node that leads it."""
    topic = env.topics.voucher_allocated
    async with HighWatermarks(env.kafka, topic) as marks:
        now = await marks.by_partition()
    busiest = max(now, key=lambda p: now[p] - since.get(p, 0))
    leader = (await partition_leaders(env.kafka, topic))[busiest]["leader"]
    assert isinstance(leader, int)
    return busiest, stack.cluster.node(leader)


async def _publishing(db: Database) -> None:
    """Until the inserter COPYs the vouchers: its Kafka transaction is open, records sent."""

    async def copying_vouchers() -> bool:
        return "employee_vouchers" in await db.copy_progress()

    await until(copying_vouchers, 300, "the COPY of the vouchers", interval=0.005)


async def test_busiest_leader_killed_during_a_100000_employee_allocation(
    cluster_services, cluster_env, cluster_stack, figures
):
    seed_employees(cluster_env, "K", departments("Leader", 10), LEADER_KILL_EMPLOYEES // 10)
    db = Database(cluster_env.database_url)
    topic = cluster_env.topics.voucher_allocated
    since = await high_watermarks(cluster_env.kafka, topic)
    allocation_id = await allocate(
        cluster_env, cluster_services.allocation_url, departments("Leader", 10), "Leader"
    )
    await _publishing(db)
    partition, node = await _busiest_leader(cluster_env, cluster_stack, since)
    row = await db.allocation(allocation_id)
    clock = Clock()
    cluster_stack.cluster.kill_node(node)
    new_leader = await _new_leader(cluster_env, topic, partition, node.node_id)
    moved = clock()
    figures.update(
        killed_node=node.node_id,
        partition=partition,
        status_at_kill=row["status"] if row else None,
        new_leader=new_leader,
        leader_moved_seconds=moved,
    )
    await _completes_whole(
        cluster_env, db, allocation_id, since, LEADER_KILL_EMPLOYEES, clock, figures
    )


async def _completes_whole(env, db, allocation_id, since, employees, clock, figures) -> None:
    """The allocation completes; the pass criteria hold (figures printed either way)."""
    await completed(db, allocation_id, timeout=300)
    figures["completed_seconds_after_fault"] = clock()
    outcome = await allocation_outcome(env, db, allocation_id, since, employees)
    figures.update(outcome.figures())
    outcome.assert_whole()


async def _new_leader(env, topic: str, partition: int, old: int, timeout: float = 120) -> int:
    """Waits until `partition` is led by a node other than `old`; returns that node."""
    found: list[int] = []

    async def moved() -> bool:
        try:
            leader = (await partition_leaders(env.kafka, topic))[partition]["leader"]
        except KafkaError:  # the admin client asked the dead node: ask again
            return False
        assert isinstance(leader, int)
        found.append(leader)
        return leader not in (old, -1)

    await until(moved, timeout, f"a new leader for partition {partition}", interval=0.2)
    return found[-1]


async def _allocation_under(
    env, services, stack: ClusterStack, prefix: str, employees: int
) -> tuple[Database, str, dict[int, int]]:
    """`employees` new employees in 5 departments, allocated; returns once the inserter
    publishes (its Kafka transaction open)."""
    names = departments(prefix, 5)
    seed_employees(env, prefix[0], names, employees // len(names))
    db = Database(env.database_url)
    since = await high_watermarks(env.kafka, env.topics.voucher_allocated)
    allocation_id = await allocate(env, services.allocation_url, names, prefix)
    await _publishing(db)
    return db, allocation_id, since


async def test_a_broker_stopped_cleanly_and_brought_back_during_an_allocation(
    cluster_services, cluster_env, cluster_stack, figures
):
    db, allocation_id, since = await _allocation_under(
        cluster_env, cluster_services, cluster_stack, "Stop", STOP_EMPLOYEES
    )
    _, node = await _busiest_leader(cluster_env, cluster_stack, since)
    clock = Clock()
    cluster_stack.cluster.stop_node(node)  # SIGTERM: a controlled shutdown
    stopped = clock()
    cluster_stack.cluster.start_node(node)
    back = round(stopped + await cluster_stack.cluster.registered(NODES), 1)
    figures.update(
        stopped_node=node.node_id,
        controlled_shutdown_seconds=stopped,
        registered_again_seconds=back,
    )
    await _completes_whole(cluster_env, db, allocation_id, since, STOP_EMPLOYEES, clock, figures)


async def test_the_active_controller_killed_during_an_allocation(
    cluster_services, cluster_env, cluster_stack, figures
):
    db, allocation_id, since = await _allocation_under(
        cluster_env, cluster_services, cluster_stack, "Ctrl", CONTROLLER_EMPLOYEES
    )
    cluster = cluster_stack.cluster
    controller = cluster.node(cluster.active_controller())
    clock = Clock()
    cluster.kill_node(controller)
    successor = cluster.active_controller(other_than=controller.node_id)
    figures.update(
        killed_controller=controller.node_id,
        new_controller=successor,
        new_controller_seconds=clock(),
    )
    assert successor != controller.node_id
    await _completes_whole(
        cluster_env, db, allocation_id, since, CONTROLLER_EMPLOYEES, clock, figures
    )


ISR_EMPLOYEES = 30_000
LATER_EMPLOYEES = 5_000
ISR_OUTAGE_SECONDS = 20


async def test_two_brokers_stopped_so_the_in_sync_replicas_fall_below_the_minimum(
    cluster_services, cluster_env, cluster_stack, figures
):
    """One broker stopped, then a second during an allocation's publish, and a second
    allocation requested while they are away. With one in-sync replica
    (min.insync.replicas=2) acks=all producers are refused (NOT_ENOUGH_REPLICAS) and
    retry, the transaction cannot commit: a read_committed reader sees of the first
    allocation only the chunks committed before, of the second nothing; the API accepts the second
    into its outbox within its 5 s bound. One broker back, both complete, whole."""
    cluster = cluster_stack.cluster
    first_away, second_away = cluster.nodes[2], cluster.nodes[1]
    cluster.stop_node(first_away)
    db, first, since = await _allocation_under(
        cluster_env, cluster_services, cluster_stack, "Isr", ISR_EMPLOYEES
    )
    later = departments("Later", 5)
    seed_employees(cluster_env, "L", later, LATER_EMPLOYEES // len(later))
    clock = Clock()
    cluster.stop_node(second_away)
    stopped = clock()
    requested = Clock()
    second = await allocate(cluster_env, cluster_services.allocation_url, later, "Later")
    accepted_seconds = requested()
    outbox = await db.fetch("SELECT count(*) FROM outbox")
    await asyncio.sleep(max(0.0, ISR_OUTAGE_SECONDS - clock()))
    readable, unavailable = await _readable(cluster_env, since)
    statuses = [(await db.allocation(a) or {}).get("status") for a in (first, second)]
    published_through = await _published_through(db, first)
    outage = clock()
    cluster.start_node(second_away)
    back = Clock()
    await cluster.registered(NODES - 1)
    registered = back()
    await completed(db, first, timeout=300)
    await completed(db, second, timeout=300)
    done = back()
    # Both read from the same start: each tally is judged against its own allocation's ids.
    outcomes = [
        await allocation_outcome(cluster_env, db, first, since, ISR_EMPLOYEES),
        await allocation_outcome(cluster_env, db, second, since, LATER_EMPLOYEES),
    ]
    figures.update(
        {
            "employees": [ISR_EMPLOYEES, LATER_EMPLOYEES],
            "brokers_stopped": [first_away.node_id, second_away.node_id],
            "second_stop_seconds": stopped,
            "second_accepted_seconds": accepted_seconds,
            "outbox_rows_while_away": outbox[0][0],
            "readable_records_while_away": len(readable),
            "first_published_through_id_while_away": published_through,
            "partitions_without_leader_while_away": unavailable,
            "statuses_while_away": statuses,
            "outage_seconds": outage,
            "broker_registered_seconds": registered,
            "both_completed_seconds_after_return": done,
            "first": outcomes[0].figures(),
            "second": outcomes[1].figures(),
        }
    )
    assert accepted_seconds < 15  # the API's 5 s delivery bound, then the outbox
    # Nothing half-published: the first allocation's chunks committed before the second
    # stop may be readable (decision 0068), no record of the open transaction is, and
    # nothing of the second allocation.
    assert statuses[0] == "completed" or all(
        published_through is not None and event_id <= published_through for event_id in readable
    ), (published_through, max(readable, default=None))
    assert statuses[1] != "completed"
    for outcome in outcomes:
        outcome.assert_whole()


async def _readable(env, since: dict[int, int]) -> tuple[list[int], int]:
    """The ids of the events a read_committed reader could read past `since` now (up to each
    partition's last stable offset), over the partitions that have a leader; and how many
    partitions have none."""
    topic = env.topics.voucher_allocated
    quick = env.kafka.model_copy(update={"request_timeout_ms": 5000})
    consumer = AIOKafkaConsumer(
        **connection_options(quick),
        client_id="reliability-readable",
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    ids: list[int] = []
    unavailable = 0
    try:
        for partition in sorted(since):
            tp = TopicPartition(topic, partition)
            try:
                async with asyncio.timeout(30):
                    end = (await consumer.end_offsets([tp]))[tp]
                    if end <= since[partition]:
                        continue
                    consumer.assign([tp])
                    consumer.seek(tp, since[partition])
                    while await consumer.position(tp) < end:
                        batch = await consumer.getmany(tp, timeout_ms=500)
                        ids.extend(int(json.loads(r.value)["id"]) for r in batch.get(tp, []))
            except (KafkaError, TimeoutError):  # no leader to answer for that partition
                unavailable += 1
    finally:
        await consumer.stop()
    return ids, unavailable


async def _published_through(db: Database, allocation_id: str) -> int | None:
    """The greatest notification id of the allocation's chunks committed in Kafka (None: no
    chunk is): the ids of a chunk written in PostgreSQL but not yet committed in Kafka (its
    transaction open) are greater, and chunks draw their ids in order (decision 0068)."""
    [(written, published, first_id, last_id)] = await db.fetch(
        "SELECT chunks_written, chunks_published, chunk_first_id, chunk_last_id"
        " FROM allocations WHERE id = %s",
        (allocation_id,),
    )
    if published == 0:
        return None
    return int(last_id) if written == published else int(first_id) - 1
