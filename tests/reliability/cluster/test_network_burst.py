"""Network faults between Herald's services and Kafka or PostgreSQL during a delivery burst.

2,000 SSE streams are open on the notifier (held by the benchmark's load generator,
stream_load.py, opened once for the module) when an allocation to their employees and a push to all of them are sent.
Once half of the allocation's vouchers have reached the streams, the toxic goes on the
services' side of the proxies (the notifier's fetches and its PostgreSQL connections, the
inserter's transactions and COPYs, the API's), for a few seconds while the rest of the
burst is written, published, fetched and fanned out; then it is removed and a second push
goes to everyone. Each service's recovery is timed from the fault's end: the allocation
API (a preview answered), the inserter (the allocation completed and both pushes'
notifications written) and the notifier (every stream has its three notifications). The
pass criteria are the suite's, at each client: every notification once, in order, to its
own stream, no stream closed; and the allocation whole on the topic and in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import HeraldEnv
from tests.reliability.cluster.conftest import KAFKA_PROXIES, POSTGRES_PROXY
from tests.reliability.cluster.outcome import Clock, allocation_outcome
from tests.reliability.cluster.stream_load import StreamLoad, assert_delivered_whole
from tests.reliability.cluster.test_network import BOTH, Fault
from tests.reliability.conftest import FaultServices
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
from tests.support.topic_reader import high_watermarks

pytestmark = [pytest.mark.reliability, pytest.mark.network, pytest.mark.timeout(600)]

STREAMS = 2_000
# The allocation, a push during the burst, a push after the fault.
SENT_TO_EACH = 3

# Seconds of fault, not minutes: each starts mid-burst and lasts `lasts` seconds. The
# resets are the burst's counterparts of "halfway through the COPY" and "halfway through
# the Kafka transaction": every connection through PostgreSQL's proxy (the notifier's
# delivered marks and unread counts, the inserter's COPY of the push) or through the
# brokers' proxies (the notifier's fetches, the inserter's transactional sends) that
# carries a byte meanwhile is reset; PostgreSQL's for 3 s, so that the notifier's rounds
# (a second apart) fall in it. The warnings and errors each service logged from the
# fault's start say which ones felt it. The half-open link drops what the services send
# and answers nothing for 10 s: the requests it swallowed then wait out the clients'
# timeouts, which the recovery times show.
BURST_FAULTS = [
    Fault("latency_500ms", BOTH, "latency", ["downstream"], {"latency": 500}, lasts=8),
    Fault("bandwidth_64KBps", BOTH, "bandwidth", ["upstream", "downstream"], {"rate": 64}, lasts=8),
    Fault("reset_postgres_connections", [POSTGRES_PROXY], "reset_peer", ["upstream"], lasts=3),
    Fault("reset_kafka_connections", KAFKA_PROXIES, "reset_peer", ["upstream"], lasts=1),
    Fault("blackhole_20s", BOTH, "timeout", ["upstream", "downstream"], {"timeout": 0}, lasts=20),
    Fault("half_open_10s", BOTH, "timeout", ["downstream"], {"timeout": 0}, lasts=10),
]


@dataclass(frozen=True)
class Audience:
    """The employees the bursts go to, their departments, and their open streams."""

    departments: list[str]
    employees: list[str]
    streams: StreamLoad
    opened: dict[str, Any]


@pytest.fixture(scope="module")
async def audience(
    cluster_services: FaultServices, cluster_env: HeraldEnv, tmp_path_factory
) -> AsyncIterator[Audience]:
    """2,000 streams, opened once for every fault of the module (each test arms a window
    of its own); a stream closed by one fault fails the others too."""
    names = departments("NetBurst", 4)
    seed_employees(cluster_env, "NB", names, STREAMS // len(names))
    employees = [f"NB{i:06d}" for i in range(1, STREAMS + 1)]
    notifier = cluster_services.notifier.process
    assert notifier is not None
    streams = StreamLoad(
        cluster_env,
        cluster_services.notifier_port,
        employees,
        tmp_path_factory.mktemp("burst-loadgen"),
        "loadgen-bursts",
    )
    try:
        opened = await streams.open(notifier.pid)
        yield Audience(names, employees, streams, opened)
    finally:
        await streams.close()


@pytest.mark.parametrize("fault", BURST_FAULTS, ids=[fault.name for fault in BURST_FAULTS])
async def test_network_fault_during_a_delivery_burst(
    fault: Fault, audience: Audience, cluster_services, cluster_env, cluster_stack, figures
):
    assert fault.lasts is not None
    names, employees, streams = audience.departments, audience.employees, audience.streams
    db = Database(cluster_env.database_url)
    api = cluster_services.allocation_url
    since = await high_watermarks(cluster_env.kafka, cluster_env.topics.voucher_allocated)
    figures.update(streams=STREAMS, streams_opened_once_for_the_module=audience.opened)
    (before,) = (await db.fetch("SELECT coalesce(max(id), 0) FROM notifications"))[0]
    await streams.arm(SENT_TO_EACH)
    allocation_id = await allocate(cluster_env, api, names, fault.name)
    await push(cluster_env, api, employees, f"During {fault.name}")

    async def half_delivered() -> bool:
        return await streams.received() >= STREAMS // 2

    await until(half_delivered, 120, "half the vouchers on the streams", interval=0.01)
    received_at_start = await streams.received()
    logs = _log_sizes(cluster_services)
    with contextlib.ExitStack() as toxics:
        for stream in fault.streams:
            toxics.enter_context(
                cluster_stack.toxiproxy.toxic(fault.proxies, fault.kind, stream, **fault.attributes)
            )
        clock = Clock()
        await asyncio.sleep(fault.lasts)
        received_in_fault = await streams.received() - received_at_start
    fault_seconds = clock()
    ended = Clock()

    api_answers = preview_answers(cluster_env, api, names)
    api_recovered = await until(api_answers, 120, "the allocation API answering")
    await push(cluster_env, api, employees, f"After {fault.name}")
    await completed(db, allocation_id, timeout=300)

    async def all_written() -> bool:
        rows = await db.fetch(
            "SELECT count(*) FROM notifications WHERE employee_id = ANY(%s) AND id > %s",
            (employees, before),
        )
        return int(rows[0][0]) == STREAMS * SENT_TO_EACH

    await until(all_written, 300, "both pushes written", interval=0.2)
    inserter_recovered = ended()
    await until(streams.everyone_has_them, 300, "every stream has everything", interval=0.2)
    notifier_recovered = ended()
    delivered = await streams.outcome(db, before)
    complaints = _complaints_since(cluster_services, logs)

    outcome = await allocation_outcome(cluster_env, db, allocation_id, since, STREAMS)
    figures.update(
        toxic=fault.description,
        received_before_fault=received_at_start,
        received_during_fault=received_in_fault,
        fault_seconds=fault_seconds,
        recovery_seconds={
            "allocation": round(api_recovered, 1),
            "inserter": inserter_recovered,
            "notifier": notifier_recovered,
        },
        warnings_and_errors_logged=complaints,
        **delivered,
        allocation=outcome.figures(),
    )
    assert_delivered_whole(delivered, STREAMS, SENT_TO_EACH)
    outcome.assert_whole()


def _log_sizes(services: FaultServices) -> dict[str, int]:
    return {
        name: getattr(services, name).log_path.stat().st_size
        for name in ("allocation", "inserter", "notifier")
    }


def _complaints_since(services: FaultServices, sizes: dict[str, int]) -> dict[str, int]:
    """Per service, its WARNING and ERROR lines since `sizes` (JSON lines, as logged)."""
    found = {}
    for name, size in sizes.items():
        with getattr(services, name).log_path.open("rb") as log:
            log.seek(size)
            lines = log.read().decode(errors="replace").splitlines()
        found[name] = sum(
            1 for line in lines if '"level": "WARNING"' in line or '"level": "ERROR"' in line
        )
    return found
