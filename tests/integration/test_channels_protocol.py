"""The Pusher protocol (version 7) at the channels service: connection, channels and their
signatures, close codes, client events. The real-client scenarios are tests/pusher."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import HeraldEnv, channels_process
from tests.support.processes import ServiceProcess, free_port
from tests.support.pusher import PusherSocket

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def channels(herald_env: HeraldEnv) -> Iterator[int]:
    port = free_port()
    process: ServiceProcess = channels_process(
        herald_env,
        port,
        {
            "HERALD_CHANNELS_ACTIVITY_TIMEOUT_SECONDS": "2",
            "HERALD_CHANNELS_PONG_TIMEOUT_SECONDS": "2",
        },
    ).start()
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz")
        yield port
    finally:
        process.stop()


@pytest.fixture(scope="module")
def client_events(herald_env: HeraldEnv) -> Iterator[int]:
    port = free_port()
    process = channels_process(
        herald_env, port, {"HERALD_CHANNELS_CLIENT_EVENTS": "true"}, name="channels-client-events"
    ).start()
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz")
        yield port
    finally:
        process.stop()


async def _connected(port: int) -> PusherSocket:
    socket = await PusherSocket.open(port)
    await socket.established()
    return socket


async def test_connection_established_names_a_socket_id_and_the_activity_timeout(channels):
    socket = await PusherSocket.open(channels)
    data = await socket.established()
    assert re.fullmatch(r"\d+\.\d+", data["socket_id"])
    assert data["activity_timeout"] == 2
    await socket.close()


async def test_ping_is_answered_with_pong(channels):
    socket = await _connected(channels)
    await socket.send("pusher:ping", {})
    assert (await socket.next())["event"] == "pusher:pong"
    await socket.close()


async def test_an_unknown_app_key_is_closed_with_4001(channels):
    socket = await PusherSocket.open(channels, key="not-the-key")
    error = await socket.next()
    assert error["event"] == "pusher:error"
    assert error["data"]["code"] == 4001
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001


async def test_a_socket_that_misses_the_pong_is_closed_with_4201(channels):
    socket = await _connected(channels)
    # Silent for the activity timeout (2 s): the server pings; no pong within 2 s: closed.
    assert (await socket.next(timeout=5))["event"] == "pusher:ping"
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4201


async def test_a_public_channel_needs_no_auth(channels):
    socket = await _connected(channels)
    await socket.subscribe("news")
    succeeded = await socket.next()
    assert (succeeded["event"], succeeded["channel"]) == (
        "pusher_internal:subscription_succeeded",
        "news",
    )
    await socket.close()


async def test_a_private_channel_with_a_good_signature_is_subscribed(channels, herald_env):
    socket = await _connected(channels)
    await socket.subscribe("private-orders", herald_env.channel_auth_secret)
    assert (await socket.next())["event"] == "pusher_internal:subscription_succeeded"
    await socket.close()


async def test_a_bad_signature_is_a_subscription_error_and_the_socket_stays(channels):
    socket = await _connected(channels)
    await socket.subscribe("private-orders", "not-the-secret")
    error = await socket.next()
    assert error["event"] == "pusher:subscription_error"
    assert error["data"]["status"] == 401
    await socket.send("pusher:ping", {})
    assert (await socket.next())["event"] == "pusher:pong"
    await socket.close()


async def test_a_bad_sign_in_closes_with_4009_never_42xx(channels):
    socket = await _connected(channels)
    await socket.send("pusher:signin", {"auth": "test-app-key:0000", "user_data": '{"id":"u1"}'})
    error = await socket.next()
    assert error["data"]["code"] == 4009
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4009


async def test_client_events_are_refused_with_4301_by_default(channels, herald_env):
    socket = await _connected(channels)
    await socket.subscribe("private-chat", herald_env.channel_auth_secret)
    await socket.next()
    await socket.send("client-typing", {"who": "me"}, channel="private-chat")
    error = await socket.next()
    assert (error["event"], error["data"]["code"]) == ("pusher:error", 4301)
    await socket.close()


async def test_client_events_reach_the_other_subscribers_when_enabled(client_events, herald_env):
    sender, receiver = await _connected(client_events), await _connected(client_events)
    for socket in (sender, receiver):
        await socket.subscribe("private-chat", herald_env.channel_auth_secret)
        await socket.next()
    await sender.send("client-typing", {"who": "me"}, channel="private-chat")
    got = await receiver.until("client-typing")
    assert json.loads(got["data"]) == {"who": "me"}
    await sender.send("pusher:ping", {})
    # The sender does not hear its own event: the next thing it hears is the pong.
    assert (await sender.next())["event"] == "pusher:pong"
    for socket in (sender, receiver):
        await socket.close()


async def test_client_events_go_to_private_and_presence_channels_only(client_events):
    socket = await _connected(client_events)
    await socket.subscribe("news")
    await socket.next()
    await socket.send("client-typing", {}, channel="news")
    error = await socket.next()
    assert error["data"]["code"] == 4301
    await socket.close()


async def test_client_events_above_ten_per_second_are_refused(client_events, herald_env):
    socket = await _connected(client_events)
    await socket.subscribe("private-burst", herald_env.channel_auth_secret)
    await socket.next()
    for n in range(11):
        await socket.send("client-n", {"n": n}, channel="private-burst")
    error = await socket.until("pusher:error")
    assert error["data"]["code"] == 4301
    assert "10 client events per second" in error["data"]["message"]
    await socket.close()


async def test_presence_members_are_counted_per_user(client_events, herald_env):
    # On the replica with Pusher's own activity timeout: this client does not answer pings.
    channels = client_events
    channel = "presence-room-1"

    def member(user: str) -> str:
        return json.dumps({"user_id": user, "user_info": {"name": user}})

    watcher = await _connected(channels)
    await watcher.subscribe(channel, herald_env.channel_auth_secret, member("watcher"))
    await watcher.next()
    first, second = await _connected(channels), await _connected(channels)
    await first.subscribe(channel, herald_env.channel_auth_secret, member("alice"))
    succeeded = await first.next()
    assert json.loads(succeeded["data"])["presence"]["count"] == 2
    added = await watcher.until("pusher_internal:member_added")
    assert json.loads(added["data"])["user_id"] == "alice"
    # Alice's second socket: no second member_added; leaving with one: no member_removed.
    await second.subscribe(channel, herald_env.channel_auth_secret, member("alice"))
    assert json.loads((await second.next())["data"])["presence"]["count"] == 2
    await second.close()
    await first.close()
    removed = await watcher.until("pusher_internal:member_removed")
    assert json.loads(removed["data"]) == {"user_id": "alice"}
    with pytest.raises(TimeoutError):
        await watcher.until("pusher_internal:member_added", timeout=1)
    await watcher.close()
