"""Stream credentials and channels: cookie, tickets, Pusher-style signatures, caps, reset."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import httpx
import psycopg
import pytest

from herald_common.auth import channel_auth
from herald_common.inbox_writes import NOTIFICATIONS_WRITER_LOCK
from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.auth import token
from tests.support.sse import StreamRecorder
from tools.asyncapi.models import StreamReset

pytestmark = pytest.mark.integration

DEPARTMENT = "Access-Dept"
PEOPLE = [(f"AC{n:03d}", f"Person {n}", DEPARTMENT, "G3", date(2018, 1, 1)) for n in range(5)]


@pytest.fixture(scope="module")
async def people(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        assert (await import_employees(api, employees_csv(PEOPLE))).status_code == 200
    return PEOPLE


async def push(services, herald_env, employee: str, title: str, target: dict | None = None) -> None:
    """A push to the employee (private to them), or to `target` when given."""
    headers = herald_env.bearer("access-tests", ["service"])
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=headers
    ) as api:
        response = await api.post(
            "/v1/notifications",
            json={"title": title, "target": target or {"employee_ids": [employee]}},
        )
        assert response.status_code == 202


async def test_session_cookie_opens_a_stream_without_headers(services, herald_env, people):
    employee = "AC000"
    async with httpx.AsyncClient(base_url=services.notifier_url, timeout=None) as browser:
        opened = await browser.post(
            "/v1/session", headers=herald_env.bearer(employee, ["employee"])
        )
        assert opened.status_code == 200
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/v1" in cookie
        stream = await StreamRecorder(browser, "/v1/stream", {}).open()  # the cookie only
        assert stream.status == 200
        await push(services, herald_env, employee, "via cookie")
        [frame] = await stream.wait_for(1)
        assert frame.json()["data"]["title"] == "via cookie"
        await stream.close()
        assert (await browser.delete("/v1/session")).status_code == 204
        assert (await browser.get("/v1/stream")).status_code == 401


async def test_ticket_with_pusher_style_channel_signatures(services, herald_env, people):
    manager = herald_env.bearer("AC001", ["employee", "manager"], manages=DEPARTMENT)
    channel = f"private-department-{DEPARTMENT}"
    async with httpx.AsyncClient(base_url=services.notifier_url, timeout=None) as client:
        ticket = (await client.post("/v1/stream-tickets", headers=manager)).json()
        assert 0 < ticket["expires_in"] <= 60
        auth = (
            await client.post(
                "/v1/channel-auth",
                headers=manager,
                data={"socket_id": ticket["ticket"], "channel_name": channel},
            )
        ).json()["auth"]
        key, _, signature = auth.partition(":")
        assert key == "test-app-key"
        assert len(signature) == 64  # hex SHA-256
        assert auth == channel_auth.sign(
            key, herald_env.channel_auth_secret, ticket["ticket"], channel
        )
        as_json = await client.post(
            "/v1/channel-auth",
            headers=manager,
            json={"socket_id": ticket["ticket"], "channel_name": channel},
        )
        assert as_json.json()["auth"] == auth
        stream = await StreamRecorder(
            client,
            "/v1/stream",
            {"ticket": ticket["ticket"], "channels": channel, "channel_auth": auth},
        ).open()
        assert stream.status == 200
        # A push to the department: visible on its channel (a push to one person is not).
        await push(services, herald_env, "AC002", "for the team", {"department": DEPARTMENT})

        def of_ac002() -> list:
            return [f for f in stream.notifications if f.json()["data"]["employee_id"] == "AC002"]

        await stream.until(lambda: of_ac002() != [], what="AC002's copy on the department channel")
        assert of_ac002()[0].json()["data"]["title"] == "for the team"
        await stream.close()
        bad_name = await client.post(
            "/v1/channel-auth",
            headers=manager,
            data={"socket_id": "1.1", "channel_name": "private-employee-AC002\n"},
        )
        assert bad_name.status_code == 400


async def test_hr_admin_watches_an_allocation_complete(services, herald_env, people):
    admin = herald_env.bearer("AC003", ["employee", "hr-admin"])
    async with (
        httpx.AsyncClient(base_url=services.allocation_url, timeout=30, headers=admin) as api,
        httpx.AsyncClient(timeout=None) as sse,
    ):
        created = await api.post(
            "/v1/allocations",
            json={"voucher": voucher("Watched"), "criteria": {"departments": [DEPARTMENT]}},
        )
        allocation_id = created.json()["id"]
        watcher = await StreamRecorder(
            sse,
            f"{services.notifier_url}/v1/stream",
            {"channels": f"private-allocation-{allocation_id}"},
            headers=admin,
        ).open()
        await wait_until_finished(api, allocation_id)
        await watcher.until(
            lambda: watcher.of_type("herald.allocation.completed"), what="completion"
        )
        [done] = watcher.of_type("herald.allocation.completed")
        assert done.id is None  # progress frames never move Last-Event-ID
        assert done.json()["data"] == {
            "allocation_id": allocation_id,
            "status": "completed",
            "matched": 5,
            "inserted": 5,
            "published": 5,
            "reason": None,
        }
        await watcher.close()


async def test_too_many_missed_events_send_reset_instead_of_a_backlog(services, herald_env, people):
    employee = "AC004"
    auth = herald_env.bearer(employee, ["employee"])
    async with httpx.AsyncClient(timeout=None) as sse:
        first = await StreamRecorder(
            sse, f"{services.notifier_url}/v1/stream", {}, headers=auth
        ).open()
        await push(services, herald_env, employee, "seen")
        [seen] = await first.wait_for(1)
        await first.close()
        # The session's notifier replays at most 2000 events; miss more than that, written
        # straight into the inbox (as a writer would, under the writer lock).
        with psycopg.connect(herald_env.database_url) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (NOTIFICATIONS_WRITER_LOCK,))
            conn.execute(
                "INSERT INTO notifications (employee_id, department, kind, source, title, body, payload)"
                " SELECT %s, %s, 'herald.notification.pushed', '/test', 'old', '', "
                " json_build_object('employee_id', %s::text, 'department', %s::text, 'title', 'old', 'body', '')"
                " FROM generate_series(1, 2100)",
                (employee, DEPARTMENT, employee, DEPARTMENT),
            )
            latest = conn.execute(
                "SELECT max(id) FROM notifications WHERE employee_id = %s", (employee,)
            ).fetchone()[0]
        back = await StreamRecorder(
            sse,
            f"{services.notifier_url}/v1/stream",
            {},
            headers={**auth, "Last-Event-ID": seen.id},
        ).open()
        await back.until(lambda: back.of_type("reset"), what="reset")
        [reset] = back.of_type("reset")
        assert reset.id == str(latest)
        assert reset.json()["inbox"] == "/v1/notifications"
        StreamReset.model_validate(reset.json())  # as docs/asyncapi.yaml describes it
        await asyncio.sleep(0.5)
        assert back.notifications == [reset]  # no backlog was streamed
        await back.close()


async def test_open_streams_per_employee_are_capped(services, herald_env, people):
    auth = herald_env.bearer("AC002", ["employee"])
    async with httpx.AsyncClient(timeout=None) as sse:
        url = f"{services.notifier_url}/v1/stream"
        streams = [await StreamRecorder(sse, url, {}, headers=auth).open() for _ in range(8)]
        assert all(s.status == 200 for s in streams)
        ninth = await sse.get(url, headers=auth)
        assert ninth.status_code == 429
        assert ninth.headers["retry-after"]
        await asyncio.gather(*(s.close() for s in streams))


async def open_at_once(sse: httpx.AsyncClient, url: str, auth, count: int) -> list[StreamRecorder]:
    streams = [StreamRecorder(sse, url, {}, headers=auth) for _ in range(count)]
    return list(await asyncio.gather(*(s.open(timeout=30) for s in streams)))


async def test_the_stream_cap_holds_for_opens_at_the_same_moment(services, herald_env, people):
    """60 opens at once for one employee: 8 streams, 52 refusals; closing frees the slots."""
    auth = herald_env.bearer("AC003", ["employee"])
    url = f"{services.notifier_url}/v1/stream"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=None, limits=limits) as sse:
        streams = await open_at_once(sse, url, auth, 60)
        statuses = sorted(s.status or 0 for s in streams)
        assert statuses.count(200) == 8, statuses
        assert statuses.count(429) == 52, statuses
        await asyncio.gather(*(s.close() for s in streams))

        # The slots are released as the streams end: 8 open again, and not a ninth.
        async def eight_again() -> list[StreamRecorder]:
            while True:
                again = await open_at_once(sse, url, auth, 8)
                if all(s.status == 200 for s in again):
                    return again
                await asyncio.gather(*(s.close() for s in again))
                await asyncio.sleep(0.2)

        again = await asyncio.wait_for(eight_again(), 15)
        ninth = await sse.get(url, headers=auth)
        assert ninth.status_code == 429
        await asyncio.gather(*(s.close() for s in again))


async def test_a_stream_that_fails_to_open_gives_its_slot_back(services, herald_env, people):
    # Not in the employee directory: refused after the slot was reserved, ten times over.
    auth = herald_env.bearer("AC999", ["employee"])
    async with httpx.AsyncClient(base_url=services.notifier_url, timeout=30) as client:
        statuses = [(await client.get("/v1/stream", headers=auth)).status_code for _ in range(10)]
    assert statuses == [404] * 10


async def test_bodies_over_the_limit_are_413(services, herald_env, people):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        huge = {
            "title": "x",
            "data": {"blob": "y" * 2_000_000},
            "target": {"employee_ids": ["AC000"]},
        }
        response = await api.post("/v1/notifications", json=huge)
        assert response.status_code == 413


async def test_cors_only_for_configured_origins(services):
    # The session's services have no CORS origins configured: same-origin only.
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=30) as api:
        preflight = await api.options(
            "/v1/allocations",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers
        plain = await api.get("/v1/notifications", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in plain.headers


async def test_dev_token_helper_mints_tokens_for_demo_people(services, people):
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=30) as api:
        issued = await api.post(
            "/v1/dev/tokens", json={"employee_id": "AC000", "roles": ["employee", "manager"]}
        )
        assert issued.status_code == 200
        body = issued.json()
        assert (body["department"], body["manages"]) == (DEPARTMENT, DEPARTMENT)
        inbox = await api.get(
            "/v1/notifications/unread-count", headers={"Authorization": f"Bearer {body['token']}"}
        )
        assert inbox.status_code == 200
        assert (await api.post("/v1/dev/tokens", json={"employee_id": "nobody"})).status_code == 404


async def test_channel_auth_refuses_json_nested_past_the_parser_stack(services, herald_env):
    employee = herald_env.bearer("AC002", ["employee"])
    async with httpx.AsyncClient(base_url=services.notifier_url, timeout=30) as client:
        response = await client.post(
            "/v1/channel-auth",
            headers={**employee, "Content-Type": "application/json"},
            content=b"[" * 10_000,  # deeper than the parser's stack, under the body limit
        )
    assert response.status_code == 400


EXPIRING = "AC001"


async def expiring_stream(
    client: httpx.AsyncClient, credential: str, short_token: str
) -> StreamRecorder:
    """A stream opened with a token that expires in seconds, by one kind of credential."""
    url = "/v1/stream"
    bearer = {"Authorization": f"Bearer {short_token}"}
    if credential == "bearer":
        return await StreamRecorder(client, url, {}, headers=bearer).open()
    if credential == "cookie":
        assert (await client.post("/v1/session", headers=bearer)).status_code == 200
        return await StreamRecorder(client, url, {}).open()
    ticket = (await client.post("/v1/stream-tickets", headers=bearer)).json()["ticket"]
    return await StreamRecorder(client, url, {"ticket": ticket}).open()


@pytest.mark.parametrize("credential", ["bearer", "cookie", "ticket"])
async def test_a_stream_ends_when_its_token_expires(services, herald_env, people, credential):
    """The stream ends at the token's `exp` with a frame saying why, sends nothing after
    it, and a reconnect with a fresh token and Last-Event-ID replays what came since."""
    short = token(herald_env.auth_secret, EXPIRING, ["employee"], ttl_seconds=3)
    expires_at = int(time.time()) + 3  # `exp`, as the token was minted this second
    async with httpx.AsyncClient(base_url=services.notifier_url, timeout=None) as client:
        stream = await expiring_stream(client, credential, short)
        try:
            assert stream.status == 200
            await push(services, herald_env, EXPIRING, f"before expiry ({credential})")
            [before] = await stream.wait_for(1)
            await asyncio.sleep(max(0.0, expires_at - time.time()) + 0.05)
            await push(services, herald_env, EXPIRING, f"after expiry ({credential})")
            await stream.until(lambda: stream.of_type("token-expired"), 10, "token-expired")
            ended_at = time.time()
            await asyncio.wait_for(stream._task, 5)  # the server ended the stream
        finally:
            await stream.close()
        [*_, expired] = stream.events
        assert expired.event == "token-expired"
        assert expired.id is None  # Last-Event-ID stays on the last notification
        assert "expired" in expired.json()["reason"]
        assert stream.notifications == [before]  # nothing after the expiry
        assert ended_at - expires_at < 3

        fresh = herald_env.bearer(EXPIRING, ["employee"])
        again = await StreamRecorder(
            client, "/v1/stream", {}, headers={**fresh, "Last-Event-ID": before.id}
        ).open()
        try:
            [missed] = await again.wait_for(1)
        finally:
            await again.close()
            await client.delete("/v1/session")
        assert missed.json()["data"]["title"] == f"after expiry ({credential})"


async def test_a_token_past_its_expiry_opens_no_stream(services, herald_env, people):
    """Even within the verifier's leeway for clock skew: the stream would end at once."""
    expired = token(herald_env.auth_secret, EXPIRING, ["employee"], ttl_seconds=-5)
    bearer = {"Authorization": f"Bearer {expired}"}
    async with (
        httpx.AsyncClient(base_url=services.notifier_url, timeout=30) as client,
        client.stream("GET", "/v1/stream", headers=bearer) as response,
    ):
        assert response.status_code == 401
