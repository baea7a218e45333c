"""The Python `pusher` SDK (3.3.3) triggers, unmodified pusher-js 8 and Laravel Echo 2
(tests/pusher/driver.js) receive: across two channels processes on the real stack, live,
and for an employee who was offline, on return."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import psycopg
import pusher
import pytest

from tests.conftest import HeraldEnv, RunningServices, running_channels
from tests.support.auth import token
from tests.support.pusher_driver import PusherClients, of
from tests.support.voucher_events import new_employee

pytestmark = pytest.mark.integration

# The app of tests/conftest.py's HeraldEnv.
APP_ID, KEY = "4201", "test-app-key"


@pytest.fixture(scope="module")
def ports(herald_env: HeraldEnv, services: RunningServices) -> Iterator[tuple[int, ...]]:
    """Two channels processes: clients on the first, the SDK calling the second."""
    with running_channels(herald_env, 2, name="channels-sdk") as pair:
        yield pair


@pytest.fixture
async def clients() -> AsyncIterator[PusherClients]:
    driver = await PusherClients.start()
    yield driver
    await driver.close()


def sdk(env: HeraldEnv, port: int) -> pusher.Pusher:
    return pusher.Pusher(
        app_id=APP_ID,
        key=KEY,
        secret=env.channel_auth_secret,
        host="127.0.0.1",
        port=port,
        ssl=False,
    )


async def connect(
    clients: PusherClients, name: str, port: int, tok: str = "", echo: bool = False
) -> None:
    await clients.send(
        "echo" if echo else "connect",
        client=name,
        key=KEY,
        port=port,
        token=tok,
        authEndpoint=f"http://127.0.0.1:{port}/v1/channel-auth",
        userAuthEndpoint=f"http://127.0.0.1:{port}/v1/user-auth",
    )
    if not echo:
        await clients.wait(of(name, "connected"))


async def inbox_row(env: HeraldEnv, employee_id: str, timeout: float = 60) -> int:
    """The id of the employee's notification once the inserter has written it."""
    async with asyncio.timeout(timeout):
        while True:
            async with await psycopg.AsyncConnection.connect(env.database_url) as conn:
                row = await (
                    await conn.execute(
                        "SELECT max(id) FROM notifications WHERE employee_id = %s", (employee_id,)
                    )
                ).fetchone()
            if row is not None and row[0] is not None:
                return int(row[0])
            await asyncio.sleep(0.2)


async def test_a_trigger_reaches_pusher_js_through_the_other_process(clients, ports, herald_env):
    channel = f"news-{secrets.token_hex(3)}"
    await connect(clients, "reader", ports[0])
    await clients.send("subscribe", client="reader", channel=channel)
    await clients.wait(of("reader", "subscribed", channel=channel))
    answer = await asyncio.to_thread(
        sdk(herald_env, ports[1]).trigger, channel, "headline", {"n": 1}
    )
    assert answer == {}
    (heard,) = await clients.wait(of("reader", "event", channel=channel, event="headline"))
    assert heard["data"] == {"n": 1}


async def test_a_batch_reaches_pusher_js(clients, ports, herald_env):
    first, second = f"batch-a-{secrets.token_hex(3)}", f"batch-b-{secrets.token_hex(3)}"
    await connect(clients, "reader", ports[0])
    for channel in (first, second):
        await clients.send("subscribe", client="reader", channel=channel)
        await clients.wait(of("reader", "subscribed", channel=channel))
    batch = [
        {"channel": first, "name": "one", "data": {"i": 1}},
        {"channel": second, "name": "two", "data": {"i": 2}},
        {"channel": second, "name": "three", "data": {"i": 3}},
    ]
    assert await asyncio.to_thread(sdk(herald_env, ports[1]).trigger_batch, batch) == {}
    heard = [
        (await clients.wait(of("reader", "event", channel=channel, event=event)))[0]["data"]
        for channel, event in ((first, "one"), (second, "two"), (second, "three"))
    ]
    assert heard == [{"i": 1}, {"i": 2}, {"i": 3}]


