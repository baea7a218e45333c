"""The notifier is SIGKILLed under 500 open streams and started again: every client reconnects
with its last id and ends with exactly the notifications sent to it, in order, none twice."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.reliability.workload import (
    Database,
    all_opened,
    allocate,
    departments,
    push,
    seed_employees,
    swarm_clients,
    until,
)
from tests.reliability.workload import everyone_has as has
from tests.support.sse_swarm import Swarm

# Each kills and restarts something and waits for the system to recover.
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

CLIENTS = 500
# Five pushes and three allocations reach each of them.
SENT_TO_EACH = 8
SWARM_DEPARTMENTS = departments("Swarm", 5)


async def test_notifier_killed_with_500_streams_open(fault_services, fault_env, figures):
    seed_employees(fault_env, "S", SWARM_DEPARTMENTS, CLIENTS // len(SWARM_DEPARTMENTS))
    employees = [f"S{n:06d}" for n in range(1, CLIENTS + 1)]
    db = Database(fault_env.database_url)
    api = fault_services.allocation_url
    clients = swarm_clients(fault_env, employees)

    def everyone_has(count: int):
        return has(db, clients, count)

    async with Swarm("127.0.0.1", fault_services.notifier_port, clients):
        opened = await until(all_opened(clients), 120, "500 streams open")
        # Live: pushes on one topic, an allocation on another, to the same people.
        await push(fault_env, api, employees, "Before the crash 1")
        await allocate(fault_env, api, SWARM_DEPARTMENTS, "Before the crash")
        await push(fault_env, api, employees, "Before the crash 2")
        await until(everyone_has(3), 120, "live delivery before the crash")

        # More is on its way when the notifier dies, and more is sent while it is down.
        await push(fault_env, api, employees, "Around the crash")
        await allocate(fault_env, api, SWARM_DEPARTMENTS, "Around the crash")
        fault_services.kill_notifier()
        killed = time.monotonic()
        await push(fault_env, api, employees, "While down")
        await asyncio.sleep(1)
        fault_services.start_notifier()
        ready = time.monotonic()
        reconnected = await until(
            lambda: _true(all(c.connects and c.connects[-1] > ready for c in clients)),
            120,
            "every client reconnected",
        )
        await push(fault_env, api, employees, "After the restart")
        await allocate(fault_env, api, SWARM_DEPARTMENTS, "After the restart")
        caught_up = await until(everyone_has(SENT_TO_EACH), 180, "every client has everything")
        await asyncio.sleep(1)  # anything sent twice would have arrived by now

    sent = await db.notifications_of(employees)
    delivered = sum(len(c.ids) for c in clients)
    duplicates = sum(c.duplicates for c in clients)
    lost = sum(len(set(sent[c.employee]) - set(c.ids)) for c in clients)
    unexpected = sum(len(set(c.ids) - set(sent[c.employee])) for c in clients)
    out_of_order = sum(1 for c in clients if not c.in_order)
    figures.update(
        clients=len(clients),
        notifications_per_client=sorted({len(v) for v in sent.values()}),
        delivered=delivered,
        lost=lost,
        duplicates=duplicates,
        unexpected=unexpected,
        clients_out_of_order=out_of_order,
        open_seconds=round(opened, 1),
        notifier_down_seconds=round(ready - killed, 1),
        all_reconnected_seconds=round(reconnected, 1),
        all_caught_up_seconds=round(caught_up, 1),
    )
    assert all(len(ids) == SENT_TO_EACH for ids in sent.values())
    assert all(len(c.connects) >= 2 for c in clients)
    assert lost == 0
    assert duplicates == 0
    assert unexpected == 0
    assert out_of_order == 0
    assert delivered == CLIENTS * SENT_TO_EACH


async def _true(value: bool) -> bool:
    return value
