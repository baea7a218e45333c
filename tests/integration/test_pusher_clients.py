"""Unmodified Pusher clients against Herald: pusher-js 8 and Laravel Echo 2 from npm
(tests/pusher/driver.js), talking to two channels processes on the real stack (Kafka,
PostgreSQL, the allocation API, inserter and notifier). Notifications are sent the way any
system sends them: POST /v1/notifications."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from tests.conftest import HeraldEnv, RunningServices, running_channels
from tests.support.api import wait_push
from tests.support.auth import token
from tests.support.pusher_driver import PusherClients, of
from tests.support.sse import StreamRecorder
from tests.support.voucher_events import new_employee

pytestmark = pytest.mark.integration

KEY = "test-app-key"
PUSHED = "herald.notification.pushed"


@dataclass(frozen=True)
class Replicas:
    ports: tuple[int, int]

    def auth_endpoint(self, n: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[n]}/v1/channel-auth"

    async def metric(self, n: int, name: str) -> float:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{self.ports[n]}/metrics")).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and not line.startswith("#")
        )


@pytest.fixture(scope="module")
def replicas(herald_env: HeraldEnv, services: RunningServices) -> Iterator[Replicas]:
    """Two channels processes; sockets here are silent for 3 s before the server pings."""
    timing = {
        "HERALD_CHANNELS_ACTIVITY_TIMEOUT_SECONDS": "3",
        "HERALD_CHANNELS_PONG_TIMEOUT_SECONDS": "2",
    }
    with running_channels(herald_env, 2, timing) as ports:
        yield Replicas((ports[0], ports[1]))


@pytest.fixture
async def clients() -> AsyncIterator[PusherClients]:
    driver = await PusherClients.start()
    yield driver
    await driver.close()


def _employee(env: HeraldEnv, department: str = "Sales") -> tuple[str, str]:
    employee_id = new_employee(env, "PJ", department)
    return employee_id, token(env.auth_secret, employee_id, ["employee"])


async def _push(services: RunningServices, env: HeraldEnv, employee_id: str, title: str) -> int:
    """One notification for `employee_id`, through the API; its notification id."""
    headers = env.bearer("pusher-tests", ["service"])
    async with httpx.AsyncClient(base_url=services.allocation_url, headers=headers) as api:
        response = await api.post(
            "/v1/notifications",
            json={"title": title, "body": "b", "target": {"employee_ids": [employee_id]}},
        )
        assert response.status_code == 202, response.text
        assert (await wait_push(api, response.json()["id"]))["status"] == "completed"
    with psycopg.connect(env.database_url) as conn:
        row = conn.execute(
            "SELECT max(id) FROM notifications WHERE employee_id = %s", (employee_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def _connect(
    clients: PusherClients, name: str, replicas: Replicas, tok: str, n: int = 0, **extra: object
) -> str:
    await clients.send(
        "connect",
        client=name,
        key=KEY,
        port=replicas.ports[n],
        token=tok,
        authEndpoint=replicas.auth_endpoint(n),
        userAuthEndpoint=f"http://127.0.0.1:{replicas.ports[n]}/v1/user-auth",
        **extra,
    )
    (connected,) = await clients.wait(of(name, "connected"))
    return str(connected["socket_id"])


def _notification_ids(clients: PusherClients, name: str, channel: str) -> list[int]:
    return [
        int(r["data"]["id"]) for r in clients.seen(of(name, "event", channel=channel, event=PUSHED))
    ]


async def test_pusher_js_connects(clients, replicas, herald_env):
    _, tok = _employee(herald_env)
    socket_id = await _connect(clients, "a", replicas, tok)
    assert re.fullmatch(r"\d+\.\d+", socket_id)
    assert clients.seen(of("a", "state", current="connected"))


async def test_echo_private_channel_is_authorized_and_hears_the_employees_notifications(
    clients, replicas, herald_env, services
):
    employee_id, tok = _employee(herald_env)
    await clients.send(
        "echo", client="e", key=KEY, port=replicas.ports[0], token=tok,
        authEndpoint=replicas.auth_endpoint(),
    )  # fmt: skip
    await clients.send("echoPrivate", client="e", name=f"employee-{employee_id}", event=PUSHED)
    await clients.wait(of("e", "subscribed"))
    notification_id = await _push(services, herald_env, employee_id, "Echo hears this")
    (heard,) = await clients.wait(of("e", "echo_event"))
    assert heard["data"]["id"] == str(notification_id)
    assert heard["data"]["data"]["title"] == "Echo hears this"


async def test_a_channel_auth_refused_by_herald_is_a_subscription_error_403(
    clients, replicas, herald_env
):
    other, _ = _employee(herald_env)
    _, tok = _employee(herald_env)
    await _connect(clients, "a", replicas, tok)
    await clients.send("subscribe", client="a", channel=f"private-employee-{other}")
    (error,) = await clients.wait(of("a", "subscription_error"))
    assert error["status"] == 403
    # The connection stays up: a refused channel is not a reason to reconnect.
    assert not clients.seen(of("a", "state", current="disconnected"))


async def test_a_refused_sign_in_closes_with_4009_and_the_client_does_not_reconnect(
    clients, replicas, herald_env
):
    _, tok = _employee(herald_env)
    opened = await replicas.metric(0, "herald_channels_connections_opened_total")
    await _connect(clients, "a", replicas, tok, forgedUserAuth=True)
    await clients.send("signin", client="a")
    (error,) = await clients.wait(of("a", "error"))
    assert error["error"]["data"]["code"] == 4009
    await clients.wait(of("a", "state", current="disconnected"))
    # Long enough for several of pusher-js's reconnect attempts, were it to make them.
    await asyncio.sleep(6)
    assert len(clients.seen(of("a", "connected"))) == 1
    assert await replicas.metric(0, "herald_channels_connections_opened_total") == opened + 1
    assert await replicas.metric(0, 'herald_channels_closes_total{code="4009"}') >= 1


async def test_presence_across_two_processes_counts_members_once_per_user(
    clients, replicas, herald_env
):
    room = f"floor-{secrets.token_hex(3)}"
    channel = f"presence-{room}"
    alice, alice_token = _employee(herald_env)
    bob, bob_token = _employee(herald_env)
    for name, tok, n in (("alice", alice_token, 0), ("bob", bob_token, 1)):
        await clients.send(
            "echo", client=name, key=KEY, port=replicas.ports[n], token=tok,
            authEndpoint=replicas.auth_endpoint(n),
        )  # fmt: skip
        await clients.send("echoJoin", client=name, name=room)
        await clients.wait(of(name, "here"))
    (bobs_view,) = clients.seen(of("bob", "here"))
    assert sorted(bobs_view["ids"]) == sorted([alice, bob])
    (added,) = await clients.wait(of("alice", "member_added", channel=channel))
    assert added["id"] == bob
    # Bob again, from a second socket on the other process: still one member.
    await _connect(clients, "bob-2", replicas, bob_token, n=0)
    await clients.send("subscribe", client="bob-2", channel=channel)
    await clients.wait(of("bob-2", "subscribed"))
    await asyncio.sleep(2)
    assert len(clients.seen(of("alice", "member_added"))) == 1
    # Bob's first socket goes: he is still there. His last goes: one member_removed.
    await clients.send("disconnect", client="bob")
    await asyncio.sleep(2)
    assert not clients.seen(of("alice", "member_removed"))
    await clients.send("disconnect", client="bob-2")
    (removed,) = await clients.wait(of("alice", "member_removed"))
    assert removed["id"] == bob
    await asyncio.sleep(2)
    assert len(clients.seen(of("alice", "member_removed"))) == 1


async def test_offline_then_back_replays_exactly_the_missed_notifications_without_a_cursor(
    clients, replicas, herald_env, services
):
    employee_id, tok = _employee(herald_env)
    channel = f"private-employee-{employee_id}"
    await _connect(clients, "before", replicas, tok)
    await clients.send("subscribe", client="before", channel=channel)
    await clients.wait(of("before", "subscribed"))
    first = await _push(services, herald_env, employee_id, "seen live")
    await clients.wait(of("before", "event", channel=channel, event=PUSHED))
    # The client's pong after the write confirms it: the channel's watermark moves to `first`.
    await _wait_watermark(herald_env, channel, first)
    await clients.send("disconnect", client="before")
    missed = [await _push(services, herald_env, employee_id, f"missed {n}") for n in range(3)]
    # Back, on the other process, with an unmodified client (no cursor of its own).
    await _connect(clients, "after", replicas, tok, n=1)
    await clients.send("subscribe", client="after", channel=channel)
    (count,) = await clients.wait(of("after", "event", channel=channel, event="unread-count"))
    assert count["data"] == {"unread": 4}
    await asyncio.sleep(2)
    assert _notification_ids(clients, "after", channel) == missed
    events = [r["event"] for r in clients.seen(of("after", "event", channel=channel))]
    assert events == [PUSHED, PUSHED, PUSHED, "unread-count"]


async def test_a_cursor_in_the_auth_params_replays_everything_after_it(
    clients, replicas, herald_env, services
):
    employee_id, tok = _employee(herald_env)
    channel = f"private-employee-{employee_id}"
    ids = [await _push(services, herald_env, employee_id, f"n{n}") for n in range(4)]
    # pusher-js channelAuthorization.params: the last id the app holds.
    await _connect(clients, "a", replicas, tok, params={"last_id": str(ids[0])})
    await clients.send("subscribe", client="a", channel=channel)
    await clients.wait(of("a", "event", channel=channel, event="unread-count"))
    assert _notification_ids(clients, "a", channel) == ids[1:]
    fresh = await _push(services, herald_env, employee_id, "live after the replay")
    await clients.wait(of("a", "event", channel=channel, event=PUSHED), count=4)
    await asyncio.sleep(1)
    assert _notification_ids(clients, "a", channel) == [*ids[1:], fresh]


async def test_a_client_whose_pongs_are_lost_is_closed_with_4201_and_reconnects(
    clients, replicas, herald_env
):
    _, tok = _employee(herald_env)
    closed = await replicas.metric(0, 'herald_channels_closes_total{code="4201"}')
    first = await _connect(clients, "a", replicas, tok)
    await clients.send("goSilent", client="a")
    # 3 s silent: the server pings; 2 s without a pong: 4201, and pusher-js reconnects.
    second = await clients.wait(of("a", "connected"), count=2, timeout=30)
    assert second[1]["socket_id"] != first
    assert await replicas.metric(0, 'herald_channels_closes_total{code="4201"}') == closed + 1


async def test_one_notification_arrives_once_on_sse_and_once_on_the_socket(
    clients, replicas, herald_env, services
):
    employee_id, tok = _employee(herald_env)
    channel = f"private-employee-{employee_id}"
    await _connect(clients, "a", replicas, tok)
    await clients.send("subscribe", client="a", channel=channel)
    await clients.wait(of("a", "subscribed"))
    async with httpx.AsyncClient(base_url=services.notifier_url) as http:
        stream = await StreamRecorder(
            http, "/v1/stream", {}, headers={"Authorization": f"Bearer {tok}"}
        ).open()
        try:
            notification_id = await _push(services, herald_env, employee_id, "both ways")
            await stream.wait_for(1)
            await clients.wait(of("a", "event", channel=channel, event=PUSHED))
            await asyncio.sleep(2)
            assert [f.id for f in stream.notifications] == [str(notification_id)]
            assert _notification_ids(clients, "a", channel) == [notification_id]
        finally:
            await stream.close()


async def _wait_watermark(env: HeraldEnv, channel: str, notification_id: int) -> None:
    async def reached() -> None:
        while True:
            async with await psycopg.AsyncConnection.connect(env.database_url) as conn:
                row = await (
                    await conn.execute(
                        "SELECT delivered_id FROM channel_watermarks WHERE channel = %s",
                        (channel,),
                    )
                ).fetchone()
            if row is not None and row[0] >= notification_id:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(reached(), 15)
