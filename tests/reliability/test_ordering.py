"""Replay never skips: ids become visible in order, and streams send them in order.

PostgreSQL draws sequence values at insert and makes rows visible at commit, so without
care a reader of "id > X" can pass an id whose row commits later. Every writer of
notifications (inserter allocations and pushes, mailer summaries) takes one advisory
transaction lock; these tests show the hazard, that the lock removes it, and that real
concurrent writers never make a replaying reader skip. The notifier's side: events reach
it out of id order, and a stream still sends ids in order, none twice, none skipped.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import signal
import subprocess
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from bench.listeners import socket_ports
from herald_common.approval import ApprovalSettings
from herald_common.db import create_pool
from herald_common.events import (
    CONTENT_TYPE,
    NOTIFICATION_PUSHED,
    NOTIFICATION_REQUESTED,
    SOURCE_PUSH,
    AllocationRequested,
    Criteria,
    NotificationRequested,
    PushTarget,
    VoucherSpec,
    encode,
    envelope,
)
from herald_common.inbox_writes import draw_ids, take_writer_lock
from herald_common.kafka import connection_options
from herald_common.notifications import notification_event, payload_text, previous_id_header
from herald_common.settings import DatabaseSettings
from herald_inserter.domain.allocation_store import AllocationStore
from herald_inserter.domain.inbox_writer import IssuedNotification, copy_notifications
from herald_inserter.domain.push_store import PushStore
from herald_mailer.domain.store import SummaryStore
from tests.conftest import inserter_process
from tests.reliability.conftest import INSERTER_SETTINGS
from tests.reliability.workload import (
    Database,
    allocate,
    departments,
    everyone_has,
    seed_employees,
    stop_between_commits,
    until,
)
from tests.support.processes import free_port
from tests.support.sse import StreamRecorder
from tests.support.sse_swarm import Swarm, SwarmClient

pytestmark = pytest.mark.reliability


async def _connect(env) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(env.database_url)


async def _insert_one(conn: psycopg.AsyncConnection, employee: str, department: str) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO notifications (employee_id, department, kind, source, title, body,"
            " payload) VALUES (%s, %s, 'test.order', '/test', 't', 'b', '{}') RETURNING id",
            (employee, department),
        )
    ).fetchone()
    assert row is not None
    return int(row[0])


async def _ids_after(conn: psycopg.AsyncConnection, employee: str, after: int) -> list[int]:
    rows = await (
        await conn.execute(
            "SELECT id FROM notifications WHERE employee_id = %s AND id > %s ORDER BY id",
            (employee, after),
        )
    ).fetchall()
    return [int(r[0]) for r in rows]


async def test_without_the_writer_lock_replay_skips_a_late_commit(fault_env):
    """The hazard itself, step by step: a reader that saw the higher id never sees the lower."""
    employee = f"hazard-{secrets.token_hex(3)}"
    writer1, writer2, reader = await _connect(fault_env), await _connect(fault_env), None
    try:
        reader = await psycopg.AsyncConnection.connect(fault_env.database_url, autocommit=True)
        lower = await _insert_one(writer1, employee, "Hazard")  # drawn first, not committed
        higher = await _insert_one(writer2, employee, "Hazard")
        await writer2.commit()
        seen = await _ids_after(reader, employee, 0)
        await writer1.commit()
        replayed = await _ids_after(reader, employee, seen[-1])
        assert lower < higher
        assert seen == [higher]
        assert replayed == []  # `lower` is committed, and a cursor past `higher` misses it
    finally:
        for conn in (writer1, writer2, reader):
            if conn is not None:
                await conn.close()


async def test_with_the_writer_lock_a_later_writer_waits_and_nothing_is_skipped(fault_env):
    employee = f"locked-{secrets.token_hex(3)}"
    writer1, writer2 = await _connect(fault_env), await _connect(fault_env)
    reader = await psycopg.AsyncConnection.connect(fault_env.database_url, autocommit=True)
    try:
        await take_writer_lock(writer1)
        lower = await _insert_one(writer1, employee, "Locked")

        async def second_writer() -> int:
            await take_writer_lock(writer2)
            nid = await _insert_one(writer2, employee, "Locked")
            await writer2.commit()
            return nid

        second = asyncio.create_task(second_writer())
        await asyncio.sleep(0.5)
        assert not second.done()  # it cannot even draw an id while the first is open
        assert await _ids_after(reader, employee, 0) == []
        await writer1.commit()
        higher = await asyncio.wait_for(second, 10)
        assert lower < higher
        assert await _ids_after(reader, employee, 0) == [lower, higher]
    finally:
        for conn in (writer1, writer2, reader):
            await conn.close()


WRITERS = 6
# The writers are not the API: this test is about ordering, not about approvals.
NO_APPROVAL = ApprovalSettings(enabled=False)
ROUNDS = 12
TEAM = 40


async def test_concurrent_allocations_pushes_and_summaries_never_make_replay_skip(
    fault_env, figures
):
    """Real writers (the inserter's allocation and push stores, the mailer's summaries) run
    concurrently against the same employees while readers replay "id > last" in a loop."""
    tag = secrets.token_hex(2).upper()
    teams = [f"Conc{tag}-{n}" for n in range(2)]
    seed_employees(fault_env, f"Q{tag}", teams, TEAM // 2)
    employees = [f"Q{tag}{n:06d}" for n in range(1, TEAM + 1)]
    with psycopg.connect(fault_env.database_url) as conn:
        # Each team reports to its first member, who also receives everything the team does.
        for team in teams:
            conn.execute(
                "UPDATE employees SET manager_id = (SELECT min(id) FROM employees"
                " WHERE department = %s) WHERE department = %s AND id <> (SELECT min(id)"
                " FROM employees WHERE department = %s)",
                (team, team, team),
            )
    pool = create_pool(
        DatabaseSettings(url=fault_env.database_url, pool_max_size=WRITERS + 2), name="writers"
    )
    await pool.open(wait=True)
    allocations, pushes, summaries = (
        AllocationStore(pool, approval=NO_APPROVAL),
        PushStore(pool),
        SummaryStore(pool, "http://127.0.0.1:8000"),
    )
    voucher = VoucherSpec(
        name="Order",
        amount=Decimal("5.00"),
        currency="EUR",
        expires_on=date(2030, 1, 1),
        code_prefix="ORD",
    )
    written = {"allocations": 0, "pushes": 0, "summaries": 0}
    done = asyncio.Event()

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(ROUNDS):
            if rng.random() < 0.5:
                request = AllocationRequested(
                    allocation_id=uuid4(),
                    voucher=voucher,
                    criteria=Criteria(departments=teams),
                    requested_at=datetime.now(UTC),
                )
                await allocations.write(request)
                written["allocations"] += 1
                managers = await summaries.create(request.allocation_id, datetime.now(UTC))
                written["summaries"] += managers
            else:
                await pushes.write(
                    NotificationRequested(
                        push_id=uuid4(),
                        requested_by="order-test",
                        title="Order",
                        target=PushTarget(employee_ids=rng.sample(employees, 10)),
                        requested_at=datetime.now(UTC),
                    )
                )
                written["pushes"] += 1

    async def reader(scope: list[str]) -> list[int]:
        """Replays like a stream: "id > last" in a loop, until the writers are done."""
        seen: list[int] = []
        last = 0
        async with await psycopg.AsyncConnection.connect(
            fault_env.database_url, autocommit=True
        ) as conn:
            while True:
                finished = done.is_set()
                rows = await (
                    await conn.execute(
                        "SELECT id FROM notifications WHERE employee_id = ANY(%s) AND id > %s"
                        " ORDER BY id",
                        (scope, last),
                    )
                ).fetchall()
                seen.extend(int(r[0]) for r in rows)
                last = seen[-1] if seen else last
                if finished:
                    return seen
                await asyncio.sleep(0.001)

    scopes = [[e] for e in employees[:3]] + [[employees[0], employees[TEAM // 2]], employees]
    readers = [asyncio.create_task(reader(scope)) for scope in scopes]
    try:
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    finally:
        done.set()
        await pool.close()
    replays = await asyncio.gather(*readers)

    skipped = 0
    with psycopg.connect(fault_env.database_url) as conn:
        for scope, seen in zip(scopes, replays, strict=True):
            final = [
                int(r[0])
                for r in conn.execute(
                    "SELECT id FROM notifications WHERE employee_id = ANY(%s) ORDER BY id",
                    (scope,),
                ).fetchall()
            ]
            assert seen == sorted(set(seen))  # every read moved forward, nothing twice
            skipped += len(set(final) - set(seen))
    figures.update(
        writers=WRITERS,
        **written,
        notifications_replayed=sum(len(s) for s in replays),
        skipped=skipped,
    )
    assert written["allocations"] > 0
    assert written["pushes"] > 0
    assert written["summaries"] > 0
    assert skipped == 0


ORDER_DEPARTMENT = "Order-live"


async def _gap_reads(notifier_url: str) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{notifier_url}/metrics")).text
    match = re.search(r"^herald_notifier_gap_reads_total ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_a_stream_sends_late_events_in_id_order(fault_services, fault_env, figures):
    """Events reach the notifier in another order than their ids: a push on one topic after
    a voucher on another, from different producers. The stream still sends id order, and
    reads the inbox only when the order is in doubt."""
    employee = f"L{secrets.token_hex(3)}"
    with psycopg.connect(fault_env.database_url) as conn:
        conn.execute(
            "INSERT INTO employees (id, name, email, department, grade, hired_on)"
            " VALUES (%s, 'Late Order', 'late@example.com', %s, 'G1', '2020-01-01')",
            (employee, ORDER_DEPARTMENT),
        )

    def _payload(nid: int) -> dict[str, str]:
        return {
            "employee_id": employee,
            "department": ORDER_DEPARTMENT,
            "title": f"n{nid}",
            "body": "",
        }

    async def write(count: int) -> list[IssuedNotification]:
        """`count` committed inbox rows for the employee, under the writer lock."""
        async with await psycopg.AsyncConnection.connect(fault_env.database_url) as conn:
            await take_writer_lock(conn)
            ids = await draw_ids(conn, count)
            rows = [
                IssuedNotification(nid, employee, ORDER_DEPARTMENT, payload_text(_payload(nid)))
                for nid in ids
            ]
            await copy_notifications(
                conn,
                rows,
                kind=NOTIFICATION_PUSHED,
                source=SOURCE_PUSH,
                created_at=datetime.now(UTC),
                title="Late order",
                body="",
            )
            await conn.commit()
        return rows

    producer = AIOKafkaProducer(**connection_options(fault_env.kafka), acks="all")
    await producer.start()

    async def publish(topic: str, n: IssuedNotification, previous: int | None) -> None:
        headers = [("content-type", CONTENT_TYPE.encode())]
        if previous is not None:
            headers.append(previous_id_header(previous))
        value = notification_event(
            notification_id=n.notification_id,
            kind=NOTIFICATION_PUSHED,
            source=SOURCE_PUSH,
            employee_id=employee,
            created_at=datetime.now(UTC),
            payload=_payload(n.notification_id),
        )
        await producer.send_and_wait(
            topic, value=value, key=ORDER_DEPARTMENT.encode(), headers=headers
        )

    topics = fault_env.topics
    gap_reads_before = await _gap_reads(fault_services.notifier_url)
    try:
        async with httpx.AsyncClient(timeout=None) as sse:
            stream = await StreamRecorder(
                sse,
                f"{fault_services.notifier_url}/v1/stream",
                {},
                headers=fault_env.bearer(employee, ["employee"]),
            ).open()
            first, second = await write(2)
            # The later id arrives first and says what came before it; the earlier one is late.
            await publish(topics.voucher_allocated, second, first.notification_id)
            await stream.wait_for(2)
            await publish(topics.notification_pushed, first, 0)
            # Events without the header (another producer) take the same care.
            third, fourth = await write(2)
            await publish(topics.voucher_allocated, fourth, None)
            await stream.wait_for(4)
            await publish(topics.notification_pushed, third, None)
            # In order and saying so: sent straight away, no inbox read.
            [fifth] = await write(1)
            await publish(topics.notification_pushed, fifth, fourth.notification_id)
            await stream.wait_for(5)
            # An event no inbox row backs (a producer that wrote none) is still sent.
            rowless = IssuedNotification(
                fifth.notification_id + 1_000_000,
                employee,
                ORDER_DEPARTMENT,
                payload_text(_payload(fifth.notification_id + 1_000_000)),
            )
            await publish(topics.notification_pushed, rowless, None)
            await stream.wait_for(6)
            await asyncio.sleep(1)  # the late ones have arrived by now, and must not repeat
            await stream.close()
    finally:
        await producer.stop()
    gap_reads = await _gap_reads(fault_services.notifier_url) - gap_reads_before

    expected = [n.notification_id for n in (first, second, third, fourth, fifth, rowless)]
    received = [int(f.id) for f in stream.notifications]
    figures.update(sent=len(expected), received=len(received), inbox_reads=int(gap_reads))
    assert received == expected
    assert [json.loads(f.data)["data"]["title"] for f in stream.notifications] == [
        f"n{nid}" for nid in expected
    ]
    assert all(f.event == NOTIFICATION_PUSHED for f in stream.notifications)
    assert gap_reads == 3


PAIR_CLIENTS = 200
PAIR_DEPARTMENT_COUNT = 4  # the clients' departments (new ones for each attempt)
PAIR_CROWD = 20_000
PAIR_CROWD_DEPARTMENT_COUNT = 20
PUSH_PARTITIONS = 3  # HERALD_TOPICS_NOTIFICATION_REQUESTED_PARTITIONS' default
PAIR_EACH = 1 + PUSH_PARTITIONS  # the allocation, one push per partition


async def _group_members(env, group: str) -> tuple[str, int]:
    admin = AIOKafkaAdminClient(**connection_options(env.kafka), client_id="reliability-admin")
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [described] = response.to_object()["groups"]
    return described["state"], len(described["members"])


async def _positive(reads: Awaitable[float], before: float) -> bool:
    return await reads > before


async def _copying_worker(db: Database, workers: list[Any]) -> subprocess.Popen[bytes]:
    """The inserter process whose connection runs the allocation's COPY."""
    rows = await db.fetch(
        "SELECT client_port FROM pg_stat_activity"
        " WHERE datname = current_database() AND query ILIKE 'COPY notifications%%'"
    )
    ports = {int(row[0]) for row in rows}
    for worker in workers:
        if worker.process is not None and ports & socket_ports(worker.process.pid):
            return worker.process
    raise AssertionError(f"no inserter owns the COPY's connection (ports {ports})")


