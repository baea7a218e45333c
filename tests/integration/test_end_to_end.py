"""The whole path on real Kafka and PostgreSQL: API -> inserter -> notifier -> SSE."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import psycopg
import pytest

from herald_common.criteria_sql import years_before
from tests.support.api import (
    employees_csv,
    import_employees,
    voucher,
    wait_until_finished,
)
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENTS = ("Sales", "HR", "Engineering")
GRADES = ("G1", "G2", "G3", "G4", "G5", "G6")
TODAY = date.today()
# Hire dates around the 2-year boundary, and well either side of it.
HIRE_DATES = (
    TODAY,
    years_before(TODAY, 1),
    date.fromordinal(years_before(TODAY, 2).toordinal() + 1),  # one day short of 2 years
    years_before(TODAY, 2),  # exactly 2 years
    years_before(TODAY, 3),
    years_before(TODAY, 7),
)
CRITERIA = {
    "departments": ["Sales"],
    "grades": ["G3", "G4", "G5", "G6", "G7", "G8", "G9"],
    "min_years_experience": 2,
}


def _people() -> list[tuple[str, str, str, str, date]]:
    people = []
    n = 0
    for department in DEPARTMENTS:
        for grade in GRADES:
            for hired_on in HIRE_DATES:
                for _ in range(2):
                    n += 1
                    people.append((f"P{n:05d}", f"Zoë Ñúñez {n}", department, grade, hired_on))
    return people


PEOPLE = _people()
MATCHING = {
    p[0] for p in PEOPLE if p[2] == "Sales" and p[3] >= "G3" and p[4] <= years_before(TODAY, 2)
}


@pytest.fixture(scope="module")
async def seeded(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as client:
        response = await import_employees(client, employees_csv(PEOPLE))
        assert response.status_code == 200, response.text
    return PEOPLE


def _sample_streams(client: httpx.AsyncClient, url: str, env) -> dict[str, StreamRecorder]:
    """Every matching employee plus a sample of every other group."""
    sample = set(MATCHING)
    for department in DEPARTMENTS:
        others = [p[0] for p in PEOPLE if p[2] == department and p[0] not in MATCHING]
        sample.update(others[::5])
    return {
        employee: StreamRecorder(
            client, f"{url}/v1/stream", {}, headers=env.bearer(employee, ["employee"])
        )
        for employee in sorted(sample)
    }


async def test_allocation_reaches_exactly_the_matching_employees(services, seeded, herald_env):
    assert 20 < len(MATCHING) < len(PEOPLE) / 4  # the criteria really discriminate
    async with (
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=30, headers=herald_env.admin
        ) as api,
        httpx.AsyncClient(timeout=None) as sse,
    ):
        streams = _sample_streams(sse, services.notifier_url, herald_env)
        await asyncio.gather(*(s.open() for s in streams.values()))
        assert all(s.status == 200 for s in streams.values())
        first = next(iter(streams.values()))
        assert first.response_headers["x-accel-buffering"] == "no"
        assert first.response_headers["content-type"].startswith("text/event-stream")

        response = await api.post(
            "/v1/allocations", json={"voucher": voucher(), "criteria": CRITERIA}
        )
        assert response.status_code == 202, response.text
        allocation_id = response.json()["id"]
        assert response.headers["location"] == f"/v1/allocations/{allocation_id}"

        final = await wait_until_finished(api, allocation_id)
        assert final["status"] == "completed", final
        assert final["counts"] == {
            "matched": len(MATCHING),
            "inserted": len(MATCHING),
            "published": len(MATCHING),
        }
        assert final["timings"]["completed_at"] is not None

        await asyncio.gather(*(streams[e].wait_for(1) for e in MATCHING))
        # The new voucher is unread: each matching stream hears its count go to 1.
        await asyncio.gather(
            *(
                streams[e].until(lambda s=streams[e]: s.unread == 1, what="unread 1")
                for e in MATCHING
            )
        )
        await asyncio.sleep(1.0)  # anything wrongly routed would arrive by now
        await asyncio.gather(*(s.close() for s in streams.values()))

    with psycopg.connect(herald_env.database_url) as conn:
        rows = conn.execute(
            "SELECT employee_id, code, notification_id, amount::text FROM employee_vouchers"
            " WHERE allocation_id = %s",
            (allocation_id,),
        ).fetchall()
    vouchers = {r[0]: r for r in rows}
    assert len(rows) == len(vouchers) == len(MATCHING)
    assert set(vouchers) == MATCHING

    for employee, stream in streams.items():
        if employee not in MATCHING:
            assert stream.notifications == [], f"{employee} should hear nothing"
            assert {f.event for f in stream.events} == {"unread-count"}
            continue
        assert len(stream.notifications) == 1, f"{employee} got {len(stream.notifications)} events"
        frame = stream.notifications[0]
        event = frame.json()
        _, code, notification_id, amount = vouchers[employee]
        assert frame.event == "herald.voucher.allocated"
        assert frame.id == str(notification_id) == event["id"]
        assert frame.retry is not None
        assert event["specversion"] == "1.0"
        assert event["subject"] == employee
        assert event["data"]["allocation_id"] == allocation_id
        assert event["data"]["voucher"]["code"] == code
        assert event["data"]["voucher"]["amount"] == amount == "50.00"


async def test_reconnect_with_last_event_id_gets_exactly_what_was_missed(
    services, seeded, herald_env
):
    employee = min(MATCHING)
    url = f"{services.notifier_url}/v1/stream"
    async with (
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=30, headers=herald_env.admin
        ) as api,
        httpx.AsyncClient(timeout=None) as sse,
    ):

        async def allocate(name: str) -> str:
            response = await api.post(
                "/v1/allocations", json={"voucher": voucher(name), "criteria": CRITERIA}
            )
            assert response.status_code == 202, response.text
            allocation_id = response.json()["id"]
            assert (await wait_until_finished(api, allocation_id))["status"] == "completed"
            return allocation_id

        auth = herald_env.bearer(employee, ["employee"])
        stream = await StreamRecorder(sse, url, {}, headers=auth).open()
        await allocate("Before the drop")
        [seen] = await stream.wait_for(1)
        await stream.close()

        missed = [await allocate("Missed one"), await allocate("Missed two")]

        # The header form, as a browser's EventSource sends it.
        back = await StreamRecorder(sse, url, {}, headers={**auth, "Last-Event-ID": seen.id}).open()
        replayed = await back.wait_for(2)
        assert [f.json()["data"]["allocation_id"] for f in replayed] == missed
        assert int(replayed[0].id) > int(seen.id)
        assert int(replayed[1].id) > int(replayed[0].id)

        # Live again after the replay: the next one arrives once, nothing repeats.
        live = await allocate("Live after replay")
        events = await back.wait_for(3)
        await asyncio.sleep(0.5)
        assert [f.json()["data"]["allocation_id"] for f in back.notifications] == [*missed, live]
        await back.close()

        # The query-parameter form, for clients that cannot set headers.
        again = await StreamRecorder(sse, url, {"last_event_id": seen.id}, headers=auth).open()
        assert [f.id for f in await again.wait_for(3)] == [f.id for f in events]
        await asyncio.sleep(0.3)
        assert len(again.notifications) == 3
        await again.close()


async def test_stream_rejects_unknown_employee_and_bad_last_event_id(services, seeded, herald_env):
    async with httpx.AsyncClient(base_url=services.notifier_url, timeout=10) as client:
        unknown = await client.get("/v1/stream", headers=herald_env.bearer("nobody", ["employee"]))
        assert unknown.status_code == 404
        bad = await client.get(
            "/v1/stream",
            headers={**herald_env.bearer(min(MATCHING), ["employee"]), "Last-Event-ID": "x1"},
        )
        assert bad.status_code == 400
        assert "Last-Event-ID" in bad.json()["detail"]
