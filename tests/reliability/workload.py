"""Employees, allocations and pushes for the fault tests, and what the database says of them."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Protocol

import httpx
import psycopg

from tests.conftest import HeraldEnv
from tests.support.api import voucher
from tests.support.sse_swarm import SwarmClient

GRADES = ("G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9")


def seed_employees(env: HeraldEnv, prefix: str, departments: list[str], per_department: int) -> int:
    """COPY `per_department` employees into each department; ids are `<prefix><n>`."""
    n = 0
    with (
        psycopg.connect(env.database_url) as conn,
        conn.cursor().copy(
            "COPY employees (id, name, email, department, grade, hired_on) FROM STDIN"
        ) as copy,
    ):
        for department in departments:
            for _ in range(per_department):
                n += 1
                employee = f"{prefix}{n:06d}"
                copy.write_row(
                    (
                        employee,
                        f"Employee {employee}",
                        f"{employee.lower()}@example.com",
                        department,
                        GRADES[n % len(GRADES)],
                        date(2015, 1, 1),
                    )
                )
    return n


async def allocate(env: HeraldEnv, url: str, departments: list[str], name: str) -> str:
    """Reviews the rule's reach, then allocates with that count confirmed, as an admin does."""
    criteria = {"departments": departments}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=env.admin) as api:
        preview = await api.post("/v1/allocations:preview", json={"criteria": criteria})
        assert preview.status_code == 200, preview.text
        response = await api.post(
            "/v1/allocations",
            json={
                "voucher": voucher(name),
                "criteria": criteria,
                "confirmed_recipients": preview.json()["matched"],
            },
        )
    assert response.status_code == 202, response.text
    allocation_id: str = response.json()["id"]
    return allocation_id


def preview_answers(
    env: HeraldEnv, url: str, departments: list[str]
) -> Callable[[], Awaitable[bool]]:
    """A check for `until`: the allocation API answers a preview (its recovery mark)."""

    async def check() -> bool:
        async with httpx.AsyncClient(base_url=url, timeout=10, headers=env.admin) as api:
            preview = await api.post(
                "/v1/allocations:preview", json={"criteria": {"departments": departments}}
            )
        return preview.status_code == 200

    return check


async def push(env: HeraldEnv, url: str, employee_ids: list[str], title: str) -> str:
    headers = env.bearer("reliability-service", ["service"])
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as api:
        response = await api.post(
            "/v1/notifications",
            json={"title": title, "body": "", "target": {"employee_ids": employee_ids}},
        )
    assert response.status_code == 202, response.text
    push_id: str = response.json()["id"]
    return push_id


class Database:
    """Reads the fault tests make, on connections that survive a PostgreSQL restart."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def fetch(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def allocation(self, allocation_id: str) -> dict[str, Any] | None:
        rows = await self.fetch(
            "SELECT status, inserted_at IS NOT NULL, matched_count, inserted_count,"
            " published_count FROM allocations WHERE id = %s",
            (allocation_id,),
        )
        if not rows:
            return None
        status, inserted, matched, inserted_count, published = rows[0]
        return {
            "status": status,
            "inserted": inserted,
            "matched": matched,
            "inserted_count": inserted_count,
            "published": published,
        }

    async def chunks(self, allocation_id: str) -> tuple[int, int]:
        """(chunks written, chunks published) of a chunked allocation (0068)."""
        rows = await self.fetch(
            "SELECT chunks_written, chunks_published FROM allocations WHERE id = %s",
            (allocation_id,),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    async def voucher_versions(self, allocation_id: str) -> dict[str, tuple[int, str]]:
        """Each voucher's row id and xmin by employee: a chunk rewritten would change them."""
        rows = await self.fetch(
            "SELECT employee_id, id, xmin::text FROM employee_vouchers WHERE allocation_id = %s",
            (allocation_id,),
        )
        return {employee: (int(rid), xmin) for employee, rid, xmin in rows}

    async def copy_progress(self) -> dict[str, int]:
        """Rows each running COPY of this database has taken so far, by table."""
        rows = await self.fetch(
            # The inbox rows' table, under the name its readers know it by (0066).
            "SELECT replace(relid::regclass::text, 'notifications_per_employee', 'notifications'),"
            " tuples_processed FROM pg_stat_progress_copy"
            " WHERE datname = current_database()"
        )
        return {table: int(done) for table, done in rows}

    async def voucher_rows(self, allocation_id: str) -> tuple[int, int]:
        """(rows, distinct employees) of one allocation's vouchers."""
        rows = await self.fetch(
            "SELECT count(*), count(DISTINCT employee_id) FROM employee_vouchers"
            " WHERE allocation_id = %s",
            (allocation_id,),
        )
        return int(rows[0][0]), int(rows[0][1])

    async def notification_ids(self, allocation_id: str) -> dict[int, str]:
        rows = await self.fetch(
            "SELECT id, employee_id FROM notifications WHERE allocation_id = %s"
            " AND kind = 'herald.voucher.allocated'",
            (allocation_id,),
        )
        return {int(nid): employee for nid, employee in rows}

    async def notifications_of(self, employee_ids: list[str]) -> dict[str, list[int]]:
        rows = await self.fetch(
            "SELECT employee_id, id FROM notifications WHERE employee_id = ANY(%s) ORDER BY id",
            (employee_ids,),
        )
        found: dict[str, list[int]] = {employee: [] for employee in employee_ids}
        for employee, nid in rows:
            found[employee].append(int(nid))
        return found