@dataclass
class _PairRun:
    clients: list[SwarmClient]
    sent: dict[str, list[int]]
    issued: dict[int, str]
    gap_reads: float


# The busy worker sends its Kafka commit as soon as its chunk's last events are
# acknowledged after its database commit, often within the same fraction of a millisecond;
# a stop that lands after that send leaves nothing to test, and the scenario is set up
# again with new employees. Here 9 of 17 holds came too late (4 of 5 in one clean-clone
# run); 12 attempts all missing is about 1 in 2,000.
PAIR_ATTEMPTS = 12


async def test_two_workers_publishing_at_once_cost_no_stream_a_notification(
    fault_services, fault_env, figures
):
    """A second inserter worker takes pushes while the first writes a big allocation: the
    pushes draw higher ids than the allocation's first chunk but are published first (the
    busy worker is held between that chunk's database and Kafka commits). Every stream still
    gets the allocation's voucher, before the pushes."""
    group = f"{fault_env.topic_prefix}herald-inserter"
    db = Database(fault_env.database_url)
    second = inserter_process(
        fault_env, free_port(), {**INSERTER_SETTINGS, "HERALD_INSERTER_WORKER_ID": "fault-worker-2"}
    )
    second.name = "inserter-2"
    second.log_path = second.log_dir / "inserter-2.log"
    second.start()
    run: _PairRun | None = None
    attempts = 0
    try:
        await until(lambda: _is(_group_members(fault_env, group), ("Stable", 2)), 90, "two workers")
        while run is None and attempts < PAIR_ATTEMPTS:
            attempts += 1
            run = await _pair_attempt(fault_services, fault_env, db, second, f"{attempts}")
    finally:
        second.stop()
        # The stopped worker is a static member: its partitions come back to the first
        # one when its session times out. Later tests need the first one to have them all.
        await until(lambda: _is(_group_members(fault_env, group), ("Stable", 1)), 90, "one worker")
    assert run is not None, (
        f"in {PAIR_ATTEMPTS} attempts the busy worker was never stopped before its chunk's"
        " Kafka commit went out"
    )
    clients, sent, issued = run.clients, run.sent, run.issued
    voucher_of = {employee: nid for nid, employee in issued.items()}
    # The scenario held: every client's voucher id is below its push ids.
    voucher_first = sum(1 for c in clients if voucher_of[c.employee] == min(sent[c.employee]))
    lost = sum(len(set(sent[c.employee]) - set(c.ids)) for c in clients)
    figures.update(
        attempts=attempts,
        clients=len(clients),
        notifications_per_client=sorted({len(v) for v in sent.values()}),
        allocation_events=len(issued),
        inbox_reads=int(run.gap_reads),
        lost=lost,
        duplicates=sum(c.duplicates for c in clients),
        clients_out_of_order=sum(1 for c in clients if not c.in_order),
    )
    assert voucher_first == PAIR_CLIENTS
    assert run.gap_reads > 0  # and the pushes did reach the notifier first
    assert all(len(ids) == PAIR_EACH for ids in sent.values())
    assert lost == 0
    assert all(c.duplicates == 0 for c in clients)
    assert all(c.in_order for c in clients)
    # Each client's voucher has the lowest of its ids, and every client got it first.
    assert all(c.ids[0] == min(sent[c.employee]) for c in clients)


