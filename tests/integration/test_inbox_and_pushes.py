"""Generic pushes reach inboxes and streams; the inbox API and its unread-count events."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date

import httpx
import pytest

from tests.support.api import employees_csv, import_employees, wait_push
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENT = "Inbox-Dept"
OTHER = "Inbox-Other"
PEOPLE = [(f"IN{n:03d}", f"Person {n}", DEPARTMENT, "G2", date(2020, 1, 1)) for n in range(6)] + [
    (f"IO{n:03d}", f"Other {n}", OTHER, "G5", date(2010, 1, 1)) for n in range(4)
]


@pytest.fixture(scope="module")
async def people(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, employees_csv(PEOPLE))).status_code == 200
    return PEOPLE


@pytest.fixture
async def service_api(services, herald_env, people):
    headers = herald_env.bearer(f"payroll-{secrets.token_hex(3)}", ["service"])
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=headers
    ) as api:
        yield api


def inbox_client(services, herald_env, employee: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=services.allocation_url,
        timeout=30,
        headers=herald_env.bearer(employee, ["employee"]),
    )


async def test_push_to_ids_department_and_criteria(service_api, services, herald_env):
    async with httpx.AsyncClient(timeout=None) as sse:
        stream = await StreamRecorder(
            sse,
            f"{services.notifier_url}/v1/stream",
            {},
            headers=herald_env.bearer("IN000", ["employee"]),
        ).open()
        bystander = await StreamRecorder(
            sse,
            f"{services.notifier_url}/v1/stream",
            {},
            headers=herald_env.bearer("IO000", ["employee"]),
        ).open()
        targets = [
            {"employee_ids": ["IN000", "IN001", "missing-id"]},
            {"department": DEPARTMENT},
            {
                "criteria": {
                    "departments": [DEPARTMENT],
                    "grades": ["G2"],
                    "min_years_experience": 1,
                }
            },
        ]
        for n, target in enumerate(targets):
            response = await service_api.post(
                "/v1/notifications",
                json={"title": f"Payslip {n}", "body": "Ready", "data": {"n": n}, "target": target},
            )
            assert response.status_code == 202, response.text
            done = await wait_push(service_api, response.json()["id"])
            assert done["status"] == "completed"
            expected = 2 if "employee_ids" in target else 6
            assert done["counts"] == {
                "matched": expected,
                "inserted": expected,
                "published": expected,
            }
        got = await stream.wait_for(3)
        assert [f.json()["data"]["title"] for f in got] == ["Payslip 0", "Payslip 1", "Payslip 2"]
        assert {f.event for f in got} == {"herald.notification.pushed"}
        assert got[0].json()["data"]["data"] == {"n": 0}
        await asyncio.sleep(0.5)
        assert bystander.notifications == []
        await stream.close()
        await bystander.close()


async def test_push_needs_service_or_hr_admin(services, herald_env, people):
    async with inbox_client(services, herald_env, "IN002") as employee:
        response = await employee.post(
            "/v1/notifications", json={"title": "x", "target": {"department": DEPARTMENT}}
        )
        assert response.status_code == 403


async def test_push_validation_and_idempotency(service_api):
    too_many = {"title": "x", "target": {"employee_ids": [f"E{i}" for i in range(10_001)]}}
    assert (await service_api.post("/v1/notifications", json=too_many)).status_code == 422
    two_targets = {"title": "x", "target": {"department": DEPARTMENT, "employee_ids": ["IN000"]}}
    response = await service_api.post("/v1/notifications", json=two_targets)
    assert response.status_code == 422
    assert "exactly one" in response.text
    unknown = {"title": "x", "target": {"department": "Nope"}}
    assert (await service_api.post("/v1/notifications", json=unknown)).status_code == 422

    body = {"title": "Once", "target": {"employee_ids": ["IN003"]}}
    key = {"Idempotency-Key": secrets.token_hex(6)}
    first = await service_api.post("/v1/notifications", json=body, headers=key)
    again = await service_api.post("/v1/notifications", json=body, headers=key)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    changed = await service_api.post(
        "/v1/notifications", json={**body, "title": "Twice"}, headers=key
    )
    assert changed.status_code == 422


async def test_push_rate_limit_answers_429_with_retry_after(services, herald_env, people):
    headers = herald_env.bearer(f"noisy-{secrets.token_hex(3)}", ["service"])
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=headers
    ) as api:
        body = {"title": "spam", "target": {"employee_ids": ["IO001"]}}
        # All at once, so the bucket (120, refilling 2 per second) cannot refill meanwhile.
        responses = await asyncio.gather(
            *(api.post("/v1/notifications", json=body) for _ in range(140))
        )
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {202, 429}
    assert 120 <= statuses.count(202) <= 125
    limited = [r for r in responses if r.status_code == 429]
    assert all(int(r.headers["retry-after"]) >= 1 for r in limited)


async def test_inbox_pages_filters_and_read_marks_with_live_counts(
    service_api, services, herald_env
):
    employee = "IO002"  # no other test notifies this one
    for n in range(5):
        response = await service_api.post(
            "/v1/notifications",
            json={"title": f"Item {n}", "target": {"employee_ids": [employee]}},
        )
        await wait_push(service_api, response.json()["id"])
    async with (
        inbox_client(services, herald_env, employee) as inbox,
        httpx.AsyncClient(timeout=None) as sse,
    ):
        auth = herald_env.bearer(employee, ["employee"])
        url = f"{services.notifier_url}/v1/stream"
        tab1 = await StreamRecorder(sse, url, {}, headers=auth).open()
        tab2 = await StreamRecorder(sse, url, {}, headers=auth).open()
        await tab1.until(lambda: tab1.unread == 5, what="initial count")

        first = (await inbox.get("/v1/notifications", params={"limit": 2})).json()
        assert [i["title"] for i in first["items"]] == ["Item 4", "Item 3"]
        second = (
            await inbox.get(
                "/v1/notifications", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert [i["title"] for i in second["items"]] == ["Item 2", "Item 1"]
        assert (await inbox.get("/v1/notifications/unread-count")).json() == {"unread": 5}

        target = first["items"][0]["id"]
        assert (await inbox.post(f"/v1/notifications/{target}/read")).json() == {"unread": 4}
        for tab in (tab1, tab2):
            await tab.until(lambda tab=tab: tab.unread == 4, what="count 4 on both tabs")
        read = (await inbox.get("/v1/notifications", params={"status": "read"})).json()["items"]
        assert [i["id"] for i in read] == [target]
        unread = (
            await inbox.get(
                "/v1/notifications",
                params={"status": "unread", "kind": "herald.notification.pushed"},
            )
        ).json()
        assert len(unread["items"]) == 4

        assert (await inbox.post("/v1/notifications/read-all")).json() == {"marked": 4}
        for tab in (tab1, tab2):
            await tab.until(lambda tab=tab: tab.unread == 0, what="count 0 on both tabs")
        await tab1.close()
        await tab2.close()

    # Another employee's notification is "not found", never "forbidden".
    async with inbox_client(services, herald_env, "IO003") as stranger:
        assert (await stranger.post(f"/v1/notifications/{target}/read")).status_code == 404
        assert (await stranger.post("/v1/notifications/999999999/read")).status_code == 404
