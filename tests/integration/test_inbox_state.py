"""Archive, unarchive and mark unread: the inbox API, and the stream keeping tabs in sync."""

from __future__ import annotations

import secrets
from datetime import date

import httpx
import pytest

from tests.support.api import add_people, wait_push
from tests.support.sse import open_stream

pytestmark = pytest.mark.integration

PEOPLE = [(f"IS{n:03d}", f"State {n}", "Inbox-State", "G3", date(2019, 1, 1)) for n in range(8)]


@pytest.fixture(scope="module")
async def people(services, herald_env):
    await add_people(services.allocation_url, herald_env.admin, PEOPLE)
    return PEOPLE


async def push_to(services, herald_env, employee: str, titles: list[str]) -> list[int]:
    """Push each title to the employee; the ids of these new items, oldest first."""
    headers = herald_env.bearer(f"svc-{secrets.token_hex(3)}", ["service"])
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=headers
    ) as api:
        for title in titles:
            response = await api.post(
                "/v1/notifications", json={"title": title, "target": {"employee_ids": [employee]}}
            )
            assert response.status_code == 202, response.text
            assert (await wait_push(api, response.json()["id"]))["status"] == "completed"
    async with inbox(services, herald_env, employee) as api:
        items = (await api.get("/v1/notifications", params={"limit": 200})).json()["items"]
    return sorted(i["id"] for i in items)[-len(titles) :]


def inbox(services, herald_env, employee: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=services.allocation_url,
        timeout=30,
        headers=herald_env.bearer(employee, ["employee"]),
    )


async def listed(api: httpx.AsyncClient, **params: str) -> list[int]:
    return [i["id"] for i in (await api.get("/v1/notifications", params=params)).json()["items"]]


async def test_archive_hides_an_item_and_the_archived_filter_lists_it(services, herald_env, people):
    first, second = await push_to(services, herald_env, "IS000", ["One", "Two"])
    async with inbox(services, herald_env, "IS000") as api:
        answer = await api.post(f"/v1/notifications/{first}/archive")
        assert answer.status_code == 200
        assert answer.json() == {"unread": 1}  # an archived item leaves the unread count
        assert await listed(api) == [second]
        assert await listed(api, archived="false") == [second]
        assert await listed(api, archived="true") == [first]
        item = (await api.get("/v1/notifications", params={"archived": "true"})).json()["items"][0]
        assert item["archived"] is True
        assert item["action_url"] is None


async def test_unarchive_brings_an_item_back_unread_as_it_was(services, herald_env, people):
    (only,) = await push_to(services, herald_env, "IS001", ["Back"])
    async with inbox(services, herald_env, "IS001") as api:
        assert (await api.post(f"/v1/notifications/{only}/archive")).json() == {"unread": 0}
        assert (await api.post(f"/v1/notifications/{only}/unarchive")).json() == {"unread": 1}
        items = (await api.get("/v1/notifications")).json()["items"]
        assert [(i["id"], i["archived"], i["read_at"]) for i in items] == [(only, False, None)]


async def test_mark_unread_counts_a_read_item_again(services, herald_env, people):
    (only,) = await push_to(services, herald_env, "IS002", ["Again"])
    async with inbox(services, herald_env, "IS002") as api:
        assert (await api.post(f"/v1/notifications/{only}/read")).json() == {"unread": 0}
        assert (await api.post(f"/v1/notifications/{only}/unread")).json() == {"unread": 1}
        assert await listed(api, status="unread") == [only]


@pytest.mark.parametrize("change", ["unread", "archive", "unarchive"])
async def test_another_employees_item_is_not_found(services, herald_env, people, change):
    (theirs,) = await push_to(services, herald_env, "IS003", [f"Private {change}"])
    async with inbox(services, herald_env, "IS004") as stranger:
        answer = await stranger.post(f"/v1/notifications/{theirs}/{change}")
        assert answer.status_code == 404
        assert str(theirs) in answer.json()["detail"]
    async with inbox(services, herald_env, "IS003") as owner:
        item = (await owner.get("/v1/notifications")).json()["items"][0]
        assert (item["id"], item["archived"], item["read_at"]) == (theirs, False, None)


