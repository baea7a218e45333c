"""The real Python `pusher` SDK (3.3.3) against the channels service, on real Kafka and
PostgreSQL: triggers and batches reach a WebSocket client, employee events become durable
notifications, channel state, terminate, and Pusher's 401s."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from unittest import mock

import httpx
import pusher
import pytest

from herald_common.auth.pusher_signature import signed_params
from herald_common.stream_frames import UNREAD_COUNT
from tests.conftest import channels_process
from tests.support.api import add_people
from tests.support.processes import free_port
from tests.support.pusher_recorder import RecordingSocket

pytestmark = pytest.mark.integration

APP_ID, KEY = "4242", "http-api-key"
SECRET = secrets.token_hex(16)
EMPLOYEE = "PH001"
PEOPLE = [(EMPLOYEE, "Pusher Person", "Pusher-Dept", "G3", date(2020, 1, 1))]


@pytest.fixture(scope="module")
def channels(herald_env, services) -> Iterator[str]:
    """A channels replica of this module's app (its id, key and secret)."""
    port = free_port()
    app = {
        "HERALD_CHANNELS_APP_ID": APP_ID,
        "HERALD_CHANNELS_APP_KEY": KEY,
        "HERALD_CHANNELS_APP_SECRET": SECRET,
    }
    process = channels_process(herald_env, port, app, name="channels-http-api").start()
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz")
        yield f"127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def people(services, herald_env):
    await add_people(services.allocation_url, herald_env.admin, PEOPLE)


def sdk(channels: str, secret: str = SECRET) -> pusher.Pusher:
    host, port = channels.split(":")
    return pusher.Pusher(
        app_id=APP_ID, key=KEY, secret=secret, host=host, port=int(port), ssl=False
    )


def socket(channels: str) -> RecordingSocket:
    return RecordingSocket(f"ws://{channels}", KEY, SECRET)


def fresh(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


async def test_trigger_reaches_a_subscribed_client(channels):
    channel = fresh("news-")
    async with socket(channels) as client:
        await client.subscribe(channel)
        answer = await asyncio.to_thread(sdk(channels).trigger, channel, "headline", {"n": 1})
        frame = await client.wait_for("headline", channel)
    assert answer == {}
    assert frame.data == {"n": 1}


async def test_trigger_on_several_channels_reaches_each(channels):
    first, second = fresh("a-"), fresh("private-b-")
    async with socket(channels) as one, socket(channels) as two:
        await one.subscribe(first)
        await two.subscribe(second)
        await asyncio.to_thread(sdk(channels).trigger, [first, second], "both", "plain text")
        assert (await one.wait_for("both", first)).data == "plain text"
        assert (await two.wait_for("both", second)).data == "plain text"


async def test_batch_reaches_the_client(channels):
    first, second = fresh("presence-batch-"), fresh("batch-")
    batch = [
        {"channel": first, "name": "one", "data": {"i": 1}},
        {"channel": second, "name": "two", "data": {"i": 2}},
        {"channel": second, "name": "three", "data": {"i": 3}},
    ]
    async with socket(channels) as client:
        await client.subscribe(first, user_id="batcher")
        await client.subscribe(second)
        assert await asyncio.to_thread(sdk(channels).trigger_batch, batch) == {}
        received = [
            (await client.wait_for("one", first)).data,
            (await client.wait_for("two", second)).data,
            (await client.wait_for("three", second)).data,
        ]
    assert received == [{"i": 1}, {"i": 2}, {"i": 3}]


async def test_socket_id_excludes_the_sender(channels):
    channel = fresh("chat-")
    async with socket(channels) as sender, socket(channels) as other:
        await sender.subscribe(channel)
        await other.subscribe(channel)
        client = sdk(channels)
        await asyncio.to_thread(client.trigger, channel, "said", "hi", sender.socket_id)
        await asyncio.to_thread(client.trigger, channel, "after", "x")
        await other.wait_for("said", channel)
        # Events of one channel arrive in order: once `after` is in, `said` was skipped.
        await sender.wait_for("after", channel)
        assert sender.events("said") == []


async def test_employee_event_while_offline_is_in_the_inbox_and_replayed(
    channels, people, services, herald_env
):
    channel = f"private-employee-{EMPLOYEE}"
    async with socket(channels) as earlier:
        # The app was open before: the channel's delivery watermark starts here.
        await earlier.subscribe(channel)
        await earlier.wait_for(UNREAD_COUNT, channel)
    marker = secrets.token_hex(4)
    await asyncio.to_thread(sdk(channels).trigger, channel, "payslip-ready", {"m": marker})
    async with httpx.AsyncClient(
        base_url=services.allocation_url,
        timeout=30,
        headers=herald_env.bearer(EMPLOYEE, ["employee"]),
    ) as inbox:
        row = await _inbox_row(inbox, marker)
    assert row["title"] == "payslip-ready"
    async with socket(channels) as client:
        await client.subscribe(channel)
        # The unread count follows the replay: everything missed has arrived before it.
        await client.wait_for(UNREAD_COUNT, channel)
        replayed = [f.data for f in client.events("payslip-ready", channel)]
    assert replayed == [{"m": marker}]


async def test_employee_event_reaches_the_online_client_live(channels, people):
    marker = secrets.token_hex(4)
    channel = f"private-employee-{EMPLOYEE}"
    async with socket(channels) as client:
        await client.subscribe(channel)
        await asyncio.to_thread(sdk(channels).trigger, channel, "live-one", {"m": marker})
        frame = await client.wait_for("live-one", channel)
    assert frame.data == {"m": marker}


@contextlib.asynccontextmanager
async def presence_room(channels: str) -> AsyncIterator[str]:
    """A presence channel held by ann (on two sockets) and bob (on one)."""
    room = fresh("presence-room-")
    async with socket(channels) as a1, socket(channels) as a2, socket(channels) as b:
        for client, user in ((a1, "ann"), (a2, "ann"), (b, "bob")):
            await client.subscribe(room, user_id=user)
        yield room


async def test_channel_info_counts_sockets_and_users(channels):
    async with presence_room(channels) as room:
        info = await asyncio.to_thread(
            sdk(channels).channel_info, room, ["user_count", "subscription_count"]
        )
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}


