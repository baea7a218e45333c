"""Clean shutdown under load: each service gets SIGTERM in the middle of its work, exits
within its documented grace (docs/decisions/0064, deploy/k8s/README.md), and nothing is
lost: what was accepted is completed after the restart, once.

Only the processes these tests start get a signal, so they run on the shared stack, with a
database and topic prefix of their own (like every pytest session's).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from herald_common.events import NOTIFICATION_PUSHED
from tests.conftest import (
    HeraldEnv,
    channels_process,
    isolated_env,
    mailer_process,
)
from tests.reliability.conftest import INSERTER_SETTINGS, FaultServices, service_processes
from tests.reliability.workload import (
    Database,
    allocate,
    completed,
    departments,
    everyone_has,
    push,
    seed_employees,
    until,
)
from tests.support.api import voucher
from tests.support.deploy import SHUTDOWN_GRACE_SECONDS
from tests.support.gateway import start_gateway
from tests.support.processes import ServiceProcess, free_port
from tests.support.pusher import KEY
from tests.support.pusher_driver import PusherClients, Record
from tests.support.smtp import SmtpServer
from tests.support.sse_swarm import Swarm, SwarmClient
from tests.support.stack import Infrastructure
from tests.support.topic_reader import high_watermarks, read_everything

pytestmark = [pytest.mark.reliability, pytest.mark.shutdown, pytest.mark.timeout(600)]


@dataclass
class Stopped:
    seconds: float
    returncode: int


def sigterm(service: ServiceProcess) -> Stopped:
    """SIGTERM, then the time until the process is gone (as the kubelet counts it)."""
    process = service.process
    assert process is not None
    assert process.poll() is None, f"{service.name} is not running"
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{service.name} still running 120 s after SIGTERM") from None
    return Stopped(time.monotonic() - started, process.returncode)


@pytest.fixture(scope="module")
def fleet(
    infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultServices]:
    """The allocation API, the inserter and the notifier, processes of this module's, on a
    database and topic prefix of its own (the session's services share theirs)."""
    inserter = {**INSERTER_SETTINGS, "HERALD_INSERTER_WORKER_ID": "drain-worker-1"}
    with (
        isolated_env(infra, tmp_path_factory.mktemp("shutdown-logs")) as env,
        service_processes(env, inserter) as services,
    ):
        yield services


@pytest.fixture(autouse=True)
def _whole_again(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "fleet" in request.fixturenames:
        request.getfixturevalue("fleet").ensure_running()


def started(service: ServiceProcess, ready_url: str) -> None:
    """Start a service of a test's own and wait for its probe."""
    service.start()
    service.wait_http(ready_url)


def drained(figures: dict[str, object], service: str, stopped: Stopped) -> None:
    figures["drain_seconds"] = round(stopped.seconds, 2)
    figures["grace_seconds"] = SHUTDOWN_GRACE_SECONDS[service]
    assert stopped.returncode in (0, -signal.SIGTERM), f"{service} exit status {stopped.returncode}"
    assert stopped.seconds <= SHUTDOWN_GRACE_SECONDS[service], (
        f"{service} took {stopped.seconds:.1f}s to exit; its grace is"
        f" {SHUTDOWN_GRACE_SECONDS[service]}s"
    )


EMPLOYEES = 30_000
INSERTER_DEPARTMENTS = departments("Drain", 6)


async def test_inserter_sigterm_mid_allocation(fleet: FaultServices, figures):
    env = fleet.env
    seed_employees(env, "DI", INSERTER_DEPARTMENTS, EMPLOYEES // len(INSERTER_DEPARTMENTS))
    db = Database(env.database_url)
    topic = env.topics.voucher_allocated
    before = await high_watermarks(env.kafka, topic)
    allocation_id = await allocate(env, fleet.allocation_url, INSERTER_DEPARTMENTS, "Drain")

    async def copying() -> None:
        while not await db.copy_progress():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(copying(), 60)
    stopped = sigterm(fleet.inserter)
    phase = await db.allocation(allocation_id)
    fleet.ensure_running()
    recovered = await completed(db, allocation_id, 180)

    rows, distinct = await db.voucher_rows(allocation_id)
    ids = await db.notification_ids(allocation_id)
    tally = await read_everything(env.kafka, topic, since=before)
    published = {i: n for i, n in tally.copies.items() if i in ids}
    figures.update(
        employees=EMPLOYEES,
        status_at_sigterm=(phase or {}).get("status"),
        rows=rows,
        published=len(published),
        duplicated=sum(1 for n in published.values() if n > 1),
        recovered_seconds=round(recovered, 1),
    )
    drained(figures, "inserter", stopped)
    assert (rows, distinct) == (EMPLOYEES, EMPLOYEES)
    assert len(ids) == EMPLOYEES
    assert set(published) == set(ids), "lost events"
    assert all(n == 1 for n in published.values()), "events published twice"


REQUESTS = 40
API_DEPARTMENT = "Drain-Api"


async def post_allocation(api: httpx.AsyncClient, key: str) -> httpx.Response:
    return await api.post(
        "/v1/allocations",
        json={"voucher": voucher("Drain API"), "criteria": {"departments": [API_DEPARTMENT]}},
        headers={"Idempotency-Key": key},
    )


async def test_allocation_api_sigterm_mid_requests(fleet: FaultServices, figures):
    env = fleet.env
    seed_employees(env, "DA", [API_DEPARTMENT], 3)
    keys = [str(uuid.uuid4()) for _ in range(REQUESTS)]
    answered: dict[str, int] = {}

    async def post(api: httpx.AsyncClient, key: str) -> None:
        # Refused or cut: the client sends it again with the same key below.
        with contextlib.suppress(httpx.HTTPError):
            answered[key] = (await post_allocation(api, key)).status_code

    async with httpx.AsyncClient(
        base_url=fleet.allocation_url, timeout=30, headers=env.admin
    ) as api:
        posts = [asyncio.create_task(post(api, key)) for key in keys]
        while len(answered) < REQUESTS // 4:
            await asyncio.sleep(0.01)
        stopped = await asyncio.to_thread(sigterm, fleet.allocation)
        await asyncio.gather(*posts)
    fleet.ensure_running()
    accepted_before = {k for k, status in answered.items() if status == 202}
    async with httpx.AsyncClient(
        base_url=fleet.allocation_url, timeout=30, headers=env.admin
    ) as api:
        for key in keys:
            # Every request again, as a client that does not know what arrived: a replay
            # for those accepted, a new allocation for the others.
            while True:
                response = await post_allocation(api, key)
                if response.status_code != 429:
                    break
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            assert response.status_code in (200, 202), response.text
    db = Database(env.database_url)
    rows = await db.fetch(
        "SELECT id::text, status FROM allocations WHERE criteria::jsonb->'departments' ? %s",
        (API_DEPARTMENT,),
    )
    for allocation_id, _ in rows:
        await completed(db, allocation_id, 120)
    figures.update(
        requests=REQUESTS,
        answered_before_exit=len(answered),
        accepted_before_exit=len(accepted_before),
        allocations=len(rows),
    )
    drained(figures, "allocation", stopped)
    assert not [s for s in answered.values() if s >= 500], answered
    assert len(rows) == REQUESTS, "one allocation per idempotency key"


STREAMS = 5_000
NOTIFIER_DEPARTMENTS = departments("DrainSse", 5)


async def test_notifier_sigterm_mid_burst_with_5000_streams(fleet: FaultServices, figures):
    env = fleet.env
    seed_employees(env, "DN", NOTIFIER_DEPARTMENTS, STREAMS // len(NOTIFIER_DEPARTMENTS))
    employees = [f"DN{n:06d}" for n in range(1, STREAMS + 1)]
    db = Database(env.database_url)
    clients = [SwarmClient(e, env.bearer(e, ["employee"])["Authorization"]) for e in employees]

    async with Swarm("127.0.0.1", fleet.notifier_port, clients):
        await until(
            lambda: _true(all(c.opened.is_set() for c in clients)), 180, "5,000 streams open"
        )
        first = await allocate(env, fleet.allocation_url, NOTIFIER_DEPARTMENTS, "Before")
        await completed(db, first, 120)
        second = await allocate(env, fleet.allocation_url, NOTIFIER_DEPARTMENTS, "Mid-burst")

        async def delivering() -> bool:
            return sum(len(c.ids) for c in clients) > STREAMS

        await until(delivering, 120, "the second burst reaching streams")
        stopped = await asyncio.to_thread(sigterm, fleet.notifier)
        fleet.ensure_running()
        await completed(db, second, 120)
        caught_up = await until(everyone_has(db, clients, 2), 240, "every client has both")
        await asyncio.sleep(1)

    sent = await db.notifications_of(employees)
    lost = sum(len(set(sent[c.employee]) - set(c.ids)) for c in clients)
    duplicates = sum(c.duplicates for c in clients)
    out_of_order = sum(1 for c in clients if not c.in_order)
    figures.update(
        streams=STREAMS,
        lost=lost,
        duplicates=duplicates,
        out_of_order=out_of_order,
        caught_up_seconds=round(caught_up, 1),
    )
    drained(figures, "notifier", stopped)
    assert (lost, duplicates, out_of_order) == (0, 0, 0)


async def _true(value: bool) -> bool:
    return value


GATEWAY_STREAMS = 200
GATEWAY_DEPARTMENTS = departments("DrainGw", 2)


async def test_gateway_sigterm_mid_streams(fleet: FaultServices, figures, tmp_path: Path):
    env = fleet.env
    seed_employees(env, "DG", GATEWAY_DEPARTMENTS, GATEWAY_STREAMS // len(GATEWAY_DEPARTMENTS))
    employees = [f"DG{n:06d}" for n in range(1, GATEWAY_STREAMS + 1)]
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>Herald</title>")
    port = free_port()
    db = Database(env.database_url)
    clients = [SwarmClient(e, env.bearer(e, ["employee"])["Authorization"]) for e in employees]

    def gateway() -> ServiceProcess:
        process, _ = start_gateway(
            "gateway-drain",
            env.log_dir,
            site,
            allocation_url=fleet.allocation_url,
            notifier_url=fleet.notifier_url,
            mailer_url=fleet.allocation_url,  # no mailer here; nothing asks for it
            port=port,
        )
        return process

    proxy = gateway()
    try:
        async with Swarm("127.0.0.1", port, clients):
            await until(lambda: _true(all(c.opened.is_set() for c in clients)), 120, "streams open")
            first = await allocate(env, fleet.allocation_url, GATEWAY_DEPARTMENTS, "Before")
            stopped = await asyncio.to_thread(sigterm, proxy)
            second = await allocate(env, fleet.allocation_url, GATEWAY_DEPARTMENTS, "While away")
            proxy = gateway()
            for allocation_id in (first, second):
                await completed(db, allocation_id, 120)

            async def everyone_has_both() -> bool:
                sent = await db.notifications_of(employees)
                return all(
                    set(c.ids) == set(sent[c.employee]) and len(sent[c.employee]) == 2
                    for c in clients
                )

            caught_up = await until(everyone_has_both, 120, "every client has both")
            await asyncio.sleep(1)
    finally:
        proxy.stop()
    duplicates = sum(c.duplicates for c in clients)
    figures.update(
        streams=GATEWAY_STREAMS, duplicates=duplicates, caught_up_seconds=round(caught_up, 1)
    )
    drained(figures, "gateway", stopped)
    assert duplicates == 0
    assert all(c.in_order for c in clients)


MANAGERS = 100
MAIL_DEPARTMENT = "Drain-Mail"


def seed_teams(env: HeraldEnv, managers: int) -> list[str]:
    """`managers` managers in one department, each with one report; the managers' ids."""
    seed_employees(env, "DM", [MAIL_DEPARTMENT], 2 * managers)
    with psycopg.connect(env.database_url) as conn:
        # DM000001 manages DM000002, DM000003 manages DM000004, and so on.
        conn.execute(
            "UPDATE employees SET manager_id = 'DM' || lpad((substr(id, 3)::int - 1)::text, 6, '0')"
            " WHERE department = %s AND substr(id, 3)::int %% 2 = 0",
            (MAIL_DEPARTMENT,),
        )
    return [f"DM{n:06d}" for n in range(1, 2 * managers, 2)]


async def test_mailer_sigterm_mid_emails(fleet: FaultServices, figures):
    env = fleet.env
    managers = seed_teams(env, MANAGERS)
    smtp = SmtpServer(free_port()).start()
    smtp.handler.delay_seconds = 0.05
    port = free_port()
    mailer = mailer_process(env, port, smtp.port)
    db = Database(env.database_url)
    try:
        started(mailer, f"http://127.0.0.1:{port}/readyz")
        allocation_id = await allocate(env, fleet.allocation_url, [MAIL_DEPARTMENT], "Drain mail")
        await until(
            lambda: _true(len(smtp.messages(allocation_id)) >= MANAGERS // 5),
            120,
            "the first emails",
            interval=0.01,
        )
        stopped = await asyncio.to_thread(sigterm, mailer)
        sent_before = len(smtp.messages(allocation_id))
        started(mailer, f"http://127.0.0.1:{port}/readyz")

        async def settled() -> bool:
            rows = await db.fetch(
                "SELECT email_status FROM manager_summaries WHERE allocation_id = %s",
                (allocation_id,),
            )
            return len(rows) == MANAGERS and all(
                s in ("sent", "unknown", "failed") for (s,) in rows
            )

        await until(settled, 180, "every summary email settled", interval=0.2)
    finally:
        mailer.stop()
        smtp.stop()
    states = dict(
        await db.fetch(
            "SELECT manager_id, email_status FROM manager_summaries WHERE allocation_id = %s",
            (allocation_id,),
        )
    )
    received = [r.rcpt_tos[0] for r in smtp.messages(allocation_id)]
    per_manager = {m: received.count(f"{m.lower()}@example.com") for m in managers}
    sent = sorted(m for m, s in states.items() if s == "sent")
    unknown = sorted(m for m, s in states.items() if s == "unknown")
    figures.update(
        managers=MANAGERS,
        emails_before_sigterm=sent_before,
        emails=len(received),
        sent=len(sent),
        unknown=len(unknown),
        twice=sum(1 for n in per_manager.values() if n > 1),
    )
    drained(figures, "mailer", stopped)
    # At most one email each (decision 0011): the one in flight at SIGTERM may be "unknown"
    # (dead-lettered, never sent again); every other was sent exactly once.
    assert all(n <= 1 for n in per_manager.values())
    assert len(sent) + len(unknown) == MANAGERS
    assert len(unknown) <= 1
    assert all(per_manager[m] == 1 for m in sent)


SOCKETS = 100
CHANNELS_DEPARTMENT = "Drain-Channels"
PUSHES = 12
PUSH_INTERVAL_SECONDS = 0.25


async def test_channels_sigterm_mid_delivery_with_sockets_open(fleet: FaultServices, figures):
    """pusher-js clients, each on its `private-employee-<id>` channel, while pushes to all of
    them keep coming: SIGTERM closes every socket (1012) and the process exits within its
    bound; a new process takes the port, the clients reconnect on their own, and the
    channel's replay (decision 0057) brings what they missed. Half the clients keep a
    cursor (`last_id` in their authorization params): exactly once, in order. The others
    resume from the channel's watermark: nothing lost; a notification written but not yet
    confirmed by a pong when the socket closed may come twice, as 0057 says, and is counted."""
    env = fleet.env
    seed_employees(env, "DC", [CHANNELS_DEPARTMENT], SOCKETS)
    employees = [f"DC{n:06d}" for n in range(1, SOCKETS + 1)]
    with_cursor = set(employees[::2])
    port = free_port()
    channels = channels_process(env, port, name="channels-drain")
    ready = f"http://127.0.0.1:{port}/readyz"
    db = Database(env.database_url)
    driver = await PusherClients.start()
    pushes: asyncio.Task[list[str]] | None = None
    try:
        started(channels, ready)
        for employee in employees:
            await driver.send(
                "connect",
                client=employee,
                key=KEY,
                port=port,
                token=env.bearer(employee, ["employee"])["Authorization"].removeprefix("Bearer "),
                authEndpoint=f"http://127.0.0.1:{port}/v1/channel-auth",
                cursor=employee in with_cursor,
            )
            await driver.send("subscribe", client=employee, channel=f"private-employee-{employee}")
        await driver.wait(lambda r: r["type"] == "subscribed", count=SOCKETS, timeout=120)

        async def keep_pushing() -> list[str]:
            sent = []
            for n in range(PUSHES):
                sent.append(await push(env, fleet.allocation_url, employees, f"Push {n}"))
                await asyncio.sleep(PUSH_INTERVAL_SECONDS)
            return sent

        pushes = asyncio.create_task(keep_pushing())
        await until(
            lambda: _true(len(driver.seen(_notification)) >= 3 * SOCKETS),
            120,
            "three pushes on the sockets",
            interval=0.01,
        )
        delivered_at_sigterm = len(driver.seen(_notification))
        stopped = await asyncio.to_thread(sigterm, channels)
        down = time.monotonic()
        await asyncio.to_thread(started, channels, ready)
        restarted = time.monotonic() - down

        async def all_reconnected() -> bool:
            connects = Counter(r["client"] for r in driver.seen(lambda r: r["type"] == "connected"))
            return all(connects[e] >= 2 for e in employees)

        reconnected = await until(all_reconnected, 120, "every client connected again")
        await pushes

        async def all_written() -> bool:
            written = await db.notifications_of(employees)
            return all(len(written[e]) == PUSHES for e in employees)

        await until(all_written, 120, "every push written", interval=0.2)
        sent = await db.notifications_of(employees)

        async def caught_up() -> bool:
            got = _received(driver, employees)
            return all(set(got[e]) >= set(sent[e]) for e in employees)

        caught_up_seconds = await until(caught_up, 120, "every client has every push")
        await asyncio.sleep(1)  # anything sent twice would have arrived by now
    finally:
        if pushes is not None and not pushes.done():
            pushes.cancel()
        await driver.close()
        channels.stop()

    got = _received(driver, employees)
    groups = {"cursor": sorted(with_cursor), "watermark": sorted(set(employees) - with_cursor)}
    figures.update(
        sockets=SOCKETS,
        pushes=PUSHES,
        delivered_at_sigterm=delivered_at_sigterm,
        restart_seconds=round(restarted, 1),
        reconnected_seconds=round(reconnected, 1),
        caught_up_seconds=round(caught_up_seconds, 1),
    )
    for group, members in groups.items():
        figures[group] = {
            "clients": len(members),
            "lost": sum(len(set(sent[e]) - set(got[e])) for e in members),
            "duplicates": sum(len(got[e]) - len(set(got[e])) for e in members),
            "unexpected": sum(len(set(got[e]) - set(sent[e])) for e in members),
            "out_of_order": sum(1 for e in members if got[e] != sorted(set(got[e]))),
        }
    drained(figures, "channels", stopped)
    assert figures["cursor"]["lost"] == figures["watermark"]["lost"] == 0
    assert figures["cursor"]["unexpected"] == figures["watermark"]["unexpected"] == 0
    assert figures["cursor"]["duplicates"] == 0
    assert figures["cursor"]["out_of_order"] == 0


def _notification(record: Record) -> bool:
    return record["type"] == "event" and record.get("event") == NOTIFICATION_PUSHED


def _received(driver: PusherClients, employees: list[str]) -> dict[str, list[int]]:
    """Each client's notification ids on its own channel, in arrival order."""
    got: dict[str, list[int]] = {e: [] for e in employees}
    for record in driver.seen(_notification):
        if record["channel"] == f"private-employee-{record['client']}":
            got[record["client"]].append(int(record["data"]["id"]))
    return got
