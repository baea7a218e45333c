"""An allocation's channel shows its phases live: inserted, published, delivered, completed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENT = "Progress-Dept"
PEOPLE = [(f"PG{n:03d}", f"Person {n}", DEPARTMENT, "G3", date(2019, 1, 1)) for n in range(5)]
ADMIN = ("PGA01", "Admin", "Progress-HR", "G6", date(2012, 1, 1))


async def request_allocation(herald_env, allocation_id: uuid.UUID) -> None:
    """Write the request straight to the topic (the public contract), with a known id."""
    event = {
        "specversion": "1.0",
        "id": str(allocation_id),
        "source": "/tests/progress",
        "type": "herald.allocation.requested",
        "time": datetime.now(UTC).isoformat(),
        "data": {
            "allocation_id": str(allocation_id),
            "voucher": voucher("Progress bonus", prefix="PRG"),
            "criteria": {"departments": [DEPARTMENT]},
            "requested_at": datetime.now(UTC).isoformat(),
        },
    }
    producer = AIOKafkaProducer(bootstrap_servers=herald_env.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            herald_env.topics.allocation_requested,
            key=str(allocation_id).encode(),
            value=json.dumps(event).encode(),
        )
    finally:
        await producer.stop()


def progress_frames(stream: StreamRecorder) -> list[tuple[str | None, dict]]:
    return [
        (f.event, f.json()["data"])
        for f in stream.events
        if f.event and f.event.startswith("herald.allocation.")
    ]


async def test_watchers_see_each_phase_and_the_live_delivered_count(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, employees_csv([*PEOPLE, ADMIN]))).status_code == 200

    allocation_id = uuid.uuid4()
    channel = {"channels": f"private-allocation-{allocation_id}"}
    admin = herald_env.bearer(ADMIN[0], ["employee", "hr-admin"])
    stream_url = f"{services.notifier_url}/v1/stream"
    async with httpx.AsyncClient(timeout=None) as sse:
        watcher = await StreamRecorder(sse, stream_url, channel, headers=admin).open()
        online = [
            await StreamRecorder(
                sse, stream_url, {}, headers=herald_env.bearer(employee, ["employee"])
            ).open()
            for employee in ("PG000", "PG001")
        ]
        try:
            await request_allocation(herald_env, allocation_id)

            def delivered() -> int:
                counts = [
                    data["delivered"]
                    for event, data in progress_frames(watcher)
                    if event == "herald.allocation.delivered"
                ]
                return counts[-1] if counts else 0

            await watcher.until(
                lambda: (
                    delivered() == 2
                    and any(e == "herald.allocation.completed" for e, _ in progress_frames(watcher))
                ),
                what="the completion and 2 live deliveries",
            )
            for stream in online:
                await stream.wait_for(1)
        finally:
            await watcher.close()
            for stream in online:
                await stream.close()

    phases = [
        (event, data.get("phase") or data.get("status"), data["matched"], data["published"])
        for event, data in progress_frames(watcher)
        if event != "herald.allocation.delivered"
    ]
    assert phases == [
        ("herald.allocation.progress", "inserted", 5, 0),
        ("herald.allocation.progress", "published", 5, 5),
        ("herald.allocation.completed", "completed", 5, 5),
    ]
    # None of them is an inbox item: no id, so Last-Event-ID never moves.
    assert all(f.id is None for f in watcher.events)
    assert {d["allocation_id"] for _, d in progress_frames(watcher)} == {str(allocation_id)}

    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        final = await wait_until_finished(api, str(allocation_id))
    assert final["counts"] == {"matched": 5, "inserted": 5, "published": 5}

    # Someone who starts watching later gets this replica's count at once.
    async with httpx.AsyncClient(timeout=None) as sse:
        late = await StreamRecorder(sse, stream_url, channel, headers=admin).open()
        try:
            await late.until(
                lambda: any(e == "herald.allocation.delivered" for e, _ in progress_frames(late)),
                timeout=10,
                what="the delivered count",
            )
        finally:
            await late.close()
    [(_, counted)] = progress_frames(late)
    assert counted["delivered"] == 2