async def test_echo_hears_a_triggered_employee_event_by_its_name(clients, ports, herald_env):
    employee_id = new_employee(herald_env, "SDK", "Sales")
    tok = token(herald_env.auth_secret, employee_id, ["employee"])
    await connect(clients, "echo", ports[0], tok, echo=True)
    await clients.send(
        "echoPrivate", client="echo", name=f"employee-{employee_id}", event="payslip-ready"
    )
    await clients.wait(of("echo", "subscribed"))
    await asyncio.to_thread(
        sdk(herald_env, ports[1]).trigger,
        f"private-employee-{employee_id}",
        "payslip-ready",
        {"month": "2026-11"},
    )
    (heard,) = await clients.wait(of("echo", "echo_event", event="payslip-ready"))
    assert heard["data"] == {"month": "2026-11"}


async def test_an_employee_offline_gets_the_triggered_event_once_on_return(
    clients, ports, herald_env
):
    employee_id = new_employee(herald_env, "SDK", "Sales")
    tok = token(herald_env.auth_secret, employee_id, ["employee"])
    channel = f"private-employee-{employee_id}"
    await connect(clients, "before", ports[0], tok)
    await clients.send("subscribe", client="before", channel=channel)
    await clients.wait(of("before", "subscribed", channel=channel))
    await clients.send("disconnect", client="before")
    await clients.wait(of("before", "disconnected"))
    await asyncio.to_thread(
        sdk(herald_env, ports[1]).trigger, channel, "payslip-ready", {"month": "2026-12"}
    )
    await inbox_row(herald_env, employee_id)
    await connect(clients, "after", ports[1], tok)
    await clients.send("subscribe", client="after", channel=channel)
    (heard,) = await clients.wait(of("after", "event", channel=channel, event="payslip-ready"))
    assert heard["data"] == {"month": "2026-12"}
    # The unread count follows the replay; nothing arrives twice.
    await clients.wait(of("after", "event", channel=channel, event="unread-count"))
    assert len(clients.seen(of("after", "event", event="payslip-ready"))) == 1


async def test_channel_state_counts_pusher_js_clients_on_both_processes(clients, ports, herald_env):
    room = f"presence-sdk-{secrets.token_hex(3)}"
    ann, bob = (new_employee(herald_env, "SDK", "Sales") for _ in range(2))
    sockets = (("ann-0", ann, 0), ("ann-1", ann, 1), ("bob-0", bob, 0))
    for name, employee_id, n in sockets:
        await connect(
            clients, name, ports[n], token(herald_env.auth_secret, employee_id, ["employee"])
        )
        await clients.send("subscribe", client=name, channel=room)
        await clients.wait(of(name, "subscribed", channel=room))
    api = sdk(herald_env, ports[1])
    info = await asyncio.to_thread(api.channel_info, room, ["user_count", "subscription_count"])
    users = await asyncio.to_thread(api.users_info, room)
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}
    assert sorted(user["id"] for user in users["users"]) == sorted([ann, bob])


async def test_terminate_from_the_sdk_closes_a_signed_in_pusher_js_on_the_other_process(
    clients, ports, herald_env
):
    employee_id = new_employee(herald_env, "SDK", "Sales")
    await connect(
        clients, "worker", ports[0], token(herald_env.auth_secret, employee_id, ["employee"])
    )
    await clients.send("signin", client="worker")
    await clients.wait(of("worker", "signed_in"))
    assert (
        await asyncio.to_thread(sdk(herald_env, ports[1]).terminate_user_connections, employee_id)
        == {}
    )
    (error,) = await clients.wait(of("worker", "error"))
    assert error["error"]["data"]["code"] == 4009
    await clients.wait(of("worker", "state", current="disconnected"))
