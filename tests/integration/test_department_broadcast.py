"""A burst to many department watchers: one shared inbox read, not one per watcher, and every
watcher gets every event once, in id order, and nothing private (docs/decisions/0074, 0051)."""

from __future__ import annotations

import asyncio
import re
from datetime import date

import httpx
import psycopg
import pytest

from tests.support.api import add_people, voucher, wait_until_finished
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENT = "Broadcast-Dept"
WATCHING = "Broadcast-Watchers"
RECIPIENTS = [
    (f"BR{n:03d}", f"Recipient {n}", DEPARTMENT, "G3", date(2019, 1, 1)) for n in range(6)
]
WATCHERS = [(f"BW{n:03d}", f"Watcher {n}", WATCHING, "G5", date(2015, 1, 1)) for n in range(40)]
VOUCHER = "herald.voucher.allocated"
PUSHED = "herald.notification.pushed"


@pytest.fixture(scope="module")
async def people(services, herald_env):
    await add_people(services.allocation_url, herald_env.admin, RECIPIENTS + WATCHERS)


async def _counter(client: httpx.AsyncClient, url: str, name: str) -> float:
    """A counter of the notifier's /metrics: how often it did something (0 before the first)."""
    text = (await client.get(f"{url}/metrics")).text
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_burst_to_department_watchers_is_read_once_and_reaches_each_in_order(
    services, herald_env, people
):
    url = services.notifier_url
    admin = herald_env.admin
    limits = httpx.Limits(max_connections=len(WATCHERS) + 10)
    async with (
        httpx.AsyncClient(base_url=services.allocation_url, timeout=30, headers=admin) as api,
        httpx.AsyncClient(timeout=None, limits=limits) as sse,
        httpx.AsyncClient(timeout=10) as plain,
    ):
        watchers = await asyncio.gather(
            *(
                StreamRecorder(
                    sse,
                    f"{url}/v1/stream",
                    {"channels": f"private-department-{DEPARTMENT}"},
                    headers=herald_env.bearer(employee, ["employee", "hr-admin"]),
                ).open(timeout=30)
                for employee, *_ in WATCHERS
            )
        )
        queries_before = await _counter(plain, url, "herald_notifier_gap_queries_total")
        reads_before = await _counter(plain, url, "herald_notifier_gap_reads_total")
        # A push to one recipient alone, committed just before the burst: the watchers'
        # shared read spans its id, and must leave it out (decision 0051).
        service = herald_env.bearer("broadcast-tests", ["service"])
        pushed = await api.post(
            "/v1/notifications",
            json={"title": "Only for BR000", "target": {"employee_ids": ["BR000"]}},
            headers=service,
        )
        assert pushed.status_code == 202
        created = await api.post(
            "/v1/allocations",
            json={"voucher": voucher("Broadcast"), "criteria": {"departments": [DEPARTMENT]}},
        )
        assert created.status_code in (200, 201, 202), created.text
        allocation_id = created.json()["id"]
        await wait_until_finished(api, allocation_id)
        with psycopg.connect(herald_env.database_url) as conn:
            rows = conn.execute(
                "SELECT id FROM notifications WHERE allocation_id = %s ORDER BY id",
                (allocation_id,),
            ).fetchall()
        expected = [str(r[0]) for r in rows]
        assert len(expected) == len(RECIPIENTS)
        for watcher in watchers:
            await watcher.until(
                lambda w=watcher: len(w.of_type(VOUCHER)) >= len(expected),
                what="the allocation's vouchers",
            )
        await asyncio.sleep(0.5)  # anything sent twice or late would arrive meanwhile
        queries = await _counter(plain, url, "herald_notifier_gap_queries_total") - queries_before
        reads = await _counter(plain, url, "herald_notifier_gap_reads_total") - reads_before
        received = [[f.id for f in watcher.notifications] for watcher in watchers]
        private = [watcher.of_type(PUSHED) for watcher in watchers]
        for watcher in watchers:
            await watcher.close()
    # Every watcher: each voucher once, in id order, and nothing else.
    assert received == [expected] * len(WATCHERS)
    assert private == [[]] * len(WATCHERS)
    # Each watcher checked for a gap, and the watchers shared the queries: at most one per
    # event (one per fetch that brought some), never one per watcher.
    assert reads >= len(WATCHERS)
    assert 1 <= queries <= len(expected)
