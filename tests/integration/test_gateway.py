"""The gateway in front of the real services: one origin for the page, the APIs and streams."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from tests.support.api import employees_csv, import_employees
from tests.support.gateway import start_gateway, start_gateway_for
from tests.support.processes import free_port
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENT = "Gateway-Dept"
PEOPLE = [(f"GW{n:03d}", f"Person {n}", DEPARTMENT, "G2", date(2021, 1, 1)) for n in range(3)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "assets").mkdir()
    (root / "index.html").write_text('<!doctype html><script src="/assets/app.js"></script>')
    (root / "assets" / "app.js").write_text("console.log('herald')")
    return root


@pytest.fixture(scope="module")
def gateway(services, herald_env, site):
    process, url = start_gateway_for(services, "gateway", herald_env.log_dir, site)
    yield url
    process.stop()


@pytest.fixture(scope="module")
async def people(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, employees_csv(PEOPLE))).status_code == 200
    return PEOPLE


async def test_the_managers_team_page_of_an_allocation_is_the_consoles(gateway):
    """The summary's link, /allocations/<id>/team, opens the console (not an API)."""
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        index = await client.get("/")
        team = await client.get("/allocations/6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10/team")
    assert team.status_code == 200
    assert team.text == index.text
    assert "script-src 'self'" in team.headers["content-security-policy"]


async def test_the_page_is_served_with_its_security_headers(gateway):
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        index = await client.get("/")
        app_route = await client.get("/allocations")
        asset = await client.get("/assets/app.js")
        missing = await client.get("/assets/missing.js")
        outside = await client.get("/assets/%2e%2e/%2e%2e/pyproject.toml")
        ready = await client.get("/readyz")
    assert index.status_code == 200
    assert index.text.startswith("<!doctype html>")
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["cache-control"] == "no-cache"
    assert app_route.text == index.text
    assert "immutable" in asset.headers["cache-control"]
    assert (missing.status_code, outside.status_code, ready.status_code) == (404, 404, 200)


async def test_sign_in_then_stream_with_the_cookie_through_one_origin(
    gateway, services, herald_env, people
):
    employee = PEOPLE[0][0]
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as browser:
        issued = await browser.post("/v1/dev/tokens", json={"employee_id": employee})
        assert issued.status_code == 200, issued.text
        bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
        session = await browser.post("/v1/session", headers=bearer)
        assert session.status_code == 200
        assert "Path=/v1" in session.headers["set-cookie"]
        assert browser.cookies.get("herald_session")  # kept by the client, like a browser
        inbox = await browser.get("/v1/notifications", headers=bearer)
        assert (inbox.status_code, inbox.json()["items"]) == (200, [])
        preferences = await browser.get("/v1/preferences", headers=bearer)
        assert preferences.status_code == 200  # answered by the mailer

        # No Authorization header: the stream authenticates with the cookie alone.
        stream = await StreamRecorder(browser, f"{gateway}/v1/stream", {}).open()
        try:
            assert stream.status == 200
            assert stream.response_headers["content-type"].startswith("text/event-stream")
            assert stream.response_headers["x-accel-buffering"] == "no"
            await stream.until(lambda: stream.unread == 0, 10, "the unread count")

            push = await browser.post(
                "/v1/notifications",
                headers=herald_env.admin,
                json={"title": "Through the gateway", "target": {"employee_ids": [employee]}},
            )
            assert push.status_code == 202, push.text
            # Live, not buffered: the event and its unread count arrive while the stream is open.
            [event] = await stream.wait_for(1, timeout=30)
            assert event.json()["data"]["title"] == "Through the gateway"
            await stream.until(lambda: stream.unread == 1, 10, "the new unread count")
        finally:
            await stream.close()


async def test_a_service_that_is_down_answers_502(services, herald_env, site):
    process, url = start_gateway(
        "gateway-without-notifier",
        herald_env.log_dir,
        site,
        allocation_url=services.allocation_url,
        notifier_url=f"http://127.0.0.1:{free_port()}",
        mailer_url=services.mailer_url,
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            down = await client.get("/v1/stream", headers={"Accept": "text/event-stream"})
            up = await client.get("/v1/allocations", headers=herald_env.admin)
    finally:
        process.stop()
    assert down.status_code == 502
    assert down.json() == {"detail": "the notifier service is unavailable"}
    assert down.headers["retry-after"] == "2"
    assert up.status_code == 200


async def test_request_bodies_are_streamed_to_the_service(gateway, herald_env):
    csv_text = employees_csv(
        [(f"GWB{n:04d}", f"Bulk {n}", DEPARTMENT, "G1", date(2022, 1, 1)) for n in range(2000)]
    )

    async def chunks():
        data = csv_text.encode()
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]
            await asyncio.sleep(0)

    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers=herald_env.admin) as api:
        response = await api.post(
            "/v1/employees:import", content=chunks(), headers={"Content-Type": "text/csv"}
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"inserted": 2000, "updated": 0}