async def test_state_changes_reach_the_employees_other_tabs(services, herald_env, people):
    employee = "IS005"
    first, second = await push_to(services, herald_env, employee, ["Tab one", "Tab two"])
    async with inbox(services, herald_env, employee) as api, httpx.AsyncClient(timeout=None) as sse:
        other_tab = await open_stream(
            sse, services.notifier_url, herald_env.bearer(employee, ["employee"])
        )
        bystander = await open_stream(
            sse, services.notifier_url, herald_env.bearer("IS006", ["employee"])
        )
        await other_tab.until(lambda: other_tab.unread == 2, what="initial count")
        await api.post(f"/v1/notifications/{first}/read")
        await api.post(f"/v1/notifications/{first}/unread")
        await api.post(f"/v1/notifications/{second}/archive")
        await api.post(f"/v1/notifications/{second}/unarchive")
        expected = [
            {"id": first, "read": True, "archived": False},
            {"id": first, "read": False, "archived": False},
            {"id": second, "read": False, "archived": True},
            {"id": second, "read": False, "archived": False},
        ]
        await other_tab.until(
            lambda: len(other_tab.of_type("notification-state")) == 4, what="four state frames"
        )
        assert [f.json() for f in other_tab.of_type("notification-state")] == expected
        assert (await api.post("/v1/notifications/read-all")).json() == {"marked": 2}
        await other_tab.until(
            lambda: other_tab.of_type("notifications-read-all") != [], what="read-all frame"
        )
        assert other_tab.of_type("notifications-read-all")[0].json() == {"up_to": second}
        await other_tab.until(lambda: other_tab.unread == 0, what="count 0")
        assert bystander.of_type("notification-state") == []
        await other_tab.close()
        await bystander.close()


async def test_marking_an_item_as_it_already_is_sends_no_state_frame(services, herald_env, people):
    employee = "IS007"
    (only,) = await push_to(services, herald_env, employee, ["Same"])
    async with inbox(services, herald_env, employee) as api, httpx.AsyncClient(timeout=None) as sse:
        tab = await open_stream(
            sse, services.notifier_url, herald_env.bearer(employee, ["employee"])
        )
        await tab.until(lambda: tab.unread == 1, what="initial count")
        await api.post(f"/v1/notifications/{only}/unread")  # already unread: no change
        await api.post(f"/v1/notifications/{only}/read")
        await tab.until(lambda: tab.of_type("notification-state") != [], what="a state frame")
        assert [f.json()["read"] for f in tab.of_type("notification-state")] == [True]
        await tab.close()


async def test_a_push_carries_its_action_link_to_the_inbox_and_the_stream(
    services, herald_env, people
):
    employee, link = "IS006", "https://payroll.example/payslips/2026-11"
    headers = herald_env.bearer(f"svc-{secrets.token_hex(3)}", ["service"])
    async with (
        httpx.AsyncClient(base_url=services.allocation_url, timeout=30, headers=headers) as api,
        httpx.AsyncClient(timeout=None) as sse,
    ):
        tab = await open_stream(
            sse, services.notifier_url, herald_env.bearer(employee, ["employee"])
        )
        response = await api.post(
            "/v1/notifications",
            json={
                "title": "Payslip",
                "action_url": link,
                "target": {"employee_ids": [employee]},
            },
        )
        assert response.status_code == 202, response.text
        [frame] = await tab.wait_for(1)
        await tab.close()
    assert frame.json()["data"]["action_url"] == link
    async with inbox(services, herald_env, employee) as own:
        [item] = (await own.get("/v1/notifications")).json()["items"]
    assert item["action_url"] == link


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "//evil.example/x", "ftp://files.example/x"]
)
async def test_an_action_link_must_be_http_or_on_this_origin(services, herald_env, people, link):
    headers = herald_env.bearer(f"svc-{secrets.token_hex(3)}", ["service"])
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=headers
    ) as api:
        response = await api.post(
            "/v1/notifications",
            json={"title": "x", "action_url": link, "target": {"employee_ids": ["IS006"]}},
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "action_url"]
