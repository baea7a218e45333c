"""Network faults between Herald's services and Kafka or PostgreSQL, through Toxiproxy.

Each scenario runs one allocation with a fault on the services' connections (the tests'
own connections are direct and never faulted) and an open stream for one of its
employees. After the fault each service's recovery is timed from the moment the fault
ends: the allocation API (a preview answered), the inserter (the allocation completed)
and the notifier (a push sent after the fault reaches the open stream). The pass
criteria are the suite's: 0 lost, 0 duplicated, per-employee order, the allocation
completed whole, nothing accepted dropped.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import pytest

from tests.reliability.cluster.conftest import KAFKA_PROXIES, POSTGRES_PROXY
from tests.reliability.cluster.copy_hold import copy_held
from tests.reliability.cluster.outcome import Clock, allocation_outcome
from tests.reliability.workload import (
    Database,
    allocate,
    completed,
    departments,
    preview_answers,
    push,
    seed_employees,
    until,
)
from tests.support.sse_swarm import Swarm, SwarmClient
from tests.support.topic_reader import high_watermarks

pytestmark = [pytest.mark.reliability, pytest.mark.network, pytest.mark.timeout(600)]

EMPLOYEES = 10_000
BOTH = [*KAFKA_PROXIES, POSTGRES_PROXY]


@dataclass(frozen=True)
class Fault:
    name: str
    proxies: list[str]
    kind: str
    streams: list[str]
    attributes: dict[str, int] = field(default_factory=dict)
    # When the fault starts: "requested" (before the POST), "copying" (the inbox COPY
    # half done) or "publishing" (the vouchers' COPY begun: the Kafka transaction open).
    # The COPY is held there (`held_at`) until the fault is in place, then goes on into it.
    starts: str = "requested"
    # Seconds the fault lasts; None: until the allocation completes.
    lasts: float | None = None
    employees: int = EMPLOYEES

    @property
    def description(self) -> str:
        """The toxic as the figures print it."""
        where = f"{','.join(self.proxies)} ({'+'.join(self.streams)})"
        return f"{self.kind} {self.attributes} on {where}"


FAULTS = [
    Fault("latency_500ms", BOTH, "latency", ["downstream"], {"latency": 500}),
    # 1,000 employees: at 64 KB/s a 10,000-employee allocation (about 6 MB of COPY and
    # records) outlives the inserter's 60 s transaction budget three times and fails, as
    # decision 0061 records.
    Fault(
        "bandwidth_64KBps",
        BOTH,
        "bandwidth",
        ["upstream", "downstream"],
        {"rate": 64},
        employees=1_000,
    ),
    Fault(
        "reset_halfway_through_the_copy",
        [POSTGRES_PROXY],
        "reset_peer",
        ["upstream"],
        starts="copying",
        lasts=1,
    ),
    Fault(
        "reset_halfway_through_the_kafka_transaction",
        KAFKA_PROXIES,
        "reset_peer",
        ["upstream"],
        starts="publishing",
        lasts=1,
    ),
    Fault(
        "blackhole_20s",
        BOTH,
        "timeout",
        ["upstream", "downstream"],
        {"timeout": 0},
        starts="publishing",
        lasts=20,
    ),
    # The peers stop answering without closing: what the services send is taken, nothing
    # comes back, for longer than the clients' 30 s request timeout.
    Fault(
        "half_open_40s",
        BOTH,
        "timeout",
        ["downstream"],
        {"timeout": 0},
        starts="publishing",
        lasts=40,
    ),
]


def held_at(fault: Fault) -> tuple[str, int]:
    """The table whose COPY a fault starts in, and the row (counted from 1) it waits at."""
    if fault.starts == "copying":
        return "notifications_per_employee", fault.employees // 2
    return "employee_vouchers", 1


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
async def test_network_fault_during_an_allocation(
    fault: Fault, cluster_services, cluster_env, cluster_stack, figures
):
    toxiproxy = cluster_stack.toxiproxy
    names = departments(f"Net{FAULTS.index(fault)}", 5)
    letter = f"N{FAULTS.index(fault)}"
    seed_employees(cluster_env, letter, names, fault.employees // len(names))
    watched = f"{letter}000001"
    db = Database(cluster_env.database_url)
    api = cluster_services.allocation_url
    since = await high_watermarks(cluster_env.kafka, cluster_env.topics.voucher_allocated)
    client = SwarmClient(watched, cluster_env.bearer(watched, ["employee"])["Authorization"])
    async with AsyncExitStack() as scope:
        await scope.enter_async_context(
            Swarm("127.0.0.1", cluster_services.notifier_port, [client])
        )
        hold = None
        if fault.starts != "requested":
            table, row = held_at(fault)
            hold = await scope.enter_async_context(
                copy_held(cluster_env.database_url, table, letter, row)
            )
        await asyncio.wait_for(client.opened.wait(), 60)
        toxics: list[tuple[str, str]] = []

        def begin() -> None:
            for proxy in fault.proxies:
                for stream in fault.streams:
                    toxics.append(
                        (proxy, toxiproxy.add(proxy, fault.kind, stream, **fault.attributes))
                    )

        clock = Clock()
        if fault.starts == "requested":
            begin()
        requested = Clock()
        allocation_id = await allocate(cluster_env, api, names, fault.name)
        accepted = requested()
        held: dict[str, int] = {}
        if hold is not None:
            await hold.reached(300)
            held["rows_copied_at_fault"] = await hold.rows_done()
            begin()
            clock = Clock()
            await hold.release()
        if fault.lasts is None:
            await completed(db, allocation_id, timeout=400)
        else:
            await asyncio.sleep(fault.lasts)
        for proxy, toxic in toxics:
            toxiproxy.remove(proxy, toxic)
        fault_seconds = clock()
        ended = Clock()

        api_answers = preview_answers(cluster_env, api, names)
        api_recovered = await until(api_answers, 120, "the allocation API answering")
        await completed(db, allocation_id, timeout=300)
        inserter_recovered = ended()
        await push(cluster_env, api, [watched], f"After {fault.name}")

        async def delivered() -> bool:
            sent = (await db.notifications_of([watched]))[watched]
            return len(sent) == 2 and set(sent) <= set(client.ids)

        try:
            await until(delivered, 180, "the push on the open stream")
        except TimeoutError as exc:
            # Which service held the push: written (inserter done) or not, received or not.
            sent = (await db.notifications_of([watched]))[watched]
            raise AssertionError(
                f"{exc}: inbox ids {sent}, stream ids {client.ids}; {_log_tails(cluster_services)}"
            ) from exc
        notifier_recovered = ended()
        await asyncio.sleep(0.5)  # anything sent twice would have arrived by now

    outcome = await allocation_outcome(cluster_env, db, allocation_id, since, fault.employees)
    sent = (await db.notifications_of([watched]))[watched]
    log = cluster_services.inserter.log_path.read_text(errors="replace")
    figures.update(
        toxic=fault.description,
        allocation_accepted_seconds=accepted,
        fault_seconds=fault_seconds,
        recovery_seconds={
            "allocation": round(api_recovered, 1),
            "inserter": inserter_recovered,
            "notifier": notifier_recovered,
        },
        **held,
        inserter_retries=log.count(f"allocation {allocation_id}: retrying"),
        stream_ids=len(client.ids),
        **outcome.figures(),
    )
    outcome.assert_whole()
    assert client.ids == sent  # the voucher, then the push: once each, in order


def _log_tails(services, lines: int = 15) -> str:
    """The last lines of the inserter's and the notifier's logs, for a failure's message."""
    tails = []
    for name in ("inserter", "notifier"):
        log = getattr(services, name).log_path.read_text(errors="replace").splitlines()
        tails.append(f"{name} log ends: " + " | ".join(log[-lines:]))
    return "; ".join(tails)