async def test_users_of_a_presence_channel_once_each(channels):
    async with presence_room(channels) as room:
        users = await asyncio.to_thread(sdk(channels).users_info, room)
    assert sorted(u["id"] for u in users["users"]) == ["ann", "bob"]


async def test_channels_lists_occupied_presence_channels_with_user_counts(channels):
    prefix = fresh("presence-list-")
    async with socket(channels) as a, socket(channels) as b:
        await a.subscribe(f"{prefix}-x", user_id="ann")
        await b.subscribe(f"{prefix}-x", user_id="bob")
        await b.subscribe(f"{prefix}-y", user_id="bob")
        listed = await asyncio.to_thread(
            sdk(channels).channels_info, prefix_filter=prefix, attributes=["user_count"]
        )
    assert listed == {
        "channels": {f"{prefix}-x": {"user_count": 2}, f"{prefix}-y": {"user_count": 1}}
    }


async def test_an_unoccupied_channel_is_not_occupied(channels):
    assert await asyncio.to_thread(sdk(channels).channel_info, fresh("empty-")) == {
        "occupied": False
    }


async def test_terminate_closes_only_that_users_connections(channels):
    user, other = fresh("u"), fresh("v")
    async with socket(channels) as mine, socket(channels) as also_mine, socket(channels) as theirs:
        await mine.sign_in(user)
        await also_mine.sign_in(user)
        await theirs.sign_in(other)
        # The path the Python SDK posts to: /users/{id}/terminate_connections, no prefix.
        assert await asyncio.to_thread(sdk(channels).terminate_user_connections, user) == {}
        codes = [await mine.closed(), await also_mine.closed()]
        assert theirs.close_code is None
    assert all(code is not None and 4000 <= code < 4100 for code in codes), codes


async def test_terminate_with_the_app_prefix(channels):
    user = fresh("w")
    async with socket(channels) as client:
        await client.sign_in(user)
        path = f"/apps/{APP_ID}/users/{user}/terminate_connections"
        response = await _signed_post(channels, path, b"{}")
        assert (response.status_code, response.json()) == (200, {})
        assert await client.closed() is not None


async def test_a_bad_signature_is_401(channels):
    channel = fresh("guarded-")
    async with socket(channels) as client:
        await client.subscribe(channel)
        with pytest.raises(pusher.errors.PusherBadAuth, match=r"^Invalid signature"):
            await asyncio.to_thread(sdk(channels, "wrong-secret").trigger, channel, "x", "y")
        await asyncio.to_thread(sdk(channels).trigger, channel, "after", "z")
        await client.wait_for("after", channel)
    assert client.events("x") == []


async def test_an_expired_timestamp_is_401_with_pushers_message(channels):
    stale = time.time() - 601
    with (
        mock.patch("pusher.http.time.time", return_value=stale),
        pytest.raises(pusher.errors.PusherBadAuth) as refused,
    ):
        await asyncio.to_thread(sdk(channels).trigger, fresh("late-"), "x", "y")
    assert str(refused.value).startswith("Timestamp expired: Given timestamp (")
    assert "not within 600s of server time" in str(refused.value)


async def test_data_over_10_kb_is_413(channels):
    body = json.dumps({"name": "big", "channels": ["big"], "data": "x" * 10241}).encode()
    response = await _signed_post(channels, f"/apps/{APP_ID}/events", body)
    assert response.status_code == 413
    assert response.text.startswith("Payload too large")


async def _signed_post(channels: str, path: str, body: bytes) -> httpx.Response:
    params = signed_params(KEY, SECRET, "POST", path, body, int(time.time()))
    async with httpx.AsyncClient(base_url=f"http://{channels}", timeout=30) as client:
        return await client.post(
            path, params=params, content=body, headers={"content-type": "application/json"}
        )


async def _inbox_row(inbox: httpx.AsyncClient, marker: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = (await inbox.get("/v1/notifications", params={"limit": 50})).json()["items"]
        for item in items:
            # The inbox item's data is the notification's payload; the push's data within.
            pusher_event = item["data"].get("data", {}).get("pusher", {})
            if pusher_event.get("data") == json.dumps({"m": marker}):
                return item
        await asyncio.sleep(0.3)
    raise AssertionError(f"no inbox row carries {marker}")