async def _pair_attempt(
    fault_services, fault_env, db: Database, second, attempt: str
) -> _PairRun | None:
    """One allocation with pushes sent while its busy worker is held between its commits;
    None when the hold came after the chunk's Kafka commit had gone out (the streams got
    the vouchers before any push: nothing to test), after letting the allocation finish."""
    clients_prefix, crowd_prefix = f"T{attempt}", f"U{attempt}"
    pair_departments = departments(f"Pair{attempt}", PAIR_DEPARTMENT_COUNT)
    crowd_departments = departments(f"PairCrowd{attempt}", PAIR_CROWD_DEPARTMENT_COUNT)
    seed_employees(
        fault_env, clients_prefix, pair_departments, PAIR_CLIENTS // PAIR_DEPARTMENT_COUNT
    )
    seed_employees(
        fault_env, crowd_prefix, crowd_departments, PAIR_CROWD // PAIR_CROWD_DEPARTMENT_COUNT
    )
    employees = [f"{clients_prefix}{n:06d}" for n in range(1, PAIR_CLIENTS + 1)]
    clients = [
        SwarmClient(e, fault_env.bearer(e, ["employee"])["Authorization"]) for e in employees
    ]
    async with Swarm("127.0.0.1", fault_services.notifier_port, clients):
        await until(lambda: _ready(all(c.opened.is_set() for c in clients)), 60, "streams")
        gap_reads_before = await _gap_reads(fault_services.notifier_url)
        allocation_id = await allocate(
            fault_env,
            fault_services.allocation_url,
            pair_departments + crowd_departments,
            f"Pair {attempt}",
        )

        async def copying() -> bool:
            return "notifications" in await db.copy_progress()

        await until(copying, 120, "the allocation's COPY", interval=0.01)
        busy = await _copying_worker(db, [fault_services.inserter, second])
        # The allocation's events commit in Kafka right after its rows (decision 0033).
        # Holding the busy worker still between the two commits of its first chunk
        # (the one with the clients, whose ids sort first: 0068) lets pushes sent
        # now go out first, with ids above the vouchers.
        await stop_between_commits(fault_env.database_url, allocation_id, busy)
        try:
            vouchers = set(await db.notification_ids(allocation_id))
            await asyncio.sleep(1)  # a Kafka commit sent before the stop shows by now
            if any(vouchers & set(c.ids) for c in clients):
                busy.send_signal(signal.SIGCONT)
                await until(everyone_has(db, clients, 1), 180, "the vouchers, in a missed hold")
                return None
            # One push on each push partition: the workers split them, so at least
            # one lands on the worker that is not busy with the allocation.
            await _push_to_every_partition(fault_env, employees)
            await until(
                lambda: _positive(_gap_reads(fault_services.notifier_url), gap_reads_before),
                30,
                "a stream reading the inbox for the voucher",
            )
        finally:
            busy.send_signal(signal.SIGCONT)
        await until(everyone_has(db, clients, PAIR_EACH), 180, "every stream has everything")
        await asyncio.sleep(1)  # anything late or twice would have arrived by now
        gap_reads = await _gap_reads(fault_services.notifier_url) - gap_reads_before
    return _PairRun(
        clients,
        await db.notifications_of(employees),
        await db.notification_ids(allocation_id),
        gap_reads,
    )


async def _push_to_every_partition(env, employees: list[str]) -> None:
    producer = AIOKafkaProducer(**connection_options(env.kafka), acks="all")
    await producer.start()
    try:
        for partition in range(PUSH_PARTITIONS):
            push_id = uuid4()
            value = encode(
                envelope(
                    event_id=str(push_id),
                    source="/reliability",
                    event_type=NOTIFICATION_REQUESTED,
                    data={
                        "push_id": str(push_id),
                        "requested_by": "reliability",
                        "title": f"Pushed to partition {partition}",
                        "target": {"employee_ids": employees},
                        "requested_at": datetime.now(UTC).isoformat(),
                    },
                )
            )
            await producer.send_and_wait(
                env.topics.notification_requested,
                value=value,
                key=str(push_id).encode(),
                partition=partition,
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
    finally:
        await producer.stop()


async def _is(value, expected) -> bool:
    return await value == expected


async def _ready(value: bool) -> bool:
    return value
