"""Notifiers sharing the partitions, streams routed to them by the gateway (decision 0078).

Two notifiers read share 0 and share 1 of 2 of the per-employee topics; the session's
notifier reads every partition. A gateway in front of all three sends each stream to the
share of its department (the token's claim, or the ticket's key), and watchers of
departments on both shares to the notifier that reads everything.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date

import httpx
import pytest

from herald_common.affinity import format_key, route_key
from herald_common.catalogue import (
    NOTIFICATION_PUSHED_TOPIC,
    VOUCHER_ALLOCATED_TOPIC,
    VOUCHER_REVOKED_TOPIC,
)
from tests.conftest import notifier_process, running_replicas
from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.gateway import start_gateway_for
from tests.support.processes import ServiceProcess
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration


def _department_on(share: int) -> str:
    """A department name whose events fall on `share` of 2."""
    return next(f"Shares-{n}" for n in range(100) if route_key(f"Shares-{n}") % 2 == share)


ON_0, ON_1 = _department_on(0), _department_on(1)
PEOPLE = [
    ("SH0A", "Zero A", ON_0),
    ("SH0B", "Zero B", ON_0),
    ("SH1A", "One A", ON_1),
    ("SH1B", "One B", ON_1),
    ("SH1C", "One C", ON_1),
    ("SHADM", "Admin", ON_0),
    # In ON_1 by the directory; their token still says ON_0 (they moved).
    ("SHMOV", "Mover", ON_1),
]


@pytest.fixture(scope="module")
async def people(services, herald_env):
    rows = [(eid, name, dept, "G2", date(2022, 1, 1)) for eid, name, dept in PEOPLE]
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, employees_csv(rows))).status_code == 200
    return PEOPLE


@pytest.fixture(scope="module")
def shares(herald_env):
    """The URLs of the notifiers of share 0 and share 1 of 2."""

    def share(i: int, port: int) -> ServiceProcess:
        extra = {"HERALD_NOTIFIER_PARTITION_SHARE": f"{i}/2", "HERALD_NOTIFIER_REPLICA_ID": f"s{i}"}
        return notifier_process(herald_env, port, extra, name=f"notifier-share-{i}")

    with running_replicas(2, share) as ports:
        yield [f"http://127.0.0.1:{port}" for port in ports]


@pytest.fixture(scope="module")
def gateway(services, herald_env, shares, tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<!doctype html>")
    process, url = start_gateway_for(
        services, "gateway-shares", herald_env.log_dir, site, notifier_share_urls=shares
    )
    yield url
    process.stop()


async def _metric(url: str, name: str, labels: str = "") -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    match = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in {url}/metrics"
    return float(match.group(1))


async def _open_streams(urls: list[str], expected: list[int]) -> list[float]:
    """The notifiers' open streams, once they are `expected` (streams closed by an earlier
    test leave when their notifier sees the disconnect), or as they are after 10 s."""
    counts: list[float] = []
    for _ in range(100):
        counts = [await _metric(url, "herald_notifier_open_streams") for url in urls]
        if counts == expected:
            break
        await asyncio.sleep(0.1)
    return counts


async def _push(client: httpx.AsyncClient, admin: dict[str, str], ids: list[str], title: str):
    pushed = await client.post(
        "/v1/notifications",
        headers=admin,
        json={"title": title, "target": {"employee_ids": ids}},
    )
    assert pushed.status_code == 202, pushed.text


async def _lands_and_delivers(
    client: httpx.AsyncClient,
    stream: StreamRecorder,
    shares: list[str],
    expected: list[int],
    admin: dict[str, str],
    employee: str,
    title: str,
) -> None:
    """Opens `stream`, checks which share holds it (`expected` open streams per share),
    then that a push to `employee` reaches it once; closes it."""
    await _opened(stream)
    try:
        assert await _open_streams(shares, expected) == expected
        await _push(client, admin, [employee], title)
        [event] = await stream.wait_for(1)
        assert event.json()["data"]["title"] == title
    finally:
        await stream.close()


async def _opened(stream: StreamRecorder) -> StreamRecorder:
    await stream.open()
    assert stream.status == 200
    # Registered once the unread count came: anything published from now on reaches it.
    await stream.until(lambda: stream.unread is not None, 10, "the unread count")
    return stream


async def test_each_share_reads_its_half_of_the_per_employee_partitions(
    services, shares, herald_env
):
    topics = herald_env.topics
    every = sum(
        topics.partitions(t)
        for t in (VOUCHER_ALLOCATED_TOPIC, NOTIFICATION_PUSHED_TOPIC, VOUCHER_REVOKED_TOPIC)
    )
    assert every == 36
    assert await _metric(services.notifier_url, "herald_notifier_partitions_read") == every
    for url in shares:
        assert await _metric(url, "herald_notifier_partitions_read") == every / 2


async def test_a_share_refuses_a_stream_of_another_shares_department(shares, herald_env, people):
    async with httpx.AsyncClient(timeout=30) as client:
        refused = await client.get(
            f"{shares[0]}/v1/stream", headers=herald_env.bearer("SH1A", ["employee"])
        )
    assert refused.status_code == 421
    assert "partition share 0/2" in refused.json()["detail"]


async def test_each_share_delivers_its_own_departments_events(services, shares, herald_env, people):
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=30) as client:
        zero = await _opened(
            StreamRecorder(
                client, f"{shares[0]}/v1/stream", {}, herald_env.bearer("SH0A", ["employee"])
            )
        )
        one = await _opened(
            StreamRecorder(
                client, f"{shares[1]}/v1/stream", {}, herald_env.bearer("SH1A", ["employee"])
            )
        )
        try:
            await _push(client, herald_env.admin, ["SH0A", "SH1A"], "one each")
            [on_zero] = await zero.wait_for(1)
            [on_one] = await one.wait_for(1)
            assert on_zero.json()["data"]["title"] == on_one.json()["data"]["title"] == "one each"
        finally:
            await zero.close()
            await one.close()


async def test_through_the_gateway_a_stream_lands_on_its_departments_share(
    gateway, shares, herald_env, people
):
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        headers = herald_env.bearer("SH1B", ["employee"], department=ON_1)
        stream = StreamRecorder(client, f"{gateway}/v1/stream", {}, headers)
        await _lands_and_delivers(
            client, stream, shares, [0, 1], herald_env.admin, "SH1B", "to share 1"
        )


async def test_the_session_cookie_routes_a_stream_to_its_share(gateway, shares, herald_env, people):
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as browser:
        headers = herald_env.bearer("SH0B", ["employee"], department=ON_0)
        assert (await browser.post("/v1/session", headers=headers)).status_code == 200
        stream = StreamRecorder(browser, f"{gateway}/v1/stream", {})
        await _lands_and_delivers(
            browser, stream, shares, [1, 0], herald_env.admin, "SH0B", "by cookie"
        )


async def test_a_ticket_carries_its_department_key_and_its_stream_lands_on_the_share(
    gateway, shares, herald_env, people
):
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        headers = herald_env.bearer("SH1C", ["employee"], department=ON_1)
        issued = await client.post("/v1/stream-tickets", headers=headers)
        assert issued.status_code == 201, issued.text
        ticket = issued.json()["ticket"]
        assert ticket.startswith(f"{format_key(route_key(ON_1))}.")
        stream = StreamRecorder(client, f"{gateway}/v1/stream", {"ticket": ticket})
        await _lands_and_delivers(
            client, stream, shares, [0, 1], herald_env.admin, "SH1C", "by ticket"
        )


async def test_a_watcher_of_departments_on_both_shares_is_served_by_the_all_share(
    gateway, services, shares, herald_env, people
):
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=30) as client,
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=30, headers=herald_env.admin
        ) as api,
    ):
        headers = herald_env.bearer("SHADM", ["employee", "hr-admin"], department=ON_0)
        params = {"channels": f"private-department-{ON_0},private-department-{ON_1}"}
        stream = await _opened(StreamRecorder(client, f"{gateway}/v1/stream", params, headers))
        try:
            # Open, and on neither share: on the notifier that reads everything.
            assert await _open_streams(shares, [0, 0]) == [0, 0]
            created = await api.post(
                "/v1/allocations",
                json={"voucher": voucher("Shares"), "criteria": {"departments": [ON_0, ON_1]}},
            )
            assert created.status_code in (200, 201, 202), created.text
            await wait_until_finished(api, created.json()["id"])
            events = await stream.wait_for(len(PEOPLE))
            await asyncio.sleep(0.5)  # anything sent twice would arrive meanwhile
            received = sorted(e.json()["data"]["employee_id"] for e in stream.notifications)
            assert received == sorted(eid for eid, *_ in PEOPLE)
            assert {e.json()["data"]["department"] for e in events} == {ON_0, ON_1}
        finally:
            await stream.close()


async def test_a_stale_department_claim_is_served_by_the_all_share(
    gateway, services, shares, herald_env, people
):
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        # The directory says ON_1; the token still says ON_0, so the gateway tries share 0.
        headers = herald_env.bearer("SHMOV", ["employee"], department=ON_0)
        misdirected = '{service="notifier",status="misdirected"}'
        stream = await _opened(StreamRecorder(client, f"{gateway}/v1/stream", {}, headers))
        try:
            # Share 0 refused it; the gateway opened it on the notifier reading everything.
            assert await _metric(gateway, "herald_gateway_proxied_requests_total", misdirected) == 1
            assert await _open_streams(shares, [0, 0]) == [0, 0]
            await _push(client, herald_env.admin, ["SHMOV"], "moved")
            [event] = await stream.wait_for(1)
            assert event.json()["data"]["title"] == "moved"
        finally:
            await stream.close()


async def test_a_reconnect_to_a_share_replays_after_its_last_event_id_once(
    gateway, shares, herald_env, people
):
    headers = herald_env.bearer("SH1A", ["employee"], department=ON_1)
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        first = await _opened(StreamRecorder(client, f"{gateway}/v1/stream", {}, headers))
        try:
            await _push(client, herald_env.admin, ["SH1A"], "before")
            await first.wait_for(1)
        finally:
            await first.close()
        last_id = first.last_event_id
        assert last_id is not None
        await _push(client, herald_env.admin, ["SH1A"], "missed 1")
        await _push(client, herald_env.admin, ["SH1A"], "missed 2")
        again = StreamRecorder(
            client, f"{gateway}/v1/stream", {}, {**headers, "Last-Event-ID": last_id}
        )
        await _opened(again)
        try:
            assert await _open_streams(shares, [0, 1]) == [0, 1]
            events = await again.wait_for(2)
            await asyncio.sleep(1)  # a duplicate, had there been one, would be here by now
            # Two pushes may be written in either order; each arrives once, after the id.
            titles = sorted(e.json()["data"]["title"] for e in again.notifications)
            assert titles == ["missed 1", "missed 2"]
            assert all(int(e.id or 0) > int(last_id) for e in events)
        finally:
            await again.close()


async def test_an_allocation_reaches_each_stream_on_both_shares_once(
    gateway, services, shares, herald_env, people
):
    employees = [(eid, dept) for eid, _, dept in PEOPLE if eid not in ("SHADM", "SHMOV")]
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=30) as client,
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=30, headers=herald_env.admin
        ) as api,
    ):
        streams = [
            await _opened(
                StreamRecorder(
                    client,
                    f"{gateway}/v1/stream",
                    {},
                    herald_env.bearer(eid, ["employee"], department=dept),
                )
            )
            for eid, dept in employees
        ]
        try:
            on_zero = sum(1 for _, dept in employees if dept == ON_0)
            expected = [on_zero, len(employees) - on_zero]
            assert await _open_streams(shares, expected) == expected
            created = await api.post(
                "/v1/allocations",
                json={"voucher": voucher("Both"), "criteria": {"departments": [ON_0, ON_1]}},
            )
            assert created.status_code in (200, 201, 202), created.text
            allocation_id = created.json()["id"]
            await wait_until_finished(api, allocation_id)
            for stream in streams:
                await stream.wait_for(1)
            await asyncio.sleep(0.5)  # anything sent twice would arrive meanwhile
            for stream, (eid, _) in zip(streams, employees, strict=True):
                [event] = stream.notifications
                data = event.json()["data"]
                assert (data["employee_id"], data["allocation_id"]) == (eid, allocation_id)
        finally:
            for stream in streams:
                await stream.close()
