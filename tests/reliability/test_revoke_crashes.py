"""The inserter is SIGKILLed in the middle of revoking 20,000 vouchers, twice (while it voids
the vouchers and writes the notices, then while it publishes them), and restarted each time:
every voucher ends void, with exactly one revocation notice per employee, published once,
and every connected client sees its notice once."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg
import pytest

from tests.reliability.workload import (
    Database,
    allocate,
    completed,
    departments,
    seed_employees,
    until,
)
from tests.support.sse_swarm import Swarm, SwarmClient
from tests.support.topic_reader import HighWatermarks, high_watermarks, read_everything

# Each kills and restarts something and waits for the system to recover.
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

EMPLOYEES = 20_000
REVOKE_DEPARTMENTS = departments("Revoke", 10)
# Streams held open by employees whose vouchers are revoked (one in 40).
CLIENTS = 500

# What the write's transaction runs, as pg_stat_activity shows it while it runs.
_WRITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND state = 'active' AND (query LIKE 'UPDATE employee_vouchers SET revoked_at%%'"
    " OR query LIKE 'COPY notifications%%')"
)


async def _revoke(env, url: str, allocation_id: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=env.admin) as api:
        response = await api.post(
            f"/v1/allocations/{allocation_id}:revoke", json={"reason": "Crash test"}
        )
    assert response.status_code == 202, response.text
    revocation_id: str = response.json()["id"]
    return revocation_id


async def _kill_while(phase, what: str, services, timeout: float = 120) -> None:
    """SIGKILL the inserter as soon as `phase()` holds."""
    deadline = time.monotonic() + timeout
    while not await phase():
        assert time.monotonic() < deadline, f"the inserter was never seen {what}"
        await asyncio.sleep(0.002)
    services.kill_inserter()


async def test_inserter_killed_twice_while_revoking_20000_vouchers(
    fault_services, fault_env, figures
):
    seed_employees(fault_env, "R", REVOKE_DEPARTMENTS, EMPLOYEES // len(REVOKE_DEPARTMENTS))
    db = Database(fault_env.database_url)
    allocation_id = await allocate(
        fault_env, fault_services.allocation_url, REVOKE_DEPARTMENTS, "Revoke crash test"
    )
    await completed(db, allocation_id, timeout=240)
    watched = [f"R{n:06d}" for n in range(1, EMPLOYEES + 1, EMPLOYEES // CLIENTS)]
    clients = [SwarmClient(e, fault_env.bearer(e, ["employee"])["Authorization"]) for e in watched]
    topic = fault_env.topics.voucher_revoked
    since = await high_watermarks(fault_env.kafka, topic)

    async with (
        Swarm("127.0.0.1", fault_services.notifier_port, clients),
        HighWatermarks(fault_env.kafka, topic) as marks,
        await psycopg.AsyncConnection.connect(fault_env.database_url, autocommit=True) as conn,
    ):
        await until(
            lambda: _true(all(c.opened.is_set() for c in clients)), 120, f"{CLIENTS} streams open"
        )
        mark_before = await marks.total()
        started = time.monotonic()
        revocation_id = await _revoke(fault_env, fault_services.allocation_url, allocation_id)

        async def writing() -> bool:
            row = await (await conn.execute(_WRITING)).fetchone()
            return row is not None and row[0] > 0

        await _kill_while(writing, "writing", fault_services)
        revoked_when_first_killed = await _revoked_count(db, allocation_id)
        fault_services.start_inserter()

        async def publishing() -> bool:
            return await marks.total() > mark_before

        await _kill_while(publishing, "publishing", fault_services)
        status_at_second_kill = await _revocation_status(db, revocation_id)
        fault_services.start_inserter()
        restarted = time.monotonic()

        async def revocation_done() -> bool:
            return await _revocation_status(db, revocation_id) == "completed"

        await until(revocation_done, 240, "the revocation completed", interval=0.2)
        finished = time.monotonic()
        notices = await _notices(db, revocation_id)
        await until(
            lambda: _true(all(set(c.ids) & set(notices) for c in clients)),
            120,
            "every client has its notice",
        )
        await asyncio.sleep(1)  # anything sent twice would have arrived by now

    voided = await _revoked_count(db, allocation_id)
    tally = await read_everything(fault_env.kafka, topic, since)
    notice_ids = set(notices)
    seen = [sum(1 for i in c.ids if i in notice_ids) for c in clients]
    own = sum(1 for c in clients for i in c.ids if i in notice_ids and notices[i] == c.employee)
    figures.update(
        vouchers=EMPLOYEES,
        voided=voided,
        voided_when_first_killed=revoked_when_first_killed,
        status_at_second_kill=status_at_second_kill,
        revocation_notifications=len(notices),
        employees_notified=len(set(notices.values())),
        published=len(notice_ids & tally.ids),
        lost=tally.lost(notice_ids),
        duplicates=tally.duplicates,
        clients=len(clients),
        client_notices=sum(seen),
        client_duplicates=sum(c.duplicates for c in clients),
        last_attempt_seconds=round(finished - restarted, 1),
        total_seconds=round(finished - started, 1),
    )
    assert revoked_when_first_killed == 0  # the first kill came before the database commit
    assert status_at_second_kill == "inserting"  # the second before the Kafka commit
    assert voided == EMPLOYEES
    assert len(notices) == len(set(notices.values())) == EMPLOYEES
    assert tally.lost(notice_ids) == 0
    assert tally.duplicates == 0
    assert len(notice_ids & tally.ids) == EMPLOYEES
    assert seen == [1] * CLIENTS
    assert own == CLIENTS
    assert sum(c.duplicates for c in clients) == 0


async def _revoked_count(db: Database, allocation_id: str) -> int:
    rows = await db.fetch(
        "SELECT count(*) FROM employee_vouchers WHERE allocation_id = %s"
        " AND revoked_at IS NOT NULL",
        (allocation_id,),
    )
    return int(rows[0][0])


async def _revocation_status(db: Database, revocation_id: str) -> str | None:
    rows = await db.fetch("SELECT status FROM revocations WHERE id = %s", (revocation_id,))
    return str(rows[0][0]) if rows else None


async def _notices(db: Database, revocation_id: str) -> dict[int, str]:
    rows = await db.fetch(
        "SELECT id, employee_id FROM notifications WHERE revocation_id = %s"
        " AND kind = 'herald.voucher.revoked'",
        (revocation_id,),
    )
    return {int(nid): employee for nid, employee in rows}


async def _true(value: bool) -> bool:
    return value