async def until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.05
) -> float:
    """Poll `check` until it holds; returns the seconds it took. Errors count as not yet."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        try:
            if await check():
                return time.monotonic() - started
        except (psycopg.OperationalError, httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout:.0f}s")
        await asyncio.sleep(interval)


async def completed(db: Database, allocation_id: str, timeout: float) -> float:
    async def done() -> bool:
        row = await db.allocation(allocation_id)
        assert row is None or row["status"] != "failed", row
        return row is not None and row["status"] == "completed"

    return await until(done, timeout, f"allocation {allocation_id} completed", interval=0.2)


def departments(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{n:02d}" for n in range(count)]


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(2)}"


async def at_database_commit(url: str, allocation_id: str, act: Callable[[], None]) -> None:
    """Runs `act` the moment the allocation's first chunk commits: between the inserter's
    database commit and its Kafka commit (decisions 0033, 0068)."""
    deadline = time.monotonic() + 120
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        status, written, published = "requested", 0, 0
        while written == 0 and status in ("requested", "inserting"):
            assert time.monotonic() < deadline, f"allocation {allocation_id} never committed"
            cursor = await conn.execute(
                "SELECT status, chunks_written, chunks_published FROM allocations WHERE id = %s",
                (allocation_id,),
            )
            row = await cursor.fetchone()
            status, written, published = row if row else ("requested", 0, 0)
        act()
    # A chunk published, or a status past "inserting", would mean the Kafka commit had
    # already happened.
    assert (status, written, published) == ("inserting", 1, 0), (
        f"the database commit was seen too late: {status}, chunks {written}/{published}"
    )


class Signalled(Protocol):
    def send_signal(self, signum: int) -> None: ...


async def stop_between_commits(url: str, allocation_id: str, worker: Signalled) -> None:
    """Leaves `worker` stopped (SIGSTOP) between its first chunk's database commit and its
    Kafka commit (decisions 0033, 0068).

    Reading the row and then signalling races the worker: the test's process, descheduled on
    a busy machine for longer than the few milliseconds between the two commits, stops a
    worker that has published the chunk and may hold the writer lock for the next one. So
    the worker is single-stepped: stopped, the row read while it cannot move, let run for a
    moment (0.5 ms: the Kafka commit takes two round trips to the broker after the
    database commit), stopped again, until a reading shows the chunk written and not
    published.
    """
    deadline = time.monotonic() + 120
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            worker.send_signal(signal.SIGSTOP)
            cursor = await conn.execute(
                "SELECT status, chunks_written, chunks_published FROM allocations WHERE id = %s",
                (allocation_id,),
            )
            row = await cursor.fetchone()
            status, written, published = row if row else ("requested", 0, 0)
            if (status, written, published) == ("inserting", 1, 0):
                return
            past = f"the worker ran past its first chunk's Kafka commit in one step: {status},"
            assert written == 0, f"{past} chunks {written}/{published}"
            assert status in ("requested", "inserting"), f"{past} chunks {written}/{published}"
            assert time.monotonic() < deadline, f"allocation {allocation_id} never committed"
            worker.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.0005)


def swarm_clients(env: HeraldEnv, employees: list[str]) -> list[SwarmClient]:
    """One stream client per employee, each with that employee's token."""
    return [SwarmClient(e, env.bearer(e, ["employee"])["Authorization"]) for e in employees]


def everyone_has(
    db: Database, clients: list[SwarmClient], count: int
) -> Callable[[], Awaitable[bool]]:
    """A check for `until`: each client's employee has `count` notifications, all of which
    the client received."""
    employees = [client.employee for client in clients]

    async def check() -> bool:
        sent = await db.notifications_of(employees)
        return all(
            len(sent[c.employee]) == count and set(c.ids) >= set(sent[c.employee]) for c in clients
        )

    return check


def all_opened(clients: list[SwarmClient]) -> Callable[[], Awaitable[bool]]:
    """A check for `until`: every client's stream has opened."""

    async def check() -> bool:
        return all(client.opened.is_set() for client in clients)

    return check
